// The time left before a breach's deadline, counted down on the page: each
// <time datetime="…" data-countdown> reads "47 hours 12 minutes left", "59 minutes left" or
// "overdue by 3 hours", in the words of the server's breaches.times.remaining, and is
// rewritten every 30 seconds. aria-live is off on each, so a
// screen reader is not interrupted; the page says in hidden text that the count updates.
// Importing the module starts the count.
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function words(due, now = Date.now()) {
  const seconds = Math.trunc((due - now) / 1000);
  const span = Math.floor(Math.abs(seconds) / 60);
  const hours = Math.floor(span / 60);
  const minutes = span % 60;
  const parts = hours ? [plural(hours, "hour")] : [];
  if (minutes || !hours) parts.push(plural(minutes, "minute"));
  const text = parts.join(" ");
  return seconds >= 0 ? `${text} left` : `overdue by ${text}`;
}

export function initCountdowns(root = document) {
  const clocks = Array.from(root.querySelectorAll("time[data-countdown]"))
    .map((element) => ({ element, due: Date.parse(element.getAttribute("datetime")) }))
    .filter((clock) => !Number.isNaN(clock.due));
  if (!clocks.length) return;
  const tick = () => {
    clocks.forEach(({ element, due }) => {
      element.textContent = words(due);
    });
  };
  tick();
  window.setInterval(tick, 30000);
}
initCountdowns();

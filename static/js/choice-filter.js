// A long list of checkboxes becomes a search-as-you-type choice: the boxes already ticked
// stay listed, the others show only while they match what is typed. Without JavaScript the
// whole list is shown, and the form works the same.
export function initChoiceFilters(root = document) {
  root.querySelectorAll("[data-choice-filter]").forEach((wrapper) => {
    if (wrapper.dataset.choiceFilterReady) return;
    wrapper.dataset.choiceFilterReady = "true";
    const fieldset = wrapper.querySelector("fieldset");
    const items = Array.from(wrapper.querySelectorAll(".govuk-checkboxes__item"));
    if (!fieldset || !items.length) return;
    const noun = wrapper.dataset.choiceFilter || "item";
    const id = `${fieldset.querySelector("input")?.name || "choices"}-search`;

    const group = document.createElement("div");
    group.className = "govuk-form-group govuk-!-margin-bottom-3";
    group.innerHTML =
      `<label class="govuk-label" for="${id}">Find ${noun}</label>` +
      `<div class="govuk-hint" id="${id}-hint">Type part of a title or a section. What you ` +
      `have chosen stays listed.</div>` +
      `<input class="govuk-input govuk-!-width-two-thirds" id="${id}" type="search" ` +
      `autocomplete="off" spellcheck="false" aria-describedby="${id}-hint ${id}-status">` +
      `<p class="govuk-body-s govuk-!-margin-top-2" id="${id}-status" role="status"></p>`;
    const legend = fieldset.querySelector(".govuk-hint") || fieldset.querySelector("legend");
    legend.after(group);
    const input = group.querySelector("input");
    const status = group.querySelector("[role=status]");

    const text = (item) => item.textContent.toLowerCase().replace(/\s+/g, " ");
    const filter = () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      let matching = 0;
      let chosen = 0;
      items.forEach((item) => {
        const checked = item.querySelector("input").checked;
        const matches = words.length > 0 && words.every((w) => text(item).includes(w));
        item.style.display = checked || matches ? "" : "none"; // GOV.UK styles outrank [hidden]
        if (checked) chosen += 1;
        if (matches && !checked) matching += 1;
      });
      const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
      status.textContent = words.length
        ? `${plural(matching, "more match")}; ${chosen} chosen.`
        : `${chosen} chosen of the library's ${items.length}. Type to find others.`;
    };
    input.addEventListener("input", filter);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") event.preventDefault(); // not the form's submit
    });
    filter();
  });
}

"""The real components the fault suite (and the benchmark) break on purpose.

- `MailServer`: an SMTP server (aiosmtpd) in this process on a free local port. It records
  every message it accepts with its X-Accord-Message header, can be slowed down, and can be
  told to refuse for a while: every message at RCPT or DATA, or one address, with any code
  (451: try again later; 550: no such mailbox).
- `RedisServer`: a redis-server process on a free port, without persistence, that a test
  stops and starts again.
- `WorkerProcess`: `celery -A accord worker` as a subprocess (optionally with beat embedded)
  on a given broker, database and mail server, that a test can SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
HEADER = "X-Accord-Message"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a broker (or anything) that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


def wait_until(condition, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `condition()` until it returns something true; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:g} seconds")
        time.sleep(interval)


# --- SMTP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    message_id: str  # the X-Accord-Message header: the outbox row's id
    to: tuple[str, ...]
    subject: str
    body: str
    at: float  # time.time() when the server accepted it


@dataclass
class _Refusal:
    code: int
    text: str


@dataclass
class _Policy:
    delay: float = 0.0
    at_rcpt: _Refusal | None = None
    at_data: _Refusal | None = None
    addresses: dict[str, _Refusal] = field(default_factory=dict)


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        policy = self.server.policy
        refusal = policy.addresses.get(address.lower()) or policy.at_rcpt
        if refusal is not None:
            self.server.refused.append((address, refusal.code))
            return f"{refusal.code} {refusal.text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        policy = self.server.policy
        if policy.at_data is not None:
            self.server.refused.append((",".join(envelope.rcpt_tos), policy.at_data.code))
            return f"{policy.at_data.code} {policy.at_data.text}"
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        body = ""
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                body = part.get_payload(decode=True).decode(errors="replace")
                break
        # Taken, as a real server has once it has stored the message: it is delivered even
        # if the client goes away before it hears the 250 (a slow server says it late).
        self.server.record(
            Received(
                message_id=str(message.get(HEADER, "")),
                to=tuple(envelope.rcpt_tos),
                subject=str(message.get("Subject", "")),
                body=body,
                at=time.time(),
            )
        )
        if policy.delay:
            await asyncio.sleep(policy.delay)
        return "250 Message accepted for delivery"


class MailServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd in a thread of this process)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.policy = _Policy()
        self.refused: list[tuple[str, int]] = []
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command

    # Running

    def start(self) -> MailServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The EMAIL_URL that sends to this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def django_settings(self) -> dict[str, Any]:
        """The settings that send to this server (what EMAIL_URL=self.url gives)."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": 10,
        }

    # Behaviour

    def slow(self, seconds: float) -> None:
        """Take this long to say 250 after taking each message."""
        self.policy.delay = seconds

    def refuse(self, code: int, text: str = "", *, at: str = "rcpt") -> None:
        """Refuse every message from now on, at RCPT (each recipient) or at DATA."""
        refusal = _Refusal(code, text or _default_text(code))
        if at == "rcpt":
            self.policy.at_rcpt = refusal
        elif at == "data":
            self.policy.at_data = refusal
        else:
            raise ValueError(at)

    def refuse_address(self, address: str, code: int, text: str = "") -> None:
        self.policy.addresses[address.lower()] = _Refusal(code, text or _default_text(code))

    def accept(self) -> None:
        """Accept everything again (the slowness stays)."""
        self.policy.at_rcpt = self.policy.at_data = None
        self.policy.addresses.clear()

    # What arrived

    def record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def ids(self) -> Counter[str]:
        """How many times each outbox message arrived."""
        return Counter(r.message_id for r in self.received)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
        self.refused.clear()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        wait_until(
            lambda: len(self.received) >= count,
            timeout,
            f"the mail server did not receive {count} messages",
        )
        return self.received


def _default_text(code: int) -> str:
    if 400 <= code < 500:
        return "4.7.1 Service temporarily unavailable, try again later"
    return "5.1.1 Mailbox unavailable: no such user here"


# --- Redis ---------------------------------------------------------------------------------


class RedisServer:
    """A redis-server process of its own on a free port, without persistence."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)

    def running(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--daemonize", "no", "--dir", tempfile.gettempdir()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(self.running, 10, f"redis-server did not start on port {self.port}")
        except AssertionError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        assert not self.running(), f"redis-server on port {self.port} still answers"

    def queued(self, queue: str = "celery") -> int:
        return int(self.client().llen(queue))


def point_celery_at(app, url: str) -> None:
    """Publish the app's tasks to `url` from now on.

    The app's pools are forgotten, not closed: kombu keeps one pool a broker URL for the whole
    process, and a closed (drained) pool would make every later publish to that URL wait
    forever. Going back to a URL finds its pool as it was."""
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app.conf.broker_url = url


# --- A Celery worker process -----------------------------------------------------------------


def database_url(settings_dict: dict[str, Any]) -> str:
    """A DATABASE_URL for the database Django is connected to (the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class WorkerProcess:
    """`celery -A accord worker --pool=solo` in its own process, logging to a file."""

    def __init__(
        self,
        *,
        broker_url: str,
        database_url: str,
        email_url: str,
        beat: bool = False,
        env: dict[str, str] | None = None,
        log_dir: str | None = None,
    ) -> None:
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="accord-worker-"))
        self.log_path = self.log_dir / f"worker-{time.time_ns()}.log"
        self.beat = beat
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "accord.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": broker_url,
            "EMAIL_URL": email_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "celery", "-A", "accord", "worker", "--pool=solo"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        command += ["--loglevel=INFO", "-n", f"faults-{os.getpid()}-{time.time_ns()}@%h"]
        if self.beat:
            command += ["-B", "--schedule", str(self.log_dir / "beat-schedule")]
        return command

    def start(self, timeout: float = 60) -> WorkerProcess:
        log = self.log_path.open("ab")
        # Its own process group: beat's child goes with it when it is stopped.
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(
            lambda: self.process.poll() is not None or " ready." in self.log(),
            timeout,
            "the worker did not start",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"The worker exited at start:\n{self.log()[-4000:]}")
        return self

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, nothing finished."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 20) -> None:
        """A warm shutdown (SIGTERM); then SIGKILL to whatever of its group is left."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

"""A real TCP proxy between the kiosk's client and the central service that misbehaves on purpose.

Each connection carries one HTTP request (the proxy asks both sides for `Connection: close`), so a
fault chosen per connection is a fault per request. Faults come from a seeded RNG, so a trial can
be replayed. The ones marked *after* forward the request first: the service applied it, and the
kiosk never hears so — the case an idempotency key exists for.

    pass           forward, answer faithfully
    delay_before   wait, then forward (a wait longer than the client's timeout: applied, unheard)
    delay_mid      forward, send half the answer, wait, send the rest
    truncate       forward, send half the answer, close
    drop_before    close without forwarding or answering (FIN)
    drop_after     forward, then close without answering
    reset_before   RST (SO_LINGER 0) without forwarding
    reset_after    forward, then RST
    error_before   answer 500/502/503 without forwarding
    error_after    forward, then answer 500/502/503 instead of the service's answer
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

FAULTS = (
    "pass",
    "delay_before",
    "delay_mid",
    "truncate",
    "drop_before",
    "drop_after",
    "reset_before",
    "reset_after",
    "error_before",
    "error_after",
)
FORWARDING = frozenset(
    ("pass", "delay_before", "delay_mid", "truncate", "drop_after", "reset_after", "error_after")
)
HEAD_END = b"\r\n\r\n"
MAX_HEAD = 64 * 1024
IO_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class FaultMix:
    """How often each fault happens (`rate` of the connections are faulty) and how long delays are."""

    rate: float = 0.0
    weights: dict[str, float] = field(
        default_factory=lambda: {kind: 1.0 for kind in FAULTS if kind != "pass"}
    )
    delay_s: tuple[float, float] = (0.01, 0.4)

    def pick(self, rng: random.Random) -> str:
        if rng.random() >= self.rate:
            return "pass"
        kinds = list(self.weights)
        return rng.choices(kinds, weights=[self.weights[k] for k in kinds])[0]


PASS_ONLY = FaultMix(rate=0.0)


class BadRequest(Exception):
    """What came is not an HTTP/1.1 message the proxy can frame."""


def _read_message(sock: socket.socket, *, until_eof: bool) -> bytes:
    """One HTTP message: head, then `Content-Length` bytes of body (or all bytes to EOF)."""
    data = b""
    while HEAD_END not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise BadRequest("closed before the end of the head")
        data += chunk
        if len(data) > MAX_HEAD and HEAD_END not in data:
            raise BadRequest("head too long")
    head, _, body = data.partition(HEAD_END)
    if until_eof:
        while chunk := sock.recv(65536):
            body += chunk
        return head + HEAD_END + body
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError as exc:
                raise BadRequest("bad Content-Length") from exc
        elif name.strip().lower() == b"transfer-encoding":
            raise BadRequest("chunked bodies are not framed by this proxy")
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise BadRequest("closed inside the body")
        body += chunk
    return head + HEAD_END + body[:length]


def _closing(message: bytes) -> bytes:
    """The message with its `Connection` header replaced by `Connection: close`."""
    head, _, body = message.partition(HEAD_END)
    lines = [
        line
        for line in head.split(b"\r\n")
        if line.split(b":", 1)[0].strip().lower() not in (b"connection", b"keep-alive")
    ]
    return b"\r\n".join([*lines, b"Connection: close"]) + HEAD_END + body


def _error_page(status: int) -> bytes:
    reasons = {500: b"Internal Server Error", 502: b"Bad Gateway", 503: b"Service Unavailable"}
    body = b"<html><body><h1>%d %s</h1>nginx</body></html>" % (status, reasons[status])
    head = b"HTTP/1.1 %d %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\n" % (
        status,
        reasons[status],
        len(body),
    )
    return head + b"Connection: close" + HEAD_END + body


def _reset(sock: socket.socket) -> None:
    # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FaultProxy:
    """Listens on loopback and forwards to `upstream_url`, misbehaving as `configure` says."""

    def __init__(self, upstream_url: str, *, seed: int = 0, mix: FaultMix = PASS_ONLY) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._mix = mix
        self.counts: Counter[str] = Counter()
        self.forwarded = 0
        self.bad_requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stopping = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    # ---- control -----------------------------------------------------------------------------

    def configure(self, *, seed: int | None = None, mix: FaultMix | None = None) -> None:
        """Reseed and/or change the fault mix; connections opened from now on follow it."""
        with self._lock:
            if seed is not None:
                self._rng = random.Random(seed)
            if mix is not None:
                self._mix = mix

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)

    def start(self) -> FaultProxy:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._acceptor.join(timeout=2)
        self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ---- the work ----------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _choose(self) -> tuple[str, float, int]:
        with self._lock:
            kind = self._mix.pick(self._rng)
            delay = self._rng.uniform(*self._mix.delay_s)
            status = self._rng.choice((500, 502, 503))
            self.counts[kind] += 1
        return kind, delay, status

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(IO_TIMEOUT_S)
        try:
            request = _read_message(client, until_eof=False)
        except (BadRequest, OSError):
            with self._lock:
                self.bad_requests += 1
            client.close()
            return
        kind, delay, status = self._choose()
        try:
            self._act(client, request, kind, delay, status)
        except (OSError, BadRequest):
            # The kiosk went away (timed out, or was killed), or the service's answer was not
            # HTTP: either way the connection just ends.
            pass
        finally:
            with contextlib.suppress(OSError):
                client.close()

    def _act(
        self, client: socket.socket, request: bytes, kind: str, delay: float, status: int
    ) -> None:
        if kind == "drop_before":
            return  # the finally closes with FIN
        if kind == "reset_before":
            _reset(client)
            return
        if kind == "error_before":
            client.sendall(_error_page(status))
            return
        if kind == "delay_before":
            time.sleep(delay)
        response = self._forward(request)
        if kind == "drop_after":
            return
        if kind == "reset_after":
            _reset(client)
            return
        if kind == "error_after":
            client.sendall(_error_page(status))
            return
        half = len(response) // 2
        if kind == "truncate":
            client.sendall(response[:half])
            return
        if kind == "delay_mid":
            client.sendall(response[:half])
            time.sleep(delay)
            client.sendall(response[half:])
            return
        client.sendall(response)

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self._upstream, timeout=IO_TIMEOUT_S) as upstream:
            upstream.sendall(_closing(request))
            with self._lock:
                self.forwarded += 1
            # The service closes after answering a `Connection: close` request.
            return _closing(_read_message(upstream, until_eof=True))

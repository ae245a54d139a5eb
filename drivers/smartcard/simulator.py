"""A virtual card in pcscd's vpcd reader, for development and tests: the real PC/SC stack, our card.

vpcd (Debian ``vsmartcard-vpcd``) is a pcscd reader driver that listens on TCP (35963 for the
first reader, 35964 for the second). A card "is inserted" while a client is connected. Each
message, both ways, is a 2-byte big-endian length and a payload; one-byte payloads from vpcd are
control codes (0 power off, 1 power on, 2 reset, 4 "send your ATR"), anything longer is a
command APDU to answer. vpcd blocks on an empty answer, so when a virtual card answers b""
(`VirtualCard.inject(b"")`) the client takes it as the card falling out of the reader and
disconnects instead, as a real card losing contact would.

`VpcdClient` is only that socket protocol; the card's logic lives in `sim_cards`. `insert()`
connects, `remove()` disconnects; the client reconnects on its own if vpcd goes away (pcscd
restarted) while the card is meant to be inserted. Fault knobs: `hold_next_apdu()` stalls the
next command until released or the card is removed (unplug mid-transaction).

Run ``python -m drivers.smartcard.simulator --card social|technician`` to insert a demo card
into a running pcscd until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import select
import socket
import struct
import threading
import time
from types import TracebackType

from drivers.smartcard.sim_cards import (
    BlankCard,
    ReplayingTechnicianCard,
    SocialSecurityCardSim,
    TechnicianCardSim,
    VirtualCard,
    make_atr,
)

__all__ = [
    "DEFAULT_PORT",
    "BlankCard",
    "ReplayingTechnicianCard",
    "SocialSecurityCardSim",
    "TechnicianCardSim",
    "VirtualCard",
    "VpcdClient",
    "make_atr",
]

log = logging.getLogger("drivers.smartcard.simulator")

DEFAULT_PORT = 35963
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4
_RETRY_S = 0.1  # how often to try vpcd again while it is not listening
_IDLE_S = 0.1  # how long the serving thread waits for input before checking its flags


EPHEMERAL_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"


def _ephemeral_low() -> int:
    try:
        with open(EPHEMERAL_RANGE_FILE, encoding="ascii") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default range starts here


def vpcd_port(count: int = 1) -> int:
    """A TCP port (with the `count - 1` after it) that vpcd inside a pcscd can listen on.

    Free now, and below the kernel's ephemeral range: a port from bind(0) is in that range, so
    an outgoing connection of this machine may take it before pcscd starts and binds it (seen
    under load as vpcd's "Address already in use", a reader that never appears).
    """
    low = _ephemeral_low()
    start = max(1024, low - 12000)
    for _ in range(200):
        port = random.randrange(start, low - count)
        try:
            with contextlib.ExitStack() as probes:
                for offset in range(count):
                    probe = probes.enter_context(socket.socket())
                    probe.bind(("0.0.0.0", port + offset))
        except OSError:
            continue
        return port
    raise OSError("no free TCP port for vpcd below the ephemeral range")


class VpcdClient:
    """Connects a `VirtualCard` to vpcd at `host:port` and serves it in a thread."""

    def __init__(
        self,
        card: VirtualCard | None = None,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        inserted: bool = True,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._want_inserted = inserted and card is not None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = threading.Event()
        self._disconnected = threading.Event()
        self._disconnected.set()
        self._hold: threading.Event | None = None
        self._held = threading.Event()
        self.connections = 0  # how many times vpcd accepted us: a test sees reconnects

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> VpcdClient:
        """Start serving (and connect, if the card is inserted); returns self."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="vpcd-card", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Remove the card and stop the thread."""
        self._want_inserted = False
        self._stop.set()
        self._release_hold()
        self._close_socket()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> VpcdClient:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the card in the reader --------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether vpcd currently has our connection (the card is in the reader)."""
        return self._connected.is_set()

    def insert(self, card: VirtualCard | None = None, *, wait: float = 5.0) -> None:
        """Put `card` (or the current one) in the reader; waits until vpcd accepts it."""
        if card is not None:
            self.card = card
        if self.card is None:
            raise ValueError("no card to insert")
        self._want_inserted = True
        self.start()
        if wait and not self._connected.wait(wait):
            raise TimeoutError(f"vpcd on {self.host}:{self.port} did not accept the card")

    def remove(self, *, wait: float = 5.0) -> None:
        """Take the card out: close the connection (vpcd sees the card gone)."""
        self._want_inserted = False
        self._release_hold()
        self._close_socket()
        if wait:
            self._disconnected.wait(wait)

    def hold_next_apdu(self) -> threading.Event:
        """Stall the next command APDU unanswered; the returned event fires once it arrived."""
        self._held.clear()
        self._hold = threading.Event()
        return self._held

    def release(self) -> None:
        """Let a held command be answered."""
        self._release_hold()

    def _release_hold(self) -> None:
        hold, self._hold = self._hold, None
        if hold is not None:
            hold.set()

    # -- serving -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._want_inserted:
                self._stop.wait(_IDLE_S)
                continue
            sock = self._connect()
            if sock is None:
                self._stop.wait(_RETRY_S)
                continue
            try:
                self._serve(sock)
            except OSError:
                pass  # the socket closed under us: `remove` or vpcd going away
            except Exception:
                # Never die silently: a broken exchange is a pulled card, not a dead simulator.
                log.exception("virtual card connection failed")
            finally:
                self._close_socket()

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=1.0)
        except OSError:
            return None  # vpcd not listening (pcscd stopped or restarting): try again later
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        with self._lock:
            if not self._want_inserted or self._stop.is_set():
                sock.close()
                return None
            self._sock = sock
        self.connections += 1
        self._disconnected.clear()
        self._connected.set()
        log.debug("virtual card inserted into vpcd %s:%d", self.host, self.port)
        return sock

    def _close_socket(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._connected.is_set() and sock is not None:
            self._connected.clear()
            self._disconnected.set()
            log.debug("virtual card removed from vpcd %s:%d", self.host, self.port)

    def _serve(self, sock: socket.socket) -> None:
        while not self._stop.is_set() and self._want_inserted:
            ready, _, _ = select.select([sock], [], [], _IDLE_S)
            if not ready:
                continue
            message = self._receive(sock)
            if message is None:
                return  # vpcd closed the connection (pcscd stopped)
            answer = self._answer(message)
            if answer is not None:
                sock.sendall(struct.pack(">H", len(answer)) + answer)

    def _receive(self, sock: socket.socket) -> bytes | None:
        header = _recv_exact(sock, 2)
        if header is None:
            return None
        (size,) = struct.unpack(">H", header)
        return _recv_exact(sock, size)

    def _answer(self, message: bytes) -> bytes | None:
        card = self.card
        if card is None:
            return b""
        if len(message) == 1:
            code = message[0]
            if code == CTRL_ATR:
                return card.atr
            if code == CTRL_ON:
                card.power_on()
            elif code == CTRL_OFF:
                card.power_off()
            elif code == CTRL_RESET:
                card.reset()
            return None  # control messages other than ATR get no answer
        hold = self._hold
        if hold is not None:
            self._held.set()
            hold.wait()
            if not self._want_inserted:
                return None  # the card was pulled while the command was under way
        answer = card.process(message)
        if not answer:
            self._want_inserted = False  # the card lost contact: leave the reader
            return None
        return answer


_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        try:
            chunk = sock.recv(size - len(data))
            if _QUICKACK is not None:
                # vpcd leaves Nagle on and its messages arrive in two segments here, so
                # acknowledging at once saves a 40 ms delayed ACK on every command.
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def demo_card(kind: str) -> VirtualCard:
    """A demo card by name: ``social``, ``technician`` (fixed demo key) or ``blank``."""
    if kind == "social":
        return SocialSecurityCardSim()
    if kind == "technician":
        from cryptography.hazmat.primitives.asymmetric import ed25519

        key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # demo only
        return TechnicianCardSim(key, "T0001")
    if kind == "blank":
        return BlankCard()
    raise ValueError(f"unknown card kind {kind!r}")


def main(argv: list[str] | None = None) -> int:
    """Insert a demo card into vpcd until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m drivers.smartcard.simulator",
        description="a virtual smart card in pcscd's vpcd reader",
    )
    parser.add_argument("--card", choices=["social", "technician", "blank"], default="social")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="vpcd port (35963)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    client = VpcdClient(demo_card(args.card), args.host, args.port)
    with client:
        print(f"{args.card} card for vpcd at {args.host}:{args.port}; Ctrl-C to remove", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A private pcscd with vpcd readers, for tests that go through the real PC/SC stack.

    from tests.support.pcsc import shared_pcscd

    daemon = shared_pcscd()                       # skips (or fails in CI) if it cannot run
    client = daemon.insert(SocialSecurityCardSim())   # a VpcdClient, card seen by pcscd
    device = open_smartcard(daemon.url(0))        # pcsc://Kiosk Test PCD 00 00
    ...
    daemon.remove_all()                           # in teardown

Isolation. pcscd always serves ``/run/pcscd/pcscd.comm`` (the path is compiled in, and at exit it
deletes that path whoever owns it), so a second pcscd next to a system one would break it. The
helper therefore runs pcscd in a private mount namespace (``unshare --mount``, or with
``--user --map-root-user`` when not root) where a temporary directory is bind-mounted over
``/run/pcscd``; the socket then appears in that directory and the test process points
libpcsclite at it with ``PCSCLITE_CSOCK_NAME``. Its vpcd readers listen on a free port pair, and
its reader.conf.d is our own, so several test runs (and a system pcscd) never meet. Without
namespaces it falls back to a plain pcscd when no other one is running and /run/pcscd can be
used. Otherwise tests skip with the reason, except when ``CI`` or ``KIOSK_REQUIRE_PCSCD=1`` is set,
where they fail: in CI a silent skip would hide a broken driver.

libpcsclite reads ``PCSCLITE_CSOCK_NAME`` once per process, so there is one daemon per process
(`shared_pcscd`), restartable in place, stopped at exit. pcscd gets SIGTERM if the test process
dies (PR_SET_PDEATHSIG), and cleans up after itself.

Needs Debian ``pcscd`` and ``vsmartcard-vpcd``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from drivers.smartcard.simulator import VirtualCard, VpcdClient, vpcd_port
from kiosk.children import die_with_parent

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER_NAME = "Kiosk Test PCD"
REQUIRE_ENV = "KIOSK_REQUIRE_PCSCD"

# Inside the namespace: give pcscd a private /run/pcscd (on a private /run if it has none).
_NAMESPACE_SCRIPT = """set -e
if [ ! -d /run/pcscd ]; then
  mount -t tmpfs -o mode=0755 kiosk-test-run /run
  mkdir /run/pcscd
fi
mount --bind "$1" /run/pcscd
exec "$3" --foreground --info --config "$2"
"""


class PcscdUnavailable(RuntimeError):
    """pcscd cannot be run here; the message says why."""


@dataclass(frozen=True)
class VirtualReader:
    """One vpcd reader slot: its PC/SC name and the TCP port a virtual card connects to."""

    name: str
    port: int


def _free_port_pair() -> int:
    """A port p with p and p+1 both free (vpcd opens two readers on consecutive ports)."""
    try:
        return vpcd_port(2)
    except OSError as exc:
        raise PcscdUnavailable(str(exc)) from exc


def _pcscd_binary() -> str:
    found = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    if not found:
        raise PcscdUnavailable("pcscd is not installed (Debian package pcscd)")
    if not VPCD_DRIVER.exists():
        raise PcscdUnavailable(f"{VPCD_DRIVER} missing (Debian package vsmartcard-vpcd)")
    return found


def _system_pcscd_running() -> bool:
    try:
        pid = int(Path("/run/pcscd/pcscd.pid").read_text().strip("\0\n "))
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PcscDaemon:
    """A pcscd of our own with two vpcd readers (`readers`), startable, stoppable, restartable."""

    def __init__(self, workdir: Path | None = None, *, reader_name: str = READER_NAME) -> None:
        self.binary = _pcscd_binary()
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kiosk-pcscd-"))
        self.ipc_dir = self.workdir / "ipc"
        self.conf_dir = self.workdir / "reader.conf.d"
        self.log_path = self.workdir / "pcscd.log"
        self.reader_name = reader_name
        self.port = _free_port_pair()
        self.mode = ""  # "namespace" or "direct", decided by the first start
        self.process: subprocess.Popen[bytes] | None = None
        self._clients: list[VpcdClient] = []
        self.ipc_dir.mkdir(parents=True, exist_ok=True)
        self.conf_dir.mkdir(parents=True, exist_ok=True)

    # -- addresses -------------------------------------------------------------------------

    @property
    def socket_path(self) -> Path:
        """Where libpcsclite must connect (PCSCLITE_CSOCK_NAME)."""
        if self.mode == "direct":
            return Path("/run/pcscd/pcscd.comm")
        return self.ipc_dir / "pcscd.comm"

    @property
    def readers(self) -> list[VirtualReader]:
        """The two vpcd slots of the main reader entry."""
        return [
            VirtualReader(f"{self.reader_name} 00 00", self.port),
            VirtualReader(f"{self.reader_name} 00 01", self.port + 1),
        ]

    def url(self, slot: int = 0) -> str:
        """``pcsc://<reader name>`` for a slot."""
        return f"pcsc://{self.readers[slot].name}"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> PcscDaemon:
        """Start pcscd and wait until it lists our readers; `PcscdUnavailable` if it cannot."""
        if self.running:
            return self
        self._write_config()
        modes = [self.mode] if self.mode else ["namespace", "direct"]
        reasons: list[str] = []
        for mode in modes:
            try:
                self._launch(mode)
                self._wait_ready(timeout)
            except PcscdUnavailable as exc:
                reasons.append(f"{mode}: {exc}")
                self._terminate()
                continue
            self.mode = mode
            return self
        self.mode = "" if len(modes) > 1 else self.mode
        raise PcscdUnavailable("; ".join(reasons))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop pcscd (SIGTERM, then SIGKILL); virtual cards stay, trying to reconnect."""
        self._terminate(timeout)

    def restart(self, timeout: float = 10.0) -> None:
        """Stop and start again with the same socket, ports and configuration."""
        self.stop()
        self.start(timeout)

    @property
    def running(self) -> bool:
        """Whether our pcscd process is alive."""
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The end of pcscd's log, for failure messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- virtual cards ---------------------------------------------------------------------

    def insert(
        self, card: VirtualCard, slot: int | VirtualReader = 0, *, wait: float = 5.0
    ) -> VpcdClient:
        """Put `card` into a reader and wait until pcscd sees it; returns its client."""
        reader = slot if isinstance(slot, VirtualReader) else self.readers[slot]
        client = VpcdClient(card, port=reader.port)
        self._clients.append(client)
        client.insert(wait=wait)
        if wait:
            self.wait_card(reader.name, present=True, timeout=wait)
        return client

    def remove_all(self) -> None:
        """Remove every card inserted through `insert` and stop their clients."""
        clients, self._clients = self._clients, []
        for client in clients:
            client.stop()

    def wait_card(self, reader: str, *, present: bool, timeout: float = 5.0) -> None:
        """Wait until pcscd reports a card in `reader` (or its absence)."""
        from smartcard import scard

        rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rv != 0:
            raise AssertionError(f"pcscd not reachable: {scard.SCardGetErrorMessage(rv)}")
        try:
            deadline = time.monotonic() + timeout
            state = scard.SCARD_STATE_UNAWARE
            while True:
                remaining = max(0, int((deadline - time.monotonic()) * 1000))
                rv, states = scard.SCardGetStatusChange(ctx, remaining, [(reader, state)])
                if rv == 0:
                    state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                    has_card = bool(state & scard.SCARD_STATE_PRESENT)
                    if has_card == present:
                        return
                if time.monotonic() >= deadline:
                    raise AssertionError(
                        f"pcscd did not see the card {'arrive in' if present else 'leave'}"
                        f" {reader!r} within {timeout}s\n{self.log_tail()}"
                    )
        finally:
            scard.SCardReleaseContext(ctx)

    # -- internals -------------------------------------------------------------------------

    def _write_config(self) -> None:
        for old in self.conf_dir.iterdir():
            old.unlink()
        # One entry only: vpcd keeps its sockets per slot number, so a second entry would
        # take over the first one's slots.
        (self.conf_dir / "vpcd").write_text(
            f'FRIENDLYNAME "{self.reader_name}"\n'
            f"DEVICENAME   /dev/null:0x{self.port:04X}\n"
            f"LIBPATH      {VPCD_DRIVER}\n"
            f"CHANNELID    0x{self.port:04X}\n"
        )

    def _launch(self, mode: str) -> None:
        pcscd_args = ["--foreground", "--info", "--config", str(self.conf_dir)]
        if mode == "namespace":
            unshare = shutil.which("unshare") or shutil.which("unshare", path="/usr/bin:/bin")
            if not unshare:
                raise PcscdUnavailable("unshare (util-linux) is not installed")
            ns = ["--mount", "--propagation", "private"]
            if os.geteuid() != 0:
                ns = ["--user", "--map-root-user", *ns]
            script = [unshare, *ns, "sh", "-c", _NAMESPACE_SCRIPT, "sh"]
            argv = [*script, str(self.ipc_dir), str(self.conf_dir), self.binary]
        else:
            if _system_pcscd_running():
                raise PcscdUnavailable("another pcscd is running and namespaces are unavailable")
            argv = [self.binary, *pcscd_args]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,  # PR_SET_PDEATHSIG must run in the child
            )
        self.mode = mode

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.socket_path.exists():
            if self.process is None or self.process.poll() is not None:
                raise PcscdUnavailable(f"pcscd exited: {self.log_tail(5) or 'no output'}")
            if time.monotonic() > deadline:
                raise PcscdUnavailable(f"pcscd did not open its socket in {timeout}s")
            time.sleep(0.02)
        _point_libpcsclite_at(self.socket_path)
        wanted = {reader.name for reader in self.readers}
        from smartcard import scard

        while True:
            rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if rv == 0:
                rv, names = scard.SCardListReaders(ctx, [])
                scard.SCardReleaseContext(ctx)
                if rv == 0 and wanted <= set(names):
                    return
            if time.monotonic() > deadline:
                raise PcscdUnavailable(
                    f"pcscd did not list {sorted(wanted)} in {timeout}s: {self.log_tail(5)}"
                )
            time.sleep(0.05)

    def _terminate(self, timeout: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        # pcscd removes its socket on a clean exit; after SIGKILL we do.
        if self.mode == "namespace":
            for leftover in ("pcscd.comm", "pcscd.pid"):
                with contextlib.suppress(FileNotFoundError):
                    (self.ipc_dir / leftover).unlink()

    def close(self) -> None:
        """Stop everything and delete the work directory."""
        self.remove_all()
        self._terminate()
        shutil.rmtree(self.workdir, ignore_errors=True)


_BOUND_SOCKET = ""


def _point_libpcsclite_at(path: Path) -> None:
    global _BOUND_SOCKET
    if _BOUND_SOCKET and str(path) != _BOUND_SOCKET:
        # libpcsclite caches the socket name on first use: a second daemon is unreachable.
        raise PcscdUnavailable(f"this process already talks to the pcscd at {_BOUND_SOCKET}")
    _BOUND_SOCKET = str(path)
    os.environ["PCSCLITE_CSOCK_NAME"] = str(path)


_SHARED: PcscDaemon | None = None
_SHARED_FAILURE = ""


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") == "1" or os.environ.get("CI", "") not in (
        "",
        "0",
        "false",
    )


def shared_pcscd() -> PcscDaemon:
    """This process's pcscd, started on first use; skips the test (fails in CI) if impossible."""
    global _SHARED, _SHARED_FAILURE
    if _SHARED is None and not _SHARED_FAILURE:
        try:
            daemon = PcscDaemon()
        except PcscdUnavailable as exc:
            _SHARED_FAILURE = str(exc)
        else:
            try:
                daemon.start()
            except PcscdUnavailable as exc:
                _SHARED_FAILURE = str(exc)
                daemon.close()
            else:
                _SHARED = daemon
                atexit.register(daemon.close)
    if _SHARED is None:
        message = f"cannot run a private pcscd: {_SHARED_FAILURE}"
        if _required():
            pytest.fail(message)
        pytest.skip(message)
    if not _SHARED.running:
        _SHARED.start()  # a test stopped it and failed before restarting
    return _SHARED

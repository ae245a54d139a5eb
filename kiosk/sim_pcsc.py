"""The simulated smart card reader: a private pcscd with a vpcd reader, and a virtual card in it.

In a hall pcscd is a system service; in the embedded default the kiosk starts its own, so the
smart card driver meets the real PC/SC stack (pyscard -> libpcsclite -> pcscd -> vpcd) and
`drivers.smartcard.simulator.VpcdClient` plays the social security card of a seeded person.

pcscd's client socket is compiled in (/run/pcscd/pcscd.comm). The daemon therefore runs in a
private mount namespace (`unshare --mount`, with `--user --map-root-user` when not root) where a
temporary directory is bound over /run/pcscd, and this process points libpcsclite at it with
PCSCLITE_CSOCK_NAME. libpcsclite reads that variable once per process, so it is set before any
PC/SC call, and a process already bound to another pcscd does not get a simulated reader.
The same technique as tests/support/pcsc.py, which tests keep for their own daemons.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from drivers.smartcard.simulator import VirtualCard, VpcdClient, vpcd_port
from kiosk.children import die_with_parent

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER_NAME = "KioskSimPCD"  # no spaces: it goes into a pcsc:// URL
SOCKET_ENV = "PCSCLITE_CSOCK_NAME"

_NAMESPACE_SCRIPT = """set -e
if [ ! -d /run/pcscd ]; then
  mount -t tmpfs -o mode=0755 kiosk-sim-run /run
  mkdir /run/pcscd
fi
mount --bind "$1" /run/pcscd
exec "$3" --foreground --config "$2"
"""


class PcscdUnavailable(RuntimeError):
    """pcscd cannot be run here; the message says why in one line."""


def preflight() -> tuple[str, str]:
    """(pcscd, unshare) paths, or `PcscdUnavailable` saying what is missing. Fast: no processes."""
    pcscd = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    if not pcscd:
        raise PcscdUnavailable("pcscd is not installed (Debian package pcscd)")
    if not VPCD_DRIVER.exists():
        raise PcscdUnavailable(f"{VPCD_DRIVER} is missing (Debian package vsmartcard-vpcd)")
    unshare = shutil.which("unshare") or shutil.which("unshare", path="/usr/bin:/bin")
    if not unshare:
        raise PcscdUnavailable("unshare (util-linux) is not installed")
    bound = os.environ.get(SOCKET_ENV)
    if bound:
        raise PcscdUnavailable(f"this process already talks to the pcscd at {bound}")
    return pcscd, unshare


class SimulatedSmartCardReader:
    """A private pcscd with one vpcd reader; `start()` may run in a background thread."""

    def __init__(self, card: VirtualCard) -> None:
        self._pcscd, self._unshare = preflight()
        self.card = card
        self.workdir = Path(tempfile.mkdtemp(prefix="kiosk-pcscd-"))
        self.socket_path = self.workdir / "ipc" / "pcscd.comm"
        self.port = vpcd_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.client: VpcdClient | None = None
        # Set now, before any PC/SC call in this process: libpcsclite reads it once.
        os.environ[SOCKET_ENV] = str(self.socket_path)

    @property
    def url(self) -> str:
        """The smart card driver's URL: this reader only."""
        return f"pcsc://{READER_NAME}"

    def start(self, timeout: float = 10.0) -> None:
        """Start pcscd, wait for its socket, and insert the card; `PcscdUnavailable` if not."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start pcscd without waiting for it.

        Call it from a thread that lives as long as the kiosk (the main thread): pcscd gets
        SIGTERM when the thread that started it ends (PR_SET_PDEATHSIG follows the thread).
        """
        conf = self.workdir / "reader.conf.d"
        conf.mkdir()
        self.socket_path.parent.mkdir()
        # DEVICENAME's number is vpcd's TCP port; CHANNELID keeps the slot numbering apart.
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{READER_NAME}"\nDEVICENAME   /dev/null:0x{self.port:04X}\n'
            f"LIBPATH      {VPCD_DRIVER}\nCHANNELID    0x{self.port:04X}\n"
        )
        ns = ["--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            ns = ["--user", "--map-root-user", *ns]
        argv = [self._unshare, *ns, "sh", "-c", _NAMESPACE_SCRIPT, "sh"]
        with (self.workdir / "pcscd.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*argv, str(self.socket_path.parent), str(conf), self._pcscd],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - prctl must run in the child
                start_new_session=True,  # Ctrl-C reaches the kiosk, which stops pcscd itself
            )

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until pcscd listens, then insert the card; `PcscdUnavailable` if it does not."""
        if self.process is None:
            raise PcscdUnavailable("pcscd was not launched")
        deadline = time.monotonic() + timeout
        while not self.socket_path.exists():
            if self.process.poll() is not None:
                raise PcscdUnavailable(f"pcscd exited: {self._log_tail()}")
            if time.monotonic() > deadline:
                raise PcscdUnavailable(f"pcscd did not open its socket in {timeout:g} s")
            time.sleep(0.02)
        # The reader starts empty, as in a hall: a card that was in it at boot would identify
        # somebody before anybody came. `insert_card()` plays the resident's hand.
        self.client = VpcdClient(self.card, port=self.port, inserted=False)
        self.client.start()

    def insert_card(self) -> None:
        """The resident inserts the card (the driver sees it arrive)."""
        if self.client is not None:
            self.client.insert(self.card)

    def remove_card(self) -> None:
        """The resident takes the card out."""
        if self.client is not None and self.client.connected:
            self.client.remove()

    def stop(self) -> None:
        """Remove the card, stop pcscd, delete the work directory."""
        if self.client is not None:
            self.client.stop()
            self.client = None
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _log_tail(self) -> str:
        try:
            lines = (self.workdir / "pcscd.log").read_text(errors="replace").splitlines()
        except OSError:
            return "no output"
        return " | ".join(lines[-3:]) or "no output"

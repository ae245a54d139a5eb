"""The simulated A4 printer: a private, real cupsd whose one queue prints into a folder.

The kiosk's document printer driver speaks IPP to this cupsd exactly as it does to a hall's CUPS
(`cups://kiosk-a4?server=<socket>`). The queue's backend is a small script speaking the real CUPS
backend protocol: it copies each job's PDF to the printed folder, or, while the paper is out,
reports `STATE: +media-empty-error` and fails the job, as a printer running dry mid-job does.

Why not `ippeveprinter` (cups-ipp-utils): it will not start without a DNS-SD daemon on a system
bus, even with advertising off, and it addresses printers and jobs as `/ipp/print[/ID]` where the
driver speaks CUPS's `/printers/Q` and `/jobs/ID`. A private cupsd starts in ~30 ms and needs no
driver change.

Everything lives in one temporary directory (config, socket, spool, logs); nothing is written
outside it but the printed PDFs. Job file names carry the job id, never the title.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

CUPSD = "/usr/sbin/cupsd"
CUPS_LIB = Path("/usr/lib/cups")
QUEUE = "kiosk-a4"
PAPER_LOADED_TITLE = "kiosk-sim-paper-loaded"  # the backend's cue that paper was put back

# $1 job id, $2 user, $3 title, $4 copies, $5 options, $6 file (or the document on stdin).
_BACKEND = r"""#!/bin/sh
if [ $# -eq 0 ]; then echo 'direct kioskpaper "Kiosk" "Kiosk simulated A4 printer"'; exit 0; fi
if [ "$3" = "{loaded}" ]; then
  [ $# -ge 6 ] || cat > /dev/null
  echo "STATE: -media-empty-error" >&2; echo "INFO: paper loaded" >&2; exit 0
fi
if [ -e "{flag}" ]; then
  [ $# -ge 6 ] || cat > /dev/null
  echo "STATE: +media-empty-error" >&2; echo "ERROR: Out of paper" >&2; exit 1
fi
echo "STATE: -media-empty-error" >&2
out="{out}/$(date +%Y%m%d-%H%M%S)-job$1-$$.pdf"
if [ $# -ge 6 ]; then cp "$6" "$out.part"; else cat > "$out.part"; fi
mv "$out.part" "$out"
exit 0
"""


class CupsUnavailable(RuntimeError):
    """cupsd cannot be run here; the message says why in one line."""


def skip_reason() -> str | None:
    """Why the simulated A4 printer cannot run here, or None."""
    if not Path(CUPSD).exists():
        return "cupsd is not installed (Debian package cups)"
    if not CUPS_LIB.is_dir():
        return f"{CUPS_LIB} is missing (Debian package cups)"
    return None


class SimulatedDocumentPrinter:
    """A private cupsd with one raw queue `kiosk-a4` printing PDFs into `printed_dir`."""

    def __init__(self, printed_dir: str | Path) -> None:
        self.printed_dir = Path(printed_dir)
        # /tmp, short: a unix socket path must stay under 108 bytes
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-a4-"))
        self.socket = self.root / "cups.sock"
        self._paper_flag = self.root / "paper-out"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The driver URL of the queue."""
        return f"cups://{QUEUE}?server={quote(str(self.socket), safe='/')}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Write the configuration, start cupsd and wait until it listens."""
        reason = skip_reason()
        if reason:
            raise CupsUnavailable(reason)
        self.printed_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self._process = subprocess.Popen(
            [CUPSD, "-f", "-c", str(self.root / "cupsd.conf"), "-s", str(self.root / "files.conf")],
            stdin=subprocess.DEVNULL,
            stdout=(self.root / "log" / "stdout").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stop() reaches backends too
        )
        deadline = time.monotonic() + timeout
        while not self._accepts():
            if self._process.poll() is not None:
                raise CupsUnavailable(f"cupsd exited with {self._process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise CupsUnavailable(f"cupsd did not listen within {timeout:g} s")
            time.sleep(0.02)
        log.info("simulated A4 printer on %s, printed pages in %s", self.url, self.printed_dir)

    def stop(self) -> None:
        """Stop cupsd and its backends, and remove the temporary directory."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)
            with contextlib.suppress(ProcessLookupError):  # a backend left in the group
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- paper -----------------------------------------------------------------------------

    def run_out_of_paper(self) -> None:
        """The next job stops with media-empty, and the printer says paper out until reloaded."""
        self._paper_flag.touch()

    def load_paper(self, timeout: float = 10.0) -> None:
        """Put paper back: the printer's sensor clears media-empty (through the backend)."""
        from drivers.docprinter.cups_client import CupsClient
        from drivers.docprinter.jobs import JobState, job_outcome

        self._paper_flag.unlink(missing_ok=True)
        client = CupsClient(str(self.socket))
        try:
            job_id = client.submit(QUEUE, b"%PDF-1.4\n", title=PAPER_LOADED_TITLE, options={})
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                state = job_outcome(job_id, client.job_attributes(job_id, ["job-state"])).state
                if state is JobState.COMPLETED:
                    return
                time.sleep(0.05)
            raise CupsUnavailable(f"the paper-loaded signal did not finish in {timeout:g} s")
        finally:
            client.close()

    def printed(self) -> list[Path]:
        """The PDFs printed so far, oldest first."""
        return sorted(self.printed_dir.glob("*.pdf"), key=lambda p: p.stat().st_mtime_ns)

    # -- setup -----------------------------------------------------------------------------

    def _accepts(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        return True

    def _write_config(self) -> None:
        root = self.root
        root.chmod(0o755)  # backends and filters run as another user when cupsd is root
        for sub in ("etc", "spool/tmp", "run", "cache", "log", "bin/backend"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        # A private ServerBin: the system's filters by symlink, and our backend alone.
        for entry in CUPS_LIB.iterdir():
            if entry.name != "backend":
                (root / "bin" / entry.name).symlink_to(entry)
        backend = root / "bin" / "backend" / "kioskpaper"
        backend.write_text(
            _BACKEND.replace("{loaded}", PAPER_LOADED_TITLE)
            .replace("{flag}", str(self._paper_flag))
            .replace("{out}", str(self.printed_dir.resolve()))
        )
        # 0700: cupsd runs such a backend as its own user, who may write the printed folder
        backend.chmod(0o700)
        (root / "cupsd.conf").write_text(
            f"LogLevel warn\nListen {self.socket}\nBrowsing No\nWebInterface No\n"
            "PreserveJobFiles No\nPreserveJobHistory Yes\nMaxJobs 50\n"
            # Private socket in a private directory: nobody else can reach it.
            "<Policy default>\n  JobPrivateAccess all\n  JobPrivateValues none\n"
            "  SubscriptionPrivateAccess all\n  SubscriptionPrivateValues none\n"
            "  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
        )
        (root / "files.conf").write_text(
            f"ServerRoot {root / 'etc'}\nServerBin {root / 'bin'}\n"
            f"RequestRoot {root / 'spool'}\nTempDir {root / 'spool/tmp'}\n"
            f"StateDir {root / 'run'}\nCacheDir {root / 'cache'}\n"
            f"ErrorLog {root / 'log/error_log'}\nAccessLog {root / 'log/access_log'}\n"
            f"PageLog {root / 'log/page_log'}\nFileDevice No\n"
        )
        # A raw queue (no PPD): the PDF reaches the backend unchanged.
        (root / "etc" / "printers.conf").write_text(
            f"<DefaultPrinter {QUEUE}>\nInfo Kiosk A4 (simulated)\nDeviceURI kioskpaper:/\n"
            "State Idle\nAccepting Yes\nShared No\nJobSheets none none\nOpPolicy default\n"
            "ErrorPolicy abort-job\n</DefaultPrinter>\n"
        )

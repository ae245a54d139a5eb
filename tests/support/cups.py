"""A private, real cupsd for tests: its own config, socket, spool, logs and cups-pdf output.

    with running_cups() as cups:          # skips the test when cupsd is not installed
        url = cups.add_pdf_queue("kioskpdf")   # cups://kioskpdf?server=/tmp/kcups-.../cups.sock
        ...                                # print to it; cups.wait_for_pdfs(1) finds the output

Isolation, so tests never touch or clash with a system cupsd and can run twice in a row:

* everything lives in a fresh temporary directory (ServerRoot, RequestRoot, StateDir, CacheDir,
  TempDir, logs); cupsd listens only on a unix socket there, no TCP port;
* ServerBin is a private copy made of symlinks to /usr/lib/cups plus one test backend,
  `kiosktest:/MODE`, which plays a printer that fails, hangs, or reports a state such as
  `media-empty-error` through the real CUPS backend protocol (stderr `STATE:`/`ERROR:` lines);
* cups-pdf reads its configuration only from /etc/cups (compiled in), but it reads
  `/etc/cups/cups-pdf-NAME.conf` for a device URI `cups-pdf:/NAME`: each server writes one with a
  unique NAME pointing `Out` at its own directory, and removes it when it stops (stale ones left by
  a killed run are removed at the next start). That file is the only thing written outside the
  temporary directory, and it needs root, as the cups-pdf backend itself does.

`stop()` and `start()` may be called mid-test (a cupsd outage); printers.conf survives them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

CUPSD = "/usr/sbin/cupsd"
CUPS_LIB = Path("/usr/lib/cups")
CUPS_PDF_BACKEND = CUPS_LIB / "backend" / "cups-pdf"
CUPS_PDF_PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
CUPS_PDF_CONF_DIR = Path("/etc/cups")
_TAG_PREFIX = "kiosktest-"

# The test backend. With no arguments CUPS asks it which devices it can see.
TEST_BACKEND = r"""#!/bin/sh
# kiosktest:/MODE - a printer for tests, speaking the CUPS backend protocol on stderr.
#   ok                  accept the job
#   fail                report an error and fail the job
#   stop/REASON         set printer-state-reason REASON (e.g. media-empty-error) and fail
#   state/REASON        set REASON and print fine (e.g. media-low-report)
#   hang                never finish (until CUPS cancels the job)
if [ $# -eq 0 ]; then echo 'direct kiosktest "Unknown" "Kiosk test printer"'; exit 0; fi
mode=${DEVICE_URI#kiosktest:/}
case "$mode" in
  fail) echo "ERROR: Simulated printer failure" >&2; exit 1 ;;
  stop/*) r=${mode#stop/}; echo "STATE: +$r" >&2; echo "ERROR: Simulated $r" >&2; exit 1 ;;
  state/*) echo "STATE: +${mode#state/}" >&2 ;;
  hang) exec sleep 60 ;;
esac
[ $# -eq 6 ] && cat > /dev/null
exit 0
"""

# Debian's default operation policy, so the driver meets the same authorisation as in production
# (Cancel-Job needs the job's owner, administration needs the system group).
_POLICY = """<Policy default>
  JobPrivateAccess default
  JobPrivateValues default
  SubscriptionPrivateAccess default
  SubscriptionPrivateValues default
  <Limit Create-Job Print-Job Print-URI Validate-Job>
    Order deny,allow
  </Limit>
  <Limit Send-Document Send-URI Hold-Job Release-Job Restart-Job Purge-Jobs Set-Job-Attributes Create-Job-Subscription Renew-Subscription Cancel-Subscription Get-Notifications Reprocess-Job Cancel-Current-Job Suspend-Current-Job Resume-Job Cancel-My-Jobs Close-Job CUPS-Move-Job>
    Require user @OWNER @SYSTEM
    Order deny,allow
  </Limit>
  <Limit CUPS-Add-Modify-Printer CUPS-Delete-Printer CUPS-Add-Modify-Class CUPS-Delete-Class CUPS-Set-Default CUPS-Get-Devices>
    AuthType Default
    Require user @SYSTEM
    Order deny,allow
  </Limit>
  <Limit Pause-Printer Resume-Printer Enable-Printer Disable-Printer Pause-Printer-After-Current-Job Hold-New-Jobs Release-Held-New-Jobs Deactivate-Printer Activate-Printer Restart-Printer Shutdown-Printer Startup-Printer Promote-Job Schedule-Job-After Cancel-Jobs CUPS-Accept-Jobs CUPS-Reject-Jobs>
    AuthType Default
    Require user @SYSTEM
    Order deny,allow
  </Limit>
  <Limit Cancel-Job CUPS-Authenticate-Job>
    Require user @OWNER @SYSTEM
    Order deny,allow
  </Limit>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""


def skip_reason() -> str | None:
    """Why a real cupsd cannot be run here, or None."""
    if not Path(CUPSD).exists():
        return "cupsd is not installed (Debian: cups)"
    missing = [tool for tool in ("lpadmin", "cupsdisable") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (Debian: cups-client)"
    if os.geteuid() != 0:
        return "a private cupsd with cups-pdf needs root (cups-pdf runs as root)"
    return None


def cups_pdf_skip_reason() -> str | None:
    """Why a cups-pdf queue cannot be made here, or None."""
    if not CUPS_PDF_BACKEND.exists() or not CUPS_PDF_PPD.exists():
        return "cups-pdf is not installed (Debian: printer-driver-cups-pdf)"
    if not os.access(CUPS_PDF_CONF_DIR, os.W_OK):
        return f"{CUPS_PDF_CONF_DIR} is not writable, so cups-pdf cannot be pointed at a temp dir"
    return None


class CupsServer:
    """One private cupsd; `start()`/`stop()` may be repeated, `close()` removes everything."""

    def __init__(self, *, log_level: str = "warn") -> None:
        # /tmp, not pytest's tmp_path: a unix socket path must stay under 108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="kcups-"))
        self.root.chmod(0o755)  # filters and backends run as lp and must reach ServerBin
        self.tag = f"{_TAG_PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        self.socket = self.root / "cups.sock"
        self.out_dir = self.root / "pdf"  # where cups-pdf writes what it "prints"
        self.log_dir = self.root / "log"
        self.log_level = log_level
        self._process: subprocess.Popen[bytes] | None = None
        self._cups_pdf_conf = CUPS_PDF_CONF_DIR / f"cups-pdf-{self.tag}.conf"
        self._write_config()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def server(self) -> str:
        """The server name clients use (CUPS_SERVER)."""
        return str(self.socket)

    def url(self, queue: str) -> str:
        """The driver URL of `queue` on this server."""
        return f"cups://{queue}?server={quote(self.server, safe='/')}"

    @property
    def env(self) -> dict[str, str]:
        """An environment in which lp, lpstat and lpadmin talk to this server."""
        return {**os.environ, "CUPS_SERVER": self.server, "LC_ALL": "C"}

    # -- life --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether cupsd is running."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start cupsd and wait until it accepts connections."""
        if self.running:
            return
        self._process = subprocess.Popen(
            [CUPSD, "-f", "-c", str(self.root / "cupsd.conf"), "-s", str(self.root / "files.conf")],
            stdin=subprocess.DEVNULL,
            stdout=(self.log_dir / "stdout").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stop() reaches filters and backends too
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"cupsd exited with {self._process.returncode}:\n{self.log()}")
            if self._accepts():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"cupsd did not listen on {self.socket} within {timeout} s")

    def stop(self) -> None:
        """Stop cupsd (SIGTERM, then SIGKILL); printers and jobs are saved by cupsd itself."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):  # a backend left in cupsd's group
            os.killpg(process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop cupsd and remove every file this server made."""
        self.stop()
        self._cups_pdf_conf.unlink(missing_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> CupsServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- queues ------------------------------------------------------------------------------

    def admin(self, *argv: str) -> str:
        """Run a CUPS command-line tool against this server; its stdout, or AssertionError."""
        result = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=30, check=False
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed: {result.stderr.strip()}")
        return result.stdout

    def add_pdf_queue(self, name: str = "kioskpdf") -> str:
        """A cups-pdf queue writing into `out_dir`; returns its driver URL."""
        reason = cups_pdf_skip_reason()
        if reason:
            pytest.skip(reason)
        self._cups_pdf_conf.write_text(
            f"Out {self.out_dir}\nAnonDirName {self.out_dir}\n"
            f"Spool {self.root / 'cups-pdf-spool'}\nLog {self.log_dir}\n"
        )
        self.admin(
            "lpadmin", "-p", name, "-E", "-v", f"cups-pdf:/{self.tag}", "-P", str(CUPS_PDF_PPD)
        )
        return self.url(name)

    def add_test_queue(
        self, name: str, mode: str = "ok", *, error_policy: str = "abort-job"
    ) -> str:
        """A queue on the test backend (`ok`, `fail`, `stop/REASON`, `state/REASON`, `hang`)."""
        self.admin(
            "lpadmin", "-p", name, "-E", "-v", f"kiosktest:/{mode}",
            "-o", f"printer-error-policy={error_policy}",
        )  # fmt: skip
        return self.url(name)

    def delete_queue(self, name: str) -> None:
        """Remove a queue."""
        self.admin("lpadmin", "-x", name)

    def disable(self, name: str, reason: str = "") -> None:
        """Stop a queue, as `cupsdisable` (printer-state stopped, reason paused)."""
        self.admin("cupsdisable", *(["-r", reason] if reason else []), name)

    def enable(self, name: str) -> None:
        """Start a queue again."""
        self.admin("cupsenable", name)

    def jobs(self, name: str, which: str = "all") -> list[str]:
        """Job lines `lpstat -W which -o name` shows."""
        out = self.admin("lpstat", "-W", which, "-o", name)
        return [line for line in out.splitlines() if line.strip()]

    # -- output and logs ---------------------------------------------------------------------

    def pdfs(self) -> list[Path]:
        """The PDFs cups-pdf has written, oldest first."""
        return sorted(self.out_dir.glob("*.pdf"), key=lambda p: p.stat().st_mtime_ns)

    def wait_for_pdfs(self, count: int, timeout: float = 20.0) -> list[Path]:
        """Wait until cups-pdf has written `count` PDFs, and return them."""
        deadline = time.monotonic() + timeout
        while len(self.pdfs()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        found = self.pdfs()
        assert len(found) >= count, f"cups-pdf wrote {len(found)} PDFs, not {count}:\n{self.log()}"
        return found

    def log(self, lines: int = 40) -> str:
        """The end of cupsd's error log, for failure messages."""
        path = self.log_dir / "error_log"
        if not path.exists():
            return "(no error_log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- setup -------------------------------------------------------------------------------

    def _accepts(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        return True

    def _write_config(self) -> None:
        root = self.root
        for sub in ("etc", "spool/tmp", "run", "cache", "log", "pdf", "bin/backend"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self.out_dir.chmod(0o755)
        _remove_stale_cups_pdf_confs()
        # A private ServerBin: the system's filters and backends by symlink, plus ours.
        for entry in CUPS_LIB.iterdir():
            if entry.name != "backend":
                (root / "bin" / entry.name).symlink_to(entry)
        for backend in (CUPS_LIB / "backend").iterdir():
            (root / "bin/backend" / backend.name).symlink_to(backend)
        test_backend = root / "bin/backend/kiosktest"
        test_backend.write_text(TEST_BACKEND)
        test_backend.chmod(0o755)  # not 0700: CUPS runs it as lp, like a network backend
        (root / "cupsd.conf").write_text(
            f"LogLevel {self.log_level}\n"
            f"Listen {self.socket}\n"
            "Browsing No\nWebInterface No\nDefaultAuthType Basic\n"
            "PreserveJobFiles No\nPreserveJobHistory Yes\n"
            "<Location />\n  Order allow,deny\n  Allow localhost\n</Location>\n" + _POLICY
        )
        (root / "files.conf").write_text(
            f"ServerRoot {root / 'etc'}\nServerBin {root / 'bin'}\n"
            f"RequestRoot {root / 'spool'}\nTempDir {root / 'spool/tmp'}\n"
            f"StateDir {root / 'run'}\nCacheDir {root / 'cache'}\n"
            f"ErrorLog {self.log_dir / 'error_log'}\nAccessLog {self.log_dir / 'access_log'}\n"
            f"PageLog {self.log_dir / 'page_log'}\n"
            "SystemGroup root\nFileDevice No\n"
        )


def _remove_stale_cups_pdf_confs() -> None:
    """cups-pdf config files of test servers whose process is gone (a killed test run)."""
    if not CUPS_PDF_CONF_DIR.is_dir():
        return
    for conf in CUPS_PDF_CONF_DIR.glob(f"cups-pdf-{_TAG_PREFIX}*.conf"):
        pid = conf.name.removeprefix(f"cups-pdf-{_TAG_PREFIX}").split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            conf.unlink(missing_ok=True)


@contextlib.contextmanager
def running_cups(**kwargs: str) -> Iterator[CupsServer]:
    """A started private cupsd, closed afterwards; skips the test if cupsd cannot run here."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    server = CupsServer(**kwargs)
    try:
        server.start()
        yield server
    finally:
        server.close()


def sample_pdf(pages: int = 2, text: str = "自助终端打印测试") -> bytes:
    """A small A4 PDF of `pages` pages with Chinese text (Pillow; a CJK font when there is one)."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    for candidate in (
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    ):
        if Path(candidate).exists():
            font = ImageFont.truetype(candidate, 28)
            break
    else:
        font, text = ImageFont.load_default(), "kiosk print test"
    images = []
    for number in range(1, pages + 1):
        image = Image.new("L", (595, 842), 255)  # A4 at 72 dpi: small and quick to convert
        ImageDraw.Draw(image).text((60, 80), f"{text} {number}/{pages}", fill=0, font=font)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=72)
    return out.getvalue()

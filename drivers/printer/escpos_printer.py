"""The receipt printer driver: a `Receipt` to ESC/POS bytes, sent through python-escpos.

python-escpos builds the bytes (its Dummy printer, so tests assert them exactly) and owns the
transports (Network, Serial, Usb, File). Two things are done here instead:

* Chinese text. python-escpos's "magic encoder" picks single-byte code pages and cannot produce
  GB18030, so non-ASCII lines are encoded with GB18030 and sent raw between FS & (enter Chinese
  character mode) and FS . (leave it), which is what Chinese 80 mm printers expect.
* Status. Before a job the printer is asked DLE EOT 1..4, so paper out or an open cover is known
  before any text is sent; it is asked again after the job. Transports that cannot read
  (file://) report an unknown status and the job goes ahead.

Every failure leaves as a `PrinterError` subclass with an English message and a Chinese `zh`;
no socket, serial or python-escpos exception escapes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import qrcode

from drivers.printer.receipt import Align, Cut, Feed, Qr, Receipt, Text
from drivers.printer.status import (
    ALL_QUERIES,
    PaperLevel,
    PrinterStatus,
    StatusDecodeError,
    decode_status,
    is_status_byte,
    status_query,
)
from drivers.url import DeviceUrlError, parse_device_url

# python-escpos calls logging.basicConfig() when first imported (escpos/capabilities.py). That
# root handler would turn the application's own logging.basicConfig() into a silent no-op, so
# whatever handler the import adds is removed again right after it.
_root_handlers = list(logging.getLogger().handlers)
from escpos.constants import QR_ECLEVEL_M  # noqa: E402
from escpos.escpos import Escpos  # noqa: E402
from escpos.exceptions import Error as EscposError  # noqa: E402
from escpos.image import EscposImage  # noqa: E402
from escpos.printer import Dummy, File, Network, Serial, Usb  # noqa: E402

for _handler in set(logging.getLogger().handlers) - set(_root_handlers):
    logging.getLogger().removeHandler(_handler)
del _root_handlers

log = logging.getLogger(__name__)
traffic = logging.getLogger(__name__ + ".traffic")  # raw bytes; receipts themselves never logged

FS_CHINESE_ON = b"\x1c\x26"  # FS &
FS_CHINESE_OFF = b"\x1c\x2e"  # FS .
# GS V 65 0 / GS V 66 0: feed to the cutter, then cut. python-escpos's cut() instead sends
# ESC d 6 before GS V 0, which wastes paper on some printers and leaves text short of the
# blade on others; the printer knows its own head-to-cutter distance.
GS_V_0 = b"\x1d\x76\x30"  # GS v 0: raster bit image
CUT_FULL = b"\x1d\x56\x41\x00"
CUT_PARTIAL = b"\x1d\x56\x42\x00"
DEFAULT_WIDTH_DOTS = 576  # 80 mm paper, 72 mm printable at 8 dots/mm
DEFAULT_TIMEOUT = 5.0


class PrinterError(Exception):
    """Base of every receipt printer failure; `zh` is the Chinese wording for screens and logs.

    `status` is the printer's status when it was known; `sent` is True when the job had been
    sent before the failure was seen (the receipt may be printed, or printed in part).
    """

    zh = "打印机故障"

    def __init__(
        self, message: str, *, status: PrinterStatus | None = None, sent: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.sent = sent

    def bilingual(self) -> str:
        """One line, Chinese then English, for the maintenance CLI."""
        return f"{self.zh} / {self}"


class PrinterConfigError(PrinterError, ValueError):
    """The printer URL or profile cannot be used; retrying will not help."""

    zh = "打印机配置错误"


class ReceiptNotPrintable(PrinterError, ValueError):
    """The receipt cannot be printed on this printer (e.g. a QR code wider than the paper)."""

    zh = "回执内容超出打印范围"


class PrinterOffline(PrinterError):
    """Cannot reach the printer, or it went away; worth retrying with back-off."""

    zh = "打印机未连接或已离线"


class PrinterTimeout(PrinterOffline):
    """The printer did not answer in time."""

    zh = "打印机无响应"


class PrinterProtocolError(PrinterError):
    """The printer answered something that is not ESC/POS status."""

    zh = "打印机应答异常"


class PrinterNeedsAttention(PrinterError):
    """A person has to act at the printer before it can print again."""

    zh = "打印机需要处理"


class PaperOut(PrinterNeedsAttention):
    """The paper roll is empty."""

    zh = "打印机缺纸"


class CoverOpen(PrinterNeedsAttention):
    """The paper cover is open."""

    zh = "打印机盖未关好"


class PrinterHardwareError(PrinterNeedsAttention):
    """Cutter jam, head fault or another error a paper change will not fix."""

    zh = "打印机硬件故障"


# -- bytes -------------------------------------------------------------------------------------


def encode_line(text: str) -> bytes:
    """Bytes of one text line: ASCII as is, anything else GB18030 inside Chinese mode."""
    if text.isascii():
        return text.encode("ascii")
    return FS_CHINESE_ON + text.encode("gb18030") + FS_CHINESE_OFF


def _media_width(printer: Escpos) -> int:
    pixels = printer.profile.profile_data.get("media", {}).get("width", {}).get("pixels")
    return pixels if isinstance(pixels, int) else DEFAULT_WIDTH_DOTS


def _qr_matrix(data: str, *, box_size: int = 1, border: int = 0) -> Any:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border
    )
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    return code


def check_receipt(receipt: Receipt, *, profile: str | None = None) -> None:
    """Fail before any I/O if the printer cannot print this receipt (QR wider than the paper)."""
    printer = _dummy(profile)
    width = _media_width(printer)
    for element in receipt.elements:
        if isinstance(element, Qr):
            dots = _qr_matrix(element.data).modules_count * element.size
            if dots > width:
                raise ReceiptNotPrintable(
                    f"QR code is {dots} dots wide at module size {element.size}; "
                    f"the paper has {width}: use a smaller size or a shorter payload"
                )


def _dummy(profile: str | None) -> Dummy:
    try:
        return Dummy(profile=profile)
    except KeyError:
        raise PrinterConfigError(f"unknown python-escpos printer profile {profile!r}") from None


class _Style:
    """What the printer is set to now, so only changes are sent (ESC @ starts from these)."""

    def __init__(self) -> None:
        self.align: Align = "left"
        self.bold = False
        self.double = False

    def apply(
        self, printer: Escpos, align: Align, bold: bool | None = None, double: bool | None = None
    ) -> None:
        """Send what differs from the printer's current settings; None leaves a setting alone."""
        if align != self.align:
            printer.set(align=align)
            self.align = align
        if bold is not None and bold != self.bold:
            printer.set(bold=bold)
            self.bold = bold
        if double is not None and double != self.double:
            size = 2 if double else 1
            printer.set(custom_size=True, width=size, height=size)  # GS ! 0x11 / 0x00
            self.double = double


def render_escpos(receipt: Receipt, *, profile: str | None = None) -> bytes:
    """The exact ESC/POS bytes for `receipt` (ESC @ first), built on python-escpos's Dummy."""
    check_receipt(receipt, profile=profile)
    printer = _dummy(profile)
    printer.hw("INIT")
    style = _Style()
    for element in receipt.elements:
        if isinstance(element, Text):
            style.apply(printer, element.align, element.bold, element.double)
            printer._raw(encode_line(element.text))
            printer.control("LF")
        elif isinstance(element, Qr):
            style.apply(printer, element.align)  # native QR ignores bold and size
            _print_qr(printer, element)
        elif isinstance(element, Feed):
            printer.print_and_feed(element.lines)
        elif isinstance(element, Cut):
            _cut(printer, element)
    return printer.output


def _print_qr(printer: Escpos, element: Qr) -> None:
    if printer.profile.supports("qrCode"):
        printer.qr(element.data, native=True, size=element.size, ec=QR_ECLEVEL_M)
        return
    # No native QR: send it as a GS v 0 raster image, aligned by ESC a like text. Built from
    # EscposImage directly because Escpos.image() print()s a warning to stdout for profiles
    # without a known paper width, and a library must not write to stdout.
    symbol = _qr_matrix(element.data, box_size=element.size, border=2).make_image().get_image()
    raster = EscposImage(symbol.convert("RGB"))
    header = raster.width_bytes.to_bytes(2, "little") + raster.height.to_bytes(2, "little")
    printer._raw(GS_V_0 + b"\x00" + header + raster.to_raster_format())


def _cut(printer: Escpos, element: Cut) -> None:
    full, part = printer.profile.supports("paperFullCut"), printer.profile.supports("paperPartCut")
    if part and (element.partial or not full):
        printer._raw(CUT_PARTIAL)
    elif full:
        printer._raw(CUT_FULL)
    else:
        printer.print_and_feed(6)  # no cutter: feed past the tear bar instead


# -- transports --------------------------------------------------------------------------------


def open_escpos(
    url: str,
    *,
    profile: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    baud: int | None = None,
) -> Escpos:
    """The python-escpos printer object for a device URL, not yet connected.

    ``usb://VID:PID`` (hex) takes ``?in_ep=0x82&out_ep=0x01`` for printers whose bulk endpoints
    differ from python-escpos's defaults. ``serial://`` takes ``?baud=`` (else `baud`, else
    9600) and ``?flow=dsrdtr|xonxoff|none``.
    """
    try:
        if url.lower().startswith("usb://"):
            return _open_usb(url, profile, timeout)
        dev = parse_device_url(url)
        common: dict[str, Any] = {"profile": profile}
        if dev.scheme == "tcp":
            return Network(host=dev.host, port=dev.port, timeout=timeout, **common)
        if dev.scheme == "serial":
            flow = dev.params.get("flow", "dsrdtr")
            if flow not in ("dsrdtr", "xonxoff", "none"):
                raise PrinterConfigError(
                    f"{url}: flow must be dsrdtr, xonxoff or none, not {flow!r}"
                )
            return Serial(
                devfile=dev.path,
                baudrate=dev.param_int("baud", baud or 9600),
                timeout=timeout,
                dsrdtr=flow == "dsrdtr",
                xonxoff=flow == "xonxoff",
                **common,
            )
        if dev.scheme == "file":
            return File(devfile=dev.path, **common)
    except PrinterConfigError:
        raise
    except DeviceUrlError as exc:
        raise PrinterConfigError(str(exc)) from None
    except ValueError as exc:  # urlsplit's own complaints ("Invalid IPv6 URL")
        raise PrinterConfigError(f"{url!r} is not a usable device URL: {exc}") from None
    except KeyError:
        raise PrinterConfigError(f"unknown python-escpos printer profile {profile!r}") from None
    raise PrinterConfigError(
        f"{url}: a receipt printer is reached by tcp://, serial://, usb:// or file:// "
        f"(not {dev.scheme}://; sim:// is resolved by the device manager)"
    )


def _open_usb(url: str, profile: str | None, timeout: float) -> Usb:
    # parse_device_url reads "04b8:0e15" as host:port and rejects the hex "port".
    dev = parse_device_url(url)
    vendor, product = _usb_ids(url, dev.path.strip("/"))
    endpoints = {name: _usb_endpoint(url, dev.params, name) for name in ("in_ep", "out_ep")}
    unknown = set(dev.params) - {"in_ep", "out_ep"}
    if unknown:
        raise PrinterConfigError(f"{url}: unknown USB option {sorted(unknown)[0]!r}")
    if not Usb.is_usable():
        # Without pyusb python-escpos's Usb even fails in close() and __del__.
        raise PrinterConfigError(f"{url}: USB printers need pyusb and libusb-1.0 installed")
    # pyusb takes milliseconds; 0 would mean "wait forever".
    return Usb(
        vendor,
        product,
        timeout=max(1, int(timeout * 1000)),
        profile=profile,
        **{k: v for k, v in endpoints.items() if v is not None},
    )


def _usb_ids(url: str, ident: str) -> tuple[int, int]:
    try:
        vendor, product = (int(part, 16) for part in ident.split(":"))
    except ValueError:
        raise PrinterConfigError(
            f"{url}: expected usb://VID:PID in hex, e.g. usb://04b8:0e15"
        ) from None
    if not (0 < vendor <= 0xFFFF and 0 < product <= 0xFFFF):
        raise PrinterConfigError(f"{url}: USB vendor and product ids are 0001-FFFF")
    return vendor, product


def _usb_endpoint(url: str, params: dict[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        endpoint = int(value, 0)
    except ValueError:
        endpoint = -1
    if not 0 <= endpoint <= 0xFF:
        raise PrinterConfigError(f"{url}: {name}={value!r} is not an endpoint address (0x00-0xFF)")
    return endpoint


def _read_answer(printer: Escpos) -> bytes:
    """Whatever the printer sent back, as soon as it arrives."""
    if isinstance(printer, Serial):
        # Serial._read() is read(16), which pyserial only returns after 16 bytes or the full
        # timeout: a one-byte status answer would cost a whole timeout per query.
        return bytes(printer.device.read(1))  # type: ignore[attr-defined]
    return bytes(printer._read())


def _can_read(printer: Escpos) -> bool:
    # File and other write-only transports inherit Escpos._read, which raises NotImplementedError.
    return type(printer)._read is not Escpos._read


# -- the driver --------------------------------------------------------------------------------


class ReceiptPrinter:
    """A receipt printer at a URL: checks status, prints receipts, checks again."""

    def __init__(
        self,
        url: str,
        *,
        profile: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        opener: Callable[[str], Escpos] | None = None,
        baud: int | None = None,
        on_status: Callable[[PrinterStatus], None] | None = None,
    ) -> None:
        self.url = url
        self.profile = profile
        self.timeout = timeout
        self.on_status = on_status  # sees every status read: before and after jobs, and status()
        self._opener = opener or (
            lambda u: open_escpos(u, profile=profile, timeout=timeout, baud=baud)
        )
        self._lock = threading.Lock()
        # A bad URL or profile fails here, at start, not at the first receipt.
        self._readable = _can_read(self._opener(url))

    def status(self) -> PrinterStatus:
        """Ask the printer (DLE EOT 1-4) how it is; unknown on write-only transports.

        A write-only transport (file://) is not even opened: opening a file truncates it.
        """
        if not self._readable:
            return PrinterStatus.unknown()
        with self._lock, self._connected() as printer:
            return self._query(printer)

    def print_receipt(self, receipt: Receipt) -> PrinterStatus:
        """Print `receipt` if the printer is ready; returns the status after the job."""
        payload = render_escpos(receipt, profile=self.profile)
        with self._lock, self._connected() as printer:
            before = self._query(printer)
            _raise_unless_ready(before, self.url, after_job=False)
            if before.warnings:
                log.warning("printer %s: %s", self.url, ", ".join(before.warnings))
            self._send(printer, payload)
            after = self._query(printer)
            _raise_unless_ready(after, self.url, after_job=True)
            log.info(
                "printed a receipt on %s (%d bytes, %s)", self.url, len(payload), after.describe()
            )
            return after

    @contextmanager
    def _connected(self) -> Iterator[Escpos]:
        printer = self._opener(self.url)
        try:
            printer.open()
        except Exception as exc:
            # Transports fail in their own ways (python-escpos errors, OSError, pyusb's
            # NoBackendError, pyserial's ValueError): all of them mean "cannot reach it".
            raise PrinterOffline(
                f"cannot connect to the printer at {self.url}: {_cause(exc)}"
            ) from None
        try:
            yield printer
        finally:
            try:
                printer.close()
            except Exception:  # closing a dead link must not hide the error that killed it
                log.debug("closing %s failed", self.url, exc_info=True)

    def _send(self, printer: Escpos, payload: bytes) -> None:
        traffic.debug("-> %s: job of %d bytes", self.url, len(payload))
        try:
            printer._raw(payload)
        except TimeoutError:
            raise PrinterTimeout(f"the printer at {self.url} stopped accepting data") from None
        except (OSError, EscposError) as exc:
            raise PrinterOffline(f"lost the printer at {self.url} while sending: {exc}") from None

    def _query(self, printer: Escpos) -> PrinterStatus:
        if not _can_read(printer):
            return PrinterStatus.unknown()
        answers: dict[int, int] = {}
        for query in ALL_QUERIES:
            answers[query] = self._ask(printer, query)
        try:
            status = decode_status(answers)
        except StatusDecodeError as exc:  # _ask checked the bytes; kept for safety
            raise PrinterProtocolError(f"{self.url}: {exc}") from None
        if self.on_status is not None:
            self.on_status(status)
        return status

    def _ask(self, printer: Escpos, n: int) -> int:
        query = status_query(n)
        try:
            printer._raw(query)
            answer = _read_answer(printer)
        except TimeoutError:
            raise PrinterTimeout(
                f"the printer at {self.url} did not answer status query DLE EOT {n} "
                f"within {self.timeout:g} s"
            ) from None
        except (OSError, EscposError) as exc:
            raise PrinterOffline(f"lost the printer at {self.url}: {exc}") from None
        traffic.debug("-> %s: %s <- %s", self.url, query.hex(" "), bytes(answer).hex(" "))
        if not answer:
            if isinstance(printer, Network):
                raise PrinterOffline(f"the printer at {self.url} closed the connection")
            raise PrinterTimeout(
                f"the printer at {self.url} did not answer status query DLE EOT {n}"
            )
        # Stale bytes (e.g. automatic status back) may precede the answer; the answer is last.
        value = answer[-1]
        if not is_status_byte(value):
            raise PrinterProtocolError(
                f"the printer at {self.url} answered 0x{value:02X} to DLE EOT {n}, "
                "which is not an ESC/POS status byte"
            )
        return value


def _raise_unless_ready(status: PrinterStatus, url: str, *, after_job: bool) -> None:
    if status.ready:
        return
    when = "after the job (the receipt may be incomplete)" if after_job else "nothing was printed"
    error: type[PrinterError] = PrinterOffline
    what = f"reports {status.describe()}"
    if status.paper is PaperLevel.OUT:
        error, what = PaperOut, "is out of paper"
    elif status.cover_open:
        error, what = CoverOpen, "has its cover open"
    elif status.hardware_error:
        error = PrinterHardwareError
    raise error(f"the printer at {url} {what}; {when}", status=status, sent=after_job)


def _cause(exc: BaseException) -> str:
    """The OS-level reason behind a python-escpos error, without its wrapping text."""
    # python-escpos raises DeviceNotFoundError inside `except OSError`, so the OSError is the
    # context; its own message wraps it as "Device not found (Could not open ...:\n...)".
    context = exc if isinstance(exc, OSError) else exc.__context__
    if isinstance(context, OSError):
        return context.strerror or str(context)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1].rstrip(")") if lines else type(exc).__name__

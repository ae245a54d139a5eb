"""The transport: the four IPP operations the driver needs, spoken to cupsd over HTTP.

IPP (RFC 8010/8011) rather than `lp`/`lpstat`: attributes come back typed
(`printer-state-reasons`, `job-state`, `job-printer-state-message`), where the command-line
tools print localised prose that would have to be parsed and loses the reasons. The messages
are built and read by `ipp.py`; HTTP is httpx. No libcups: pycups, its Python binding, is GPL.

The server is a unix socket path (`/run/cups/cups.sock`) or `host[:port]` (plain HTTP, port 631
by default); with none given, as libcups does: `CUPS_SERVER`, then `ServerName` in client.conf,
then the local socket if it exists, else localhost:631. Over a socket the HTTP Host is
`localhost`, which cupsd checks.

Each operation is one POST on a fresh connection (`Connection: close`): a connection to a local
socket costs well under a millisecond, and a fresh one recovers by itself when cupsd restarts,
where a kept one would first fail once. Connecting waits at most `connect_timeout` and each
read or write at most `timeout`, so a server that accepts and never answers costs a
PrinterUnavailableError, not a blocked thread. Answers are read up to `MAX_ANSWER_BYTES`.

Print-Job, Cancel-Job and the queries all send the same requesting-user-name (the process's
user): under CUPS's default policy that makes this client the owner of its jobs, which is what
Cancel-Job asks. Every failure leaves as a `DocumentPrinterError` subclass; IPP status codes map
as the table in `_ipp_error` says.

Limits: no TLS, so a remote cupsd that insists on encryption is refused with a configuration
error; no password authentication (a policy that asks for one is refused as not allowed). If
the connection breaks after a whole document was sent, CUPS may have queued the job even though
`submit` raised; the job, if any, then prints once.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import os
import pwd
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from drivers.docprinter.errors import (
    DocumentPrinterConfigError,
    DocumentPrinterError,
    JobFailedError,
    PrinterUnavailableError,
    QueueNotFoundError,
)
from drivers.docprinter.ipp import (
    DPCM,
    DPI,
    Attribute,
    IppDecodeError,
    IppEncodeError,
    Message,
    Operation,
    Range,
    Resolution,
    Tag,
    attr,
    decode_message,
    encode_message,
    status_name,
)

log = logging.getLogger(__name__)
traffic = logging.getLogger(__name__ + ".traffic")  # one debug line per IPP operation

DEFAULT_SOCKET = "/run/cups/cups.sock"  # Debian's CUPS_DEFAULT_DOMAINSOCKET
DEFAULT_PORT = 631
CLIENT_CONF = ("/etc/cups/client.conf", "~/.cups/client.conf")  # later ones win, as in libcups
DEFAULT_CONNECT_TIMEOUT = 5.0  # a local cupsd answers in milliseconds; a kiosk should not wait
DEFAULT_TIMEOUT = 30.0  # per read or write: cupsd may be busy starting up or spooling
MAX_ANSWER_BYTES = 1024 * 1024  # our answers are a few hundred bytes; refuse to hoard more
USER_AGENT = "kiosk-docprinter"

HTTP_OK = 200
# IPP status codes (RFC 8011 appendix B)
IPP_OK_MAX = 0x00FF
IPP_BAD_REQUEST = 0x0400
IPP_FORBIDDEN = 0x0401
IPP_NOT_AUTHENTICATED = 0x0402
IPP_NOT_AUTHORIZED = 0x0403
IPP_NOT_POSSIBLE = 0x0404
IPP_NOT_FOUND = 0x0406
IPP_ATTRIBUTES_NOT_SUPPORTED = 0x040B
IPP_CLIENT_ERRORS = range(0x0400, 0x0500)
IPP_SERVICE_UNAVAILABLE = 0x0502
IPP_NOT_ACCEPTING_JOBS = 0x0506

_HOST = re.compile(r"[A-Za-z0-9_.-]+")  # a DNS name or IPv4 address; IPv6 is checked apart
_DIGITS = re.compile(r"[0-9]+")  # not str.isdigit(): that takes "²", which int() refuses

# request-id only has to match within one connection; a process-wide counter keeps the ids in
# cupsd's logs distinct. next() on itertools.count is atomic under the GIL.
_request_ids = itertools.count(1)


# -- where the server is -------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """A CUPS server: a unix socket path, or a host and port reached over plain HTTP."""

    host: str
    port: int = DEFAULT_PORT
    socket: str | None = None

    @property
    def authority(self) -> str:
        """What goes in URLs and the Host header: `localhost` for a socket, as libcups sends."""
        if self.socket is not None:
            return "localhost"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, path: str) -> str:
        """The HTTP URL of `path` on this server."""
        return f"http://{self.authority}{path}"

    def ipp_uri(self, path: str) -> str:
        """An ipp: URI naming `path` (printer-uri, job-uri); cupsd reads only the path."""
        return f"ipp://{self.authority}{path}"


def split_server(server: str) -> Endpoint:
    """The endpoint of a CUPS server name: `/run/cups/cups.sock`, `host`, `host:port`, `[v6]:port`."""
    name = re.sub(r"/version=[0-9.]+$", "", server.strip())  # libcups's CUPS_SERVER suffix
    if name.startswith("/"):
        return Endpoint(host="localhost", socket=name)
    host, sep, port = name.rpartition(":")
    if sep and _DIGITS.fullmatch(port) and (host.endswith("]") or ":" not in host):
        number = int(port)
        if not 1 <= number <= 0xFFFF:
            raise DocumentPrinterConfigError(f"bad CUPS server {server!r}: port {number}")
    else:
        host, number = name, DEFAULT_PORT
    host = host.strip("[]")
    if not _HOST.fullmatch(host):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise DocumentPrinterConfigError(f"bad CUPS server {server!r}") from None
    return Endpoint(host=host, port=number)


def default_server() -> str:
    """The server libcups would use: CUPS_SERVER, client.conf, the local socket, localhost."""
    env = os.environ.get("CUPS_SERVER", "").strip()
    if env:
        return env
    configured = ""
    for conf in CLIENT_CONF:
        try:
            lines = Path(conf).expanduser().read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.strip().partition(" ")
            if key.lower() == "servername" and value.strip():
                configured = value.strip()
    if configured:
        return configured
    if os.path.exists(DEFAULT_SOCKET):
        return DEFAULT_SOCKET
    return f"localhost:{DEFAULT_PORT}"


def _user_name() -> str:
    """The process's user name, as libcups's cupsUser() gives it."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a container uid without a passwd entry
        return "anonymous"


# -- job options to job template attributes ------------------------------------------------

# The value syntax of the job template attributes CUPS knows (its ipp_options table); any other
# option is a boolean when its value is true/false and a name otherwise, as cupsEncodeOptions
# does, so PPD options pass through to the filters unchanged.
_INTEGER = frozenset(
    {
        "copies", "number-up", "job-priority", "job-cancel-after", "brightness", "gamma",
        "hue", "saturation", "scaling", "natural-scaling", "ppi", "penwidth", "columns",
        "page-bottom", "page-left", "page-right", "page-top", "media-bottom-margin",
        "media-left-margin", "media-right-margin", "media-top-margin",
    }
)  # fmt: skip
_ENUM = frozenset({"finishings", "orientation-requested", "print-quality"})
_BOOLEAN = frozenset({"fit-to-page", "fitplot", "landscape", "mirror", "prettyprint", "wrap"})
_RANGE = frozenset({"page-ranges"})
_RESOLUTION = frozenset({"printer-resolution", "resolution"})
_KEYWORD = frozenset(
    {
        "media", "media-color", "media-key", "media-size-name", "media-source", "media-type",
        "multiple-document-handling", "number-up-layout", "output-bin", "page-delivery",
        "print-color-mode", "print-content-optimize", "print-rendering-intent",
        "print-scaling", "sides", "job-hold-until",
    }
)  # fmt: skip
_NAME = frozenset({"job-sheets", "job-account-id", "job-accounting-user-id"})
_MULTI_VALUED = frozenset({"finishings", "page-ranges", "media", "job-sheets"})  # "a,b"
_OPERATION_OPTIONS = frozenset({"ipp-attribute-fidelity"})  # operation, not job, attributes
# Attributes the client sets itself: an option of that name would contradict it.
_RESERVED = frozenset(
    {
        "attributes-charset", "attributes-natural-language", "printer-uri", "job-uri",
        "job-id", "requesting-user-name", "job-name", "document-format", "requested-attributes",
    }
)  # fmt: skip
_TRUE, _FALSE = frozenset({"true", "on", "yes"}), frozenset({"false", "off", "no"})
_RESOLUTION_TEXT = re.compile(r"([0-9]+)(?:x([0-9]+))?(dpi|dpcm|dpc)", re.IGNORECASE)
_RANGE_TEXT = re.compile(r"([0-9]*)-([0-9]*)|([0-9]+)")  # ASCII digits only, unlike \d


def option_attributes(options: Mapping[str, str]) -> tuple[list[Attribute], list[Attribute]]:
    """(operation, job) attributes for CUPS-style string options; config error if one is bad."""
    operation: list[Attribute] = []
    job: list[Attribute] = []
    for name, text in options.items():
        if name in _RESERVED:
            raise DocumentPrinterConfigError(f"{name!r} is set by the driver, not an option")
        values = text.split(",") if name in _MULTI_VALUED else [text]
        try:
            attribute = _option_attribute(name, [v.strip() for v in values])
        except ValueError as exc:
            raise DocumentPrinterConfigError(f"option {name}={text!r}: {exc}") from None
        (operation if name in _OPERATION_OPTIONS else job).append(attribute)
    return operation, job


def _option_attribute(name: str, values: list[str]) -> Attribute:
    if name in _INTEGER or name in _ENUM:
        if not all(re.fullmatch(r"-?[0-9]{1,10}", v) for v in values):
            raise ValueError("a whole number is expected")
        return Attribute(name, Tag.ENUM if name in _ENUM else Tag.INTEGER, tuple(map(int, values)))
    if name in _RANGE:
        return Attribute(name, Tag.RANGE_OF_INTEGER, tuple(_range(v) for v in values))
    if name in _RESOLUTION:
        return Attribute(name, Tag.RESOLUTION, tuple(_resolution(v) for v in values))
    if name in _KEYWORD or name in _NAME:
        return Attribute(name, Tag.KEYWORD if name in _KEYWORD else Tag.NAME, tuple(values))
    lowered = [v.lower() for v in values]
    if (
        name in _BOOLEAN
        or name in _OPERATION_OPTIONS
        or all(v in ("true", "false") for v in lowered)
    ):
        if not all(v in _TRUE | _FALSE for v in lowered):
            raise ValueError("true or false is expected")
        return Attribute(name, Tag.BOOLEAN, tuple(v in _TRUE for v in lowered))
    return Attribute(name, Tag.NAME, tuple(values))


def _range(text: str) -> Range:
    """`5`, `2-7`, `-7` (from 1) or `3-` (to the end), as CUPS reads page ranges."""
    found = _RANGE_TEXT.fullmatch(text)
    if not found:
        raise ValueError("a page range such as 1-3 is expected")
    if found.group(3):
        return Range(int(found.group(3)), int(found.group(3)))
    lower = int(found.group(1) or 1)
    upper = int(found.group(2)) if found.group(2) else 2**31 - 1
    if lower > upper:
        raise ValueError("the range runs backwards")
    return Range(lower, upper)


def _resolution(text: str) -> Resolution:
    """`600dpi`, `600x300dpi`, `118dpcm`."""
    found = _RESOLUTION_TEXT.fullmatch(text)
    if not found:
        raise ValueError("a resolution such as 600dpi is expected")
    x = int(found.group(1))
    y = int(found.group(2) or x)
    return Resolution(x, y, DPI if found.group(3).lower() == "dpi" else DPCM)


# -- the client ----------------------------------------------------------------------------


class CupsClient:
    """One CUPS server (None: the default one, as libcups picks it); the IPP operations used.

    `transport` replaces the HTTP transport (tests give an `httpx.MockTransport`).
    """

    def __init__(
        self,
        server: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        user: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.user = user or _user_name()
        self._where = server or "the default CUPS server"
        self._transport = transport
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._http_endpoint: Endpoint | None = None

    def printer_attributes(self, queue: str, names: list[str]) -> dict[str, Any]:
        """Get-Printer-Attributes for `queue`; QueueNotFoundError if CUPS has no such queue."""
        endpoint = self._endpoint()
        path = _printer_path(queue)
        answer = self._call(
            endpoint,
            Operation.GET_PRINTER_ATTRIBUTES,
            path,
            [
                attr("printer-uri", Tag.URI, endpoint.ipp_uri(path)),
                attr("requesting-user-name", Tag.NAME, self.user),
                *_requested(names),
            ],
            queue=queue,
        )
        return flatten(answer.group(Tag.PRINTER))

    def job_attributes(self, job_id: int, names: list[str]) -> dict[str, Any]:
        """Get-Job-Attributes for job `job_id`; JobFailedError if CUPS no longer knows it."""
        endpoint = self._endpoint()
        path = f"/jobs/{int(job_id)}"
        answer = self._call(
            endpoint,
            Operation.GET_JOB_ATTRIBUTES,
            path,
            [
                attr("job-uri", Tag.URI, endpoint.ipp_uri(path)),
                attr("requesting-user-name", Tag.NAME, self.user),
                *_requested(names),
            ],
            job_id=job_id,
        )
        return flatten(answer.group(Tag.JOB))

    def cancel(self, job_id: int) -> bool:
        """Cancel-Job; False when the job had already ended (CUPS: "not possible")."""
        endpoint = self._endpoint()
        path = f"/jobs/{int(job_id)}"
        answer = self._call(
            endpoint,
            Operation.CANCEL_JOB,
            path,
            [
                attr("job-uri", Tag.URI, endpoint.ipp_uri(path)),
                attr("requesting-user-name", Tag.NAME, self.user),
            ],
            job_id=job_id,
            accept=(IPP_NOT_POSSIBLE,),
        )
        return answer.code != IPP_NOT_POSSIBLE

    def submit(self, queue: str, data: bytes, *, title: str, options: Mapping[str, str]) -> int:
        """Print-Job with `data` as application/pdf and `options` as job attributes; the job id.

        The document goes from memory into the request body, so the client leaves no copy of it
        (a certificate with personal data) in a temporary file. One Print-Job rather than
        Create-Job and Send-Document: CUPS creates the job only once it has the whole document,
        so there is never a job without its document to clean up.
        """
        operation_options, job_options = option_attributes(options)
        endpoint = self._endpoint()
        path = _printer_path(queue)
        operation_group = [
            attr("printer-uri", Tag.URI, endpoint.ipp_uri(path)),
            attr("requesting-user-name", Tag.NAME, self.user),
            attr("job-name", Tag.NAME, title),
            attr("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"),
            *operation_options,
        ]
        answer = self._call(
            endpoint,
            Operation.PRINT_JOB,
            path,
            operation_group,
            job_group=job_options,
            data=data,
            queue=queue,
        )
        job_id = flatten(answer.group(Tag.JOB)).get("job-id")
        if isinstance(job_id, bool) or not isinstance(job_id, int) or job_id < 1:
            raise PrinterUnavailableError(
                f"Print-Job for queue {queue!r} on {self._where}: the answer has no job-id"
            )
        return job_id

    def close(self) -> None:
        """Drop the HTTP client; the next operation makes a new one. Idempotent.

        Not while another thread is in an operation on this client: that one would fail.
        Nothing needs it, since no connection outlives its operation.
        """
        with self._lock:
            http, self._http, self._http_endpoint = self._http, None, None
        if http is not None:
            http.close()

    # -- one exchange ----------------------------------------------------------------------

    def _endpoint(self) -> Endpoint:
        # Resolved for every operation when no server was named, so a cupsd whose socket
        # appears after the kiosk started is still found.
        return split_server(self.server or default_server())

    def _call(
        self,
        endpoint: Endpoint,
        operation: Operation,
        path: str,
        operation_group: list[Attribute],
        *,
        job_group: list[Attribute] | None = None,
        data: bytes = b"",
        queue: str | None = None,
        job_id: int | None = None,
        accept: Iterable[int] = (),
    ) -> Message:
        """POST one IPP request; its answer if the status is a success or in `accept`."""
        name = _OPERATION_NAMES[operation]
        what = f"queue {queue!r}" if queue is not None else f"job {job_id}"
        traffic.debug("%s %s on %s", name, what, self._where)
        request_id = next(_request_ids) % 2**31 or 1
        # Every request starts with these two (RFC 8011 4.1.4); English, so that cupsd's
        # status messages in logs and errors are the same on every kiosk.
        groups = [
            (
                Tag.OPERATION,
                [
                    attr("attributes-charset", Tag.CHARSET, "utf-8"),
                    attr("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
                    *operation_group,
                ],
            )
        ]
        if job_group:
            groups.append((Tag.JOB, job_group))
        try:
            head = encode_message(operation, request_id, groups)
        except IppEncodeError as exc:
            raise DocumentPrinterConfigError(f"{name} for {what}: {exc}") from None
        raw = self._post(endpoint, path, head, data, name, what)
        try:
            answer = decode_message(raw)
        except IppDecodeError as exc:
            raise PrinterUnavailableError(
                f"{name} for {what} on {self._where}: the answer is not IPP ({exc})"
            ) from None
        if answer.request_id != request_id:
            raise PrinterUnavailableError(
                f"{name} for {what} on {self._where}: the answer is for request "
                f"{answer.request_id}, not {request_id}"
            )
        if answer.code <= IPP_OK_MAX or answer.code in accept:
            return answer
        # One line whatever the server wrote: these messages end up in one-line CLI errors.
        message = " ".join(answer.status_message.split()) or status_name(answer.code)
        raise self._ipp_error(answer.code, message, name, what, queue, job_id)

    def _post(
        self, endpoint: Endpoint, path: str, head: bytes, data: bytes, name: str, what: str
    ) -> bytes:
        """The body of cupsd's answer to one POST; transport failures become ours."""
        headers = {
            "Content-Type": "application/ipp",
            # Giving the length lets httpx send head and document as they are, uncopied.
            "Content-Length": str(len(head) + len(data)),
            "Connection": "close",
            "Accept-Encoding": "identity",  # no decompression of what the server chose to send
            "User-Agent": USER_AGENT,
        }
        body = [head, data] if data else [head]
        try:
            http = self._client(endpoint)
            with http.stream("POST", endpoint.url(path), content=body, headers=headers) as answer:
                if answer.status_code != HTTP_OK:
                    raise self._http_error(answer.status_code, name, what)
                kind = answer.headers.get("content-type", "")
                coding = answer.headers.get("content-encoding", "identity").lower()
                if not kind.lower().startswith("application/ipp") or coding != "identity":
                    raise PrinterUnavailableError(
                        f"{name} for {what} on {self._where}: the answer is {kind or 'untyped'}"
                        f"{'' if coding == 'identity' else ' in ' + coding}, not IPP"
                    )
                return self._read(answer, name, what)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            where = self.server or f"{self._where} ({endpoint.socket or endpoint.authority})"
            raise PrinterUnavailableError(f"cannot connect to {where}") from None
        except httpx.TimeoutException:
            raise PrinterUnavailableError(
                f"{name} for {what} on {self._where}: no answer within {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:  # the connection broke, or HTTP itself went wrong
            raise PrinterUnavailableError(
                f"{name} for {what} on {self._where} failed: {exc or type(exc).__name__}"
            ) from None
        except httpx.InvalidURL:
            raise DocumentPrinterConfigError(f"bad CUPS server {self._where!r}") from None

    def _read(self, answer: httpx.Response, name: str, what: str) -> bytes:
        """The answer's body, at most MAX_ANSWER_BYTES, within `timeout` in all.

        httpx's read timeout bounds each wait; the deadline also bounds a server that sends
        a byte now and then forever.
        """
        too_big = PrinterUnavailableError(
            f"{name} for {what} on {self._where}: the answer is over {MAX_ANSWER_BYTES} bytes"
        )
        length = answer.headers.get("content-length", "")
        if _DIGITS.fullmatch(length) and int(length) > MAX_ANSWER_BYTES:
            raise too_big
        deadline = time.monotonic() + self.timeout
        body = bytearray()
        for chunk in answer.iter_bytes():  # as sent: any content-coding was refused above
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise too_big
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the answer is too slow")
        return bytes(body)

    def _client(self, endpoint: Endpoint) -> httpx.Client:
        """The httpx client for `endpoint`, made once: making one loads TLS certificates."""
        with self._lock:
            if self._http is None or self._http_endpoint != endpoint:
                if self._http is not None:
                    self._http.close()
                transport = self._transport or httpx.HTTPTransport(uds=endpoint.socket)
                self._http = httpx.Client(
                    transport=transport,
                    timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                    # Not from the environment: an HTTP_PROXY meant for the internet must
                    # not carry print jobs to a proxy, nor .netrc add credentials.
                    trust_env=False,
                    follow_redirects=False,
                )
                self._http_endpoint = endpoint
            return self._http

    # -- errors ----------------------------------------------------------------------------

    def _ipp_error(
        self,
        status: int,
        message: str,
        operation: str,
        what: str,
        queue: str | None,
        job_id: int | None,
    ) -> DocumentPrinterError:
        text = f"{operation} for {what} on {self._where}: {message} (IPP 0x{status:04x})"
        if status == IPP_NOT_FOUND:
            if job_id is not None and queue is None:
                return JobFailedError(
                    f"{self._where} no longer knows job {job_id}",
                    reason="the job is no longer known to CUPS",
                )
            return QueueNotFoundError(f"{self._where} has no printer queue {queue!r}")
        if status == IPP_NOT_ACCEPTING_JOBS:
            return PrinterUnavailableError(f"queue {queue!r} is not accepting jobs: {message}")
        if status in (IPP_FORBIDDEN, IPP_NOT_AUTHENTICATED, IPP_NOT_AUTHORIZED):
            return DocumentPrinterConfigError(f"not allowed: {text}")
        if status in (IPP_BAD_REQUEST, IPP_ATTRIBUTES_NOT_SUPPORTED):
            return DocumentPrinterConfigError(f"refused: {text}")
        if status in IPP_CLIENT_ERRORS:
            return DocumentPrinterError(text)
        return PrinterUnavailableError(text)  # server errors: busy, unavailable, internal

    def _http_error(self, status: int, operation: str, what: str) -> DocumentPrinterError:
        text = f"{operation} for {what} on {self._where}: HTTP {status}"
        if status in (401, 403):
            return DocumentPrinterConfigError(f"not allowed: {text}")
        if status == 426:  # Upgrade Required: cupsd wants TLS, which this client does not do
            return DocumentPrinterConfigError(f"the server requires encryption: {text}")
        return PrinterUnavailableError(text)


_OPERATION_NAMES = {
    Operation.PRINT_JOB: "Print-Job",
    Operation.CANCEL_JOB: "Cancel-Job",
    Operation.GET_JOB_ATTRIBUTES: "Get-Job-Attributes",
    Operation.GET_PRINTER_ATTRIBUTES: "Get-Printer-Attributes",
}


def _requested(names: list[str]) -> list[Attribute]:
    """requested-attributes, left out when empty: then the server sends its default set."""
    return [Attribute("requested-attributes", Tag.KEYWORD, tuple(names))] if names else []


def _printer_path(queue: str) -> str:
    # Percent-encoded: a queue name may hold any printable character but / # \ and space.
    return "/printers/" + quote(queue, safe="")


def flatten(attributes: Mapping[str, Attribute] | None) -> dict[str, Any]:
    """Attribute values as the driver reads them: one value as itself, several as a list.

    The shape pycups gave, which jobs.py and status.py accept: `*-supported` attributes are
    always lists; collections become dicts of the same shape.
    """
    return {
        name: _shape(name, list(attribute.values)) for name, attribute in (attributes or {}).items()
    }


def _shape(name: str, values: list[Any]) -> Any:
    values = [
        {member: _shape(member, found) for member, found in v.items()} if isinstance(v, dict) else v
        for v in values
    ]
    if len(values) == 1 and not name.endswith("-supported"):
        return values[0]
    return values

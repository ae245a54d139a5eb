"""Which scanned payloads a flow accepts: named formats, each a parser that never raises.

    from drivers.qr.admission import admit, admit_each

    result = admit(code.text, ["eid_token", "appointment"])
    if result.admitted:
        payload = result.payload             # EidToken | AppointmentCode | ...
    else:
        show(result.reason, result.message)  # e.g. "not_an_eid_token", plain words

Decoding (`drivers.qr.decode`) says what a code holds; admission says whether one flow can use
it. This module knows nothing of the kiosk: the caller names the formats it takes. Every
`admit` returns an `Admitted` or a `Refused` (reason code and a plain reason that never quotes
the payload) for any input at all: str, bytes, or anything else.

Formats (`FORMATS`): ``eid_token`` (``CNEID1.<b64url>.<b64url>``), ``appointment``
(``APPT:<10-12 letters and digits>``), ``case_number`` (``CASE:<16 digits>`` or the bare 16
digits), ``application_code`` (``APP:<uuid>``, on the receipt of an application queued offline), ``certificate_url`` (an https URL ending ``/certificates/<number>/verification``,
optionally limited to some hosts), and ``text`` (any text, multi-line allowed). Scanners add
a trailing CR/LF: every format trims it. Only ``text`` admits line breaks inside.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from drivers.qr.charset import guess_text
from rules.receipts import receipt_no_is_valid

DEFAULT_MAX_CHARS = 4096
# Embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069): "Trojan Source" reordering
# that makes a displayed URL read differently from the one followed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\r\n")

# Reason codes (stable: flows and tests match on them).
NOT_TEXT = "not_text"
EMPTY = "empty"
TOO_LONG = "too_long"
CONTROL_CHARACTERS = "control_characters"
UNKNOWN_FORMAT = "unknown_format"
NOT_AN_EID_TOKEN = "not_an_eid_token"
UNSUPPORTED_EID_VERSION = "unsupported_eid_version"
NOT_AN_APPOINTMENT_CODE = "not_an_appointment_code"
NOT_A_CASE_NUMBER = "not_a_case_number"
NOT_AN_APPLICATION_CODE = "not_an_application_code"
NOT_A_CERTIFICATE_URL = "not_a_certificate_url"
NOT_HTTPS = "not_https"
HOST_NOT_ALLOWED = "host_not_allowed"


# -- payloads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EidToken:
    """An electronic ID's QR token: sent whole to the central service, which checks it."""

    token: str
    body: str  # base64url payload
    signature: str  # base64url signature


@dataclass(frozen=True)
class AppointmentCode:
    code: str  # upper-cased, as the central service normalises it


@dataclass(frozen=True)
class CaseNumber:
    number: str  # 16 digits


@dataclass(frozen=True)
class ApplicationCode:
    key: str  # the application's idempotency key (a UUID, lower-case)


@dataclass(frozen=True)
class CertificateUrl:
    url: str
    host: str
    certificate_no: str
    verify_code: str | None  # the ``code`` query parameter, when present


@dataclass(frozen=True)
class GenericText:
    text: str


Payload = EidToken | AppointmentCode | CaseNumber | ApplicationCode | CertificateUrl | GenericText


@dataclass(frozen=True)
class Admitted:
    kind: str
    payload: Payload
    admitted: bool = True


@dataclass(frozen=True)
class Refused:
    """Why a payload was not admitted: `reason` is a stable code, `message` plain words."""

    kind: str
    reason: str
    message: str
    admitted: bool = False


Admission = Admitted | Refused


# -- common checks ----------------------------------------------------------------------------


def as_text(payload: object) -> str | None:
    """The payload as text: str as is, bytes read as `drivers.qr.charset` reads them."""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, bytes | bytearray | memoryview):
        read = guess_text(bytes(payload))
        return None if read.is_binary else read.text
    return None


def trim_scanner_suffix(text: str) -> str:
    """Drop the CR/LF a scanner appends (and any run of them) from the end."""
    return text.rstrip("\r\n")


def _bad_character(text: str, allowed: Collection[str]) -> str | None:
    for index, char in enumerate(text):
        if char in allowed:
            continue
        if unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            kind = "formatting" if char in _BIDI_CONTROLS else "control"
            return f"{kind} character U+{ord(char):04X} at position {index}"
    return None


def _prepare(
    kind: str, payload: object, *, max_chars: int, allowed: Collection[str]
) -> str | Refused:
    text = as_text(payload)
    if text is None:
        return Refused(kind, NOT_TEXT, "the code holds binary data, not text")
    text = trim_scanner_suffix(text)
    if not text.strip():
        return Refused(kind, EMPTY, "the code is empty")
    if len(text) > max_chars:
        return Refused(
            kind, TOO_LONG, f"{len(text)} characters is more than the {max_chars} allowed"
        )
    bad = _bad_character(text, allowed)
    if bad is not None:
        return Refused(kind, CONTROL_CHARACTERS, f"the code holds a {bad}")
    return text


# -- formats ----------------------------------------------------------------------------------

_EID = re.compile(r"CNEID1\.([A-Za-z0-9_-]{8,2048})\.([A-Za-z0-9_-]{16,512})")
_EID_VERSION = re.compile(r"CNEID(\d+)\.")
_APPOINTMENT = re.compile(r"APPT:([A-Za-z0-9]{10,12})")
_CASE = re.compile(r"(?:CASE:)?(\d{16})")
_APPLICATION = re.compile(r"APP:([0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})")
_CERTIFICATE_PATH = re.compile(r"(?:/[^/]+)*/certificates/([A-Za-z0-9-]{1,64})/verifications?/?")


def admit_eid_token(payload: object) -> Admission:
    """``CNEID1.<base64url payload>.<base64url signature>``."""
    kind = "eid_token"
    text = _prepare(kind, payload, max_chars=2600, allowed=())
    if isinstance(text, Refused):
        return text
    match = _EID.fullmatch(text)
    if match is not None:
        return Admitted(kind, EidToken(text, match.group(1), match.group(2)))
    version = _EID_VERSION.match(text)
    if version is not None and version.group(1) != "1":
        return Refused(kind, UNSUPPORTED_EID_VERSION, "an electronic ID of an unknown version")
    return Refused(kind, NOT_AN_EID_TOKEN, "not an electronic ID code")


def admit_appointment(payload: object) -> Admission:
    """``APPT:<10-12 letters and digits>``; the code comes back upper-cased."""
    kind = "appointment"
    text = _prepare(kind, payload, max_chars=64, allowed=())
    if isinstance(text, Refused):
        return text
    match = _APPOINTMENT.fullmatch(text.strip())
    if match is None:
        return Refused(kind, NOT_AN_APPOINTMENT_CODE, "not an appointment code")
    return Admitted(kind, AppointmentCode(match.group(1).upper()))


def admit_case_number(payload: object) -> Admission:
    """``CASE:<16 digits>`` or the bare 16-digit receipt number."""
    kind = "case_number"
    text = _prepare(kind, payload, max_chars=64, allowed=())
    if isinstance(text, Refused):
        return text
    text = text.strip()
    match = _CASE.fullmatch(text) if text.isascii() else None  # \d also matches other scripts
    if match is None:
        return Refused(kind, NOT_A_CASE_NUMBER, "not a case or receipt number")
    if not receipt_no_is_valid(match.group(1)):
        return Refused(kind, NOT_A_CASE_NUMBER, "the receipt number's check digit is wrong")
    return Admitted(kind, CaseNumber(match.group(1)))


def admit_application_code(payload: object) -> Admission:
    """``APP:<uuid>``: an application queued offline, to find its tracking number later."""
    kind = "application_code"
    text = _prepare(kind, payload, max_chars=64, allowed=())
    if isinstance(text, Refused):
        return text
    match = _APPLICATION.fullmatch(text.strip())
    if match is None:
        return Refused(kind, NOT_AN_APPLICATION_CODE, "not an application code")
    return Admitted(kind, ApplicationCode(match.group(1).lower()))


def certificate_url_format(
    allowed_hosts: Collection[str] | None = None,
) -> Callable[[object], Admission]:
    """A ``certificate_url`` admitter, limited to `allowed_hosts` (and their subdomains)."""
    hosts = None if allowed_hosts is None else {h.lower().rstrip(".") for h in allowed_hosts}

    def admit_certificate_url(payload: object) -> Admission:
        kind = "certificate_url"
        text = _prepare(kind, payload, max_chars=2048, allowed=())
        if isinstance(text, Refused):
            return text
        text = text.strip()
        if any(c.isspace() for c in text) or not text.isascii():
            return Refused(kind, NOT_A_CERTIFICATE_URL, "not a certificate verification link")
        try:
            parts = urlsplit(text)
            host = (parts.hostname or "").rstrip(".")
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return Refused(kind, NOT_A_CERTIFICATE_URL, "not a certificate verification link")
        if parts.scheme.lower() != "https":
            return Refused(kind, NOT_HTTPS, "a verification link must use https")
        match = _CERTIFICATE_PATH.fullmatch(parts.path)
        if not host or match is None or parts.username or parts.password:
            return Refused(kind, NOT_A_CERTIFICATE_URL, "not a certificate verification link")
        if hosts is not None and not any(host == h or host.endswith("." + h) for h in hosts):
            return Refused(kind, HOST_NOT_ALLOWED, "a verification link to an unknown site")
        codes = parse_qs(parts.query).get("code")
        return Admitted(
            kind, CertificateUrl(text, host, match.group(1), codes[0] if codes else None)
        )

    return admit_certificate_url


admit_certificate_url = certificate_url_format()


def text_format(max_chars: int = DEFAULT_MAX_CHARS) -> Callable[[object], Admission]:
    """A ``text`` admitter: any text up to `max_chars`; TAB, CR and LF allowed inside."""

    def admit_text(payload: object) -> Admission:
        kind = "text"
        text = _prepare(kind, payload, max_chars=max_chars, allowed=_LINE_BREAKS | {"\t"})
        if isinstance(text, Refused):
            return text
        return Admitted(kind, GenericText(text))

    return admit_text


admit_text = text_format()

Admitter = Callable[[object], Admission]

FORMATS: dict[str, Admitter] = {
    "eid_token": admit_eid_token,
    "appointment": admit_appointment,
    "case_number": admit_case_number,
    "application_code": admit_application_code,
    "certificate_url": admit_certificate_url,
    "text": admit_text,
}


def admit(
    payload: object,
    kinds: Iterable[str],
    *,
    formats: dict[str, Admitter] | None = None,
) -> Admission:
    """The first of `kinds` (in order) that admits `payload`, or the first kind's refusal.

    `formats` replaces `FORMATS`, e.g. to limit certificate hosts:
    ``{**FORMATS, "certificate_url": certificate_url_format({"zwfw.gd.gov.cn"})}``.
    """
    table = FORMATS if formats is None else formats
    refusals: list[Refused] = []
    for kind in kinds:
        admitter = table.get(kind)
        if admitter is None:
            refusals.append(Refused(kind, UNKNOWN_FORMAT, f"no payload format named {kind!r}"))
            continue
        result = _safely(kind, admitter, payload)
        if result.admitted:
            return result
        assert isinstance(result, Refused)
        refusals.append(result)
    if not refusals:
        return Refused("", UNKNOWN_FORMAT, "no payload format was asked for")
    return refusals[0]


def admit_each(payload: object, formats: dict[str, Admitter] | None = None) -> dict[str, Admission]:
    """Every known format's verdict on `payload` (for diagnostics)."""
    table = FORMATS if formats is None else formats
    return {kind: _safely(kind, admitter, payload) for kind, admitter in table.items()}


def _safely(kind: str, admitter: Admitter, payload: object) -> Admission:
    try:
        return admitter(payload)
    except Exception:  # a parser bug must not take a flow down: refuse, never raise
        return Refused(kind, NOT_TEXT, "the code could not be read")

"""What the maintenance menu shows beside the device self-tests: network checks to the central
service and the fleet server, the configuration in force with its secrets hidden, the recent log
lines with personal data masked, and the outbox at a glance. None of it carries personal data.

Network results are `SelfTestResult`s (device "central" or "fleet") with N_-marked messages, so
the menu shows them as it shows a self-test.
"""

from __future__ import annotations

import collections
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from kiosk.config import KioskConfig
from kiosk.diag.selftest import SelfTestResult
from kiosk.i18n import N_
from kiosk.privacy import mask_name, mask_record_dict, redact_text

# Beyond this, the servers refuse the kiosk's signed requests (trust: a +-300 s window).
SIGNATURE_WINDOW_S = 300.0
CLOCK_WARN_S = 30.0
HIDDEN = "(hidden)"
_REASON_CHARS = 200

# -- network ----------------------------------------------------------------------------------


def network_checks(
    config: KioskConfig, *, signer: httpx.Auth | None = None, timeout_s: float = 3.0
) -> list[SelfTestResult]:
    """DNS, TCP connect (with latency), HTTP health (status, version) and clock skew (from the
    `Date` header), for the central service and the fleet server; a target stops at its first
    failure, since what follows cannot work. Never raises."""
    central = config.central.url
    results = (
        [_result("central", True, N_("{target}: embedded in this kiosk, nothing to reach"))]
        if central == "embedded"
        else _check_target("central", _health_url(central), signer, timeout_s)
    )
    fleet_url = getattr(getattr(config, "fleet", None), "url", "")
    if not fleet_url:
        results.append(_result("fleet", True, N_("{target}: off (no address configured)")))
    else:
        results += _check_target("fleet", fleet_url.rstrip("/") + "/health", signer, timeout_s)
    return results


def _health_url(central_url: str) -> str:
    root = central_url.rstrip("/")
    return (root if root.endswith("/api/v1") else root + "/api/v1") + "/health"


def _result(target: str, ok: bool, message: str, **params: str) -> SelfTestResult:
    return SelfTestResult(target, ok, message, {"target": target, **params})


def _why(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return redact_text(text.splitlines()[0])[:_REASON_CHARS]


def _check_target(
    target: str, url: str, signer: httpx.Auth | None, timeout_s: float
) -> list[SelfTestResult]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        message = N_("{target}: the address {url} is not an http(s) URL")
        return [_result(target, False, message, url=shown_url(url))]
    port = parts.port or (443 if parts.scheme == "https" else 80)
    results = []
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        message = N_("{target}: the name {host} does not resolve: {reason}")
        return [_result(target, False, message, host=host, reason=_why(exc))]
    addresses = sorted({str(info[4][0]) for info in infos})
    message = N_("{target}: {host} resolves to {addresses}")
    results.append(_result(target, True, message, host=host, addresses=", ".join(addresses)))
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            latency_ms = (time.perf_counter() - started) * 1000
    except OSError as exc:
        message = N_("{target}: cannot connect to {host}:{port}: {reason}")
        results.append(_result(target, False, message, host=host, port=str(port), reason=_why(exc)))
        return results
    message = N_("{target}: connected to {host}:{port} in {ms} ms")
    results.append(
        _result(target, True, message, host=host, port=str(port), ms=f"{latency_ms:.0f}")
    )
    results.extend(_check_health(target, url, signer, timeout_s))
    return results


def _check_health(
    target: str, url: str, signer: httpx.Auth | None, timeout_s: float
) -> list[SelfTestResult]:
    try:
        with httpx.Client(timeout=timeout_s, auth=signer, follow_redirects=False) as http:
            sent = time.time()
            response = http.get(url)
            received = time.time()
    except httpx.HTTPError as exc:
        message = N_("{target}: the health check got no answer: {reason}")
        return [_result(target, False, message, reason=_why(exc))]
    version = _version(response)
    if response.status_code != 200:
        message = N_("{target}: the health check answered HTTP {status}")
        return [_result(target, False, message, status=str(response.status_code))]
    results = [
        _result(
            target, True, N_("{target}: healthy (HTTP 200), version {version}"), version=version
        )
    ]
    results.append(_clock_result(target, response.headers.get("date"), (sent + received) / 2))
    return results


def _version(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    version = body.get("version") if isinstance(body, dict) else None
    return str(version)[:40] if version else "-"


def _clock_result(target: str, date_header: str | None, local: float) -> SelfTestResult:
    if not date_header:
        return _result(target, True, N_("{target}: no Date header; the clock was not compared"))
    try:
        server = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return _result(target, True, N_("{target}: unreadable Date header; clock not compared"))
    if server.tzinfo is None:
        server = server.replace(tzinfo=UTC)
    # The Date header has whole seconds: up to a second of skew is only its rounding.
    skew = server.timestamp() - local
    shown = f"{skew:+.0f}"
    if abs(skew) > SIGNATURE_WINDOW_S:
        message = N_("{target}: the clock is {skew} s off; signed requests will be refused")
        return _result(target, False, message, skew=shown)
    if abs(skew) > CLOCK_WARN_S:
        message = N_("{target}: the clock is {skew} s off; check the time service (NTP)")
        return _result(target, True, message, skew=shown)
    return _result(target, True, N_("{target}: clocks agree ({skew} s)"), skew=shown)


# -- configuration ----------------------------------------------------------------------------

_SECRET_WORDS = frozenset(
    {
        "key",
        "keys",
        "secret",
        "secrets",
        "password",
        "passwd",
        "pass",
        "pin",
        "pins",
        "token",
        "tokens",
        "credential",
        "credentials",
        "private",
        "salt",
        "hash",
        "apikey",
        "auth",
        "cookie",
        "signature",
    }
)


def is_secret_key(dotted: str) -> bool:
    """Whether a configuration key names a secret (or a file holding one): any of its words,
    at any level, is one of the secret words (``credentials.key_file``, ``maintenance.pin_file``)."""
    words = re.split(r"[._\-\s]+", dotted.lower())
    return any(word in _SECRET_WORDS for word in words)


_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#]*@")


def shown_url(value: str) -> str:
    """`value` with a URL's user info and secret-named query values replaced by ***."""
    # By pattern first: a URL urllib cannot parse (a stray "[") must not keep its password.
    value = _USERINFO.sub(r"\1***@", value)
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if not parts.scheme or not parts.netloc:
        return value
    netloc = parts.netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if is_secret_key(k) else v) for k, v in pairs], safe="*/:")
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment))


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _shown_value(key: str, value: Any) -> str:
    if is_secret_key(key):
        if isinstance(value, str) and key.endswith(("_file", "_path")) and value:
            # whether the file is there helps a technician; its name and contents do not
            return f"{HIDDEN}, file {'present' if Path(value).exists() else 'missing'}"
        return HIDDEN if value not in ("", None) else "(not set)"
    if isinstance(value, str):
        return shown_url(value)
    if isinstance(value, (list, tuple)):
        return json.dumps(
            [shown_url(v) if isinstance(v, str) else v for v in value], ensure_ascii=False
        )
    if value is None:
        return "-"
    return str(value)


def config_in_force(config: KioskConfig) -> list[tuple[str, str]]:
    """Every setting as (dotted key, value shown), in the configuration's order; secret values,
    key files and passwords in URLs hidden."""
    data = config.model_dump(mode="json")
    return [(key, _shown_value(key, value)) for key, value in _flatten(data, "")]


# -- recent logs ------------------------------------------------------------------------------

_CJK_NAME = re.compile(r"^[\u3400-\u9fff\U00020000-\U0002ffff·]{2,5}$")
_LABELLED_NAME = re.compile(
    r"(?P<label>\b(?:name|holder|姓名)\b['\"]?\s*[=:：]\s*['\"]?)(?P<value>[^\s,;'\"}\)]+)",
    re.IGNORECASE,
)


def _masked_arg(arg: Any) -> Any:
    if isinstance(arg, str):
        return mask_name(arg) if _CJK_NAME.match(arg) else redact_text(arg)
    if isinstance(arg, Mapping):
        return mask_record_dict(arg)
    return arg


def mask_log_message(record: logging.LogRecord) -> str:
    """The record's message with personal data masked: ID numbers anywhere, values labelled as
    names (``name=...``, ``姓名：...``), and arguments that are a bare Chinese name or a card dict.

    A bare Chinese word of two to five characters passed as an argument is taken for a name: a
    device or state name never is one, and masking a word too many is the safe side.
    """
    try:
        if isinstance(record.args, Mapping):
            message = str(record.msg) % {k: _masked_arg(v) for k, v in record.args.items()}
        elif record.args:
            message = str(record.msg) % tuple(_masked_arg(arg) for arg in record.args)
        else:
            message = str(record.msg)
    except (TypeError, ValueError, KeyError):
        message = str(record.msg)
    message = redact_text(message)
    return _LABELLED_NAME.sub(lambda m: m.group("label") + mask_name(m.group("value")), message)


class RecentLogs(logging.Handler):
    """The last `capacity` log lines, personal data masked, for the maintenance menu."""

    def __init__(self, capacity: int = 1000, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # A copy: other handlers of the same record see it as it was.
            shown = logging.makeLogRecord(record.__dict__)
            shown.msg, shown.args = mask_log_message(record), None
            shown.exc_info, shown.exc_text = None, None
            line = self.format(shown)
            error = record.exc_info[1] if record.exc_info else None
            if error is not None:
                # the exception's type and first line, not its traceback: a handler of a card
                # read has card data in its locals, and the menu needs only what failed
                line += f" [{type(error).__name__}: {_why(error)}]"
            self._lines.append(redact_text(line))
        except Exception:
            self.handleError(record)

    def lines(self, n: int = 200) -> list[str]:
        """The newest `n` lines, oldest first."""
        self.acquire()
        try:
            items = list(self._lines)
        finally:
            self.release()
        return items[-n:] if n > 0 else []


# -- outbox -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxSummary:
    """The outbox at a glance: never a payload, never personal data."""

    pending: int
    parked: int
    oldest_age_s: float | None  # the oldest undelivered message's age, waiting or parked
    last_error: str  # masked: the error a waiting message is being retried on; "" when none
    parked_error: str = ""  # masked: why the newest parked message was parked


def outbox_summary(
    outbox: Any, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> OutboxSummary:
    """Pending and parked counts, the oldest undelivered message's age and the last error,
    through the outbox's public methods only (`backlog`, `waiting`, `parked_messages`)."""
    parked = outbox.parked_messages()
    waiting = outbox.waiting()
    oldest_age: float | None = None
    last_error = ""
    parked_error = ""
    if waiting.last_error:  # retried by itself (central down, say), but the backlog grows
        last_error = _clean_error(f"{waiting.kind}: {waiting.last_error}")
    if parked:  # never retried by itself: the technician decides
        newest = max(parked, key=lambda p: (_aware(p.parked_at), p.id))
        parked_error = _clean_error(f"{newest.kind}: {newest.reason}: {newest.last_error}")
    starts = [p.created_at for p in parked]
    if waiting.oldest_created_at is not None:
        starts.append(waiting.oldest_created_at)
    if starts:
        oldest = min(_aware(t) for t in starts)
        oldest_age = max(0.0, (_aware(now()) - oldest).total_seconds())
    return OutboxSummary(outbox.backlog(), len(parked), oldest_age, last_error, parked_error)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _clean_error(text: str) -> str:
    # Errors are the server's words about a request; an ID number or a name could slip in.
    single = " ".join(text.split())
    masked = redact_text(single)
    masked = _LABELLED_NAME.sub(lambda m: m.group("label") + mask_name(m.group("value")), masked)
    return masked[:_REASON_CHARS]

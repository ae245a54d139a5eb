"""CupsClient without cupsd: the requests it sends, octet for octet; how it reads answers and
maps IPP and HTTP failures to the driver's errors; servers that hang or do not exist; and
hypothesis, for which any answer at all is a result or a typed DocumentPrinterError."""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.docprinter import (
    DocumentPrinterConfigError,
    DocumentPrinterError,
    JobFailedError,
    PrinterUnavailableError,
    QueueNotFoundError,
    cups_client,
    open_document_printer,
)
from drivers.docprinter.cups_client import (
    CupsClient,
    Endpoint,
    default_server,
    flatten,
    option_attributes,
    split_server,
)
from drivers.docprinter.ipp import (
    Attribute,
    Range,
    Resolution,
    Tag,
    attr,
    decode_message,
    encode_message,
)

USER = "kiosk"


def tlv(tag: int, name: str, value: bytes) -> bytes:
    raw = name.encode()
    return bytes([tag]) + struct.pack(">H", len(raw)) + raw + struct.pack(">H", len(value)) + value


def answer(
    status: int = 0,
    *groups: tuple[int, list[Attribute]],
    message: str | None = None,
) -> Callable[[int], bytes]:
    """An IPP answer builder: given the request's id, the response bytes."""
    operation = [
        attr("attributes-charset", Tag.CHARSET, "utf-8"),
        attr("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
    ]
    if message is not None:
        operation.append(attr("status-message", Tag.TEXT, message))

    def build(request_id: int) -> bytes:
        return encode_message(status, request_id, [(Tag.OPERATION, operation), *groups])

    return build


class FakeCups:
    """An httpx transport that records requests and answers from a script."""

    def __init__(self, *answers: Callable[[int], bytes] | httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = request.read()
        found = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(found, httpx.Response):
            return found
        request_id = struct.unpack(">I", body[4:8])[0]
        return httpx.Response(
            200, headers={"Content-Type": "application/ipp"}, content=found(request_id)
        )

    def client(self, server: str = "/run/cups/cups.sock", **kwargs: Any) -> CupsClient:
        return CupsClient(server, user=USER, transport=httpx.MockTransport(self.handle), **kwargs)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def printer_group(**attrs: Any) -> tuple[int, list[Attribute]]:
    tags = {int: Tag.INTEGER, bool: Tag.BOOLEAN, str: Tag.KEYWORD}
    found = []
    for name, value in attrs.items():
        name = name.replace("_", "-")
        many = value if isinstance(value, list) else [value]
        tag = Tag.ENUM if name == "printer-state" else tags[type(many[0])]
        found.append(Attribute(name, tag, tuple(many)))
    return Tag.PRINTER, found


# -- the requests, octet for octet ----------------------------------------------------------------


def test_get_printer_attributes_request_octets_path_and_headers() -> None:
    cups = FakeCups(answer(0, printer_group(printer_state=3)))
    cups.client().printer_attributes("kioskpdf", ["printer-state", "printer-state-reasons"])

    request = cups.last
    body = request.read()
    request_id = body[4:8]
    assert body == (
        b"\x02\x00"  # IPP 2.0, as libcups sends to cupsd
        + b"\x00\x0b"  # Get-Printer-Attributes
        + request_id
        + b"\x01"
        + tlv(0x47, "attributes-charset", b"utf-8")
        + tlv(0x48, "attributes-natural-language", b"en")
        + tlv(0x45, "printer-uri", b"ipp://localhost/printers/kioskpdf")
        + tlv(0x42, "requesting-user-name", USER.encode())
        + tlv(0x44, "requested-attributes", b"printer-state")
        + tlv(0x44, "", b"printer-state-reasons")
        + b"\x03"
    )
    assert request.method == "POST"
    assert str(request.url) == "http://localhost/printers/kioskpdf"
    assert request.headers["host"] == "localhost"  # cupsd checks it on its socket
    assert request.headers["content-type"] == "application/ipp"
    assert request.headers["content-length"] == str(len(body))
    assert request.headers["connection"] == "close"


def test_print_job_sends_typed_job_attributes_then_the_document() -> None:
    cups = FakeCups(answer(0, (Tag.JOB, [attr("job-id", Tag.INTEGER, 42)])))
    options = {
        "media": "A4",
        "sides": "two-sided-long-edge",
        "copies": "2",
        "fit-to-page": "true",
        "page-ranges": "1-3,5",
        "printer-resolution": "600dpi",
        "orientation-requested": "4",
        "ipp-attribute-fidelity": "false",
        "my-ppd-option": "Fast",
    }
    pdf = b"%PDF-1.4 personal data\n%%EOF\n"

    job_id = cups.client().submit("A4 queue", pdf, title="参保证明", options=options)

    assert job_id == 42
    request = cups.last
    assert str(request.url) == "http://localhost/printers/A4%20queue"
    sent = decode_message(request.read())
    assert sent.code == 0x0002 and sent.data == pdf
    operation = sent.group(Tag.OPERATION)
    assert operation is not None
    assert [(a.name, a.tag, a.values) for a in operation.values()] == [
        ("attributes-charset", Tag.CHARSET, ("utf-8",)),
        ("attributes-natural-language", Tag.NATURAL_LANGUAGE, ("en",)),
        ("printer-uri", Tag.URI, ("ipp://localhost/printers/A4%20queue",)),
        ("requesting-user-name", Tag.NAME, (USER,)),
        ("job-name", Tag.NAME, ("参保证明",)),
        ("document-format", Tag.MIME_MEDIA_TYPE, ("application/pdf",)),
        ("ipp-attribute-fidelity", Tag.BOOLEAN, (False,)),
    ]
    job = sent.group(Tag.JOB)
    assert job is not None
    assert {a.name: (a.tag, a.values) for a in job.values()} == {
        "media": (Tag.KEYWORD, ("A4",)),
        "sides": (Tag.KEYWORD, ("two-sided-long-edge",)),
        "copies": (Tag.INTEGER, (2,)),
        "fit-to-page": (Tag.BOOLEAN, (True,)),
        "page-ranges": (Tag.RANGE_OF_INTEGER, (Range(1, 3), Range(5, 5))),
        "printer-resolution": (Tag.RESOLUTION, (Resolution(600, 600, 3),)),
        "orientation-requested": (Tag.ENUM, (4,)),
        "my-ppd-option": (Tag.NAME, ("Fast",)),
    }


def test_cancel_and_job_attributes_name_the_job_and_the_same_user() -> None:
    cups = FakeCups(
        answer(0, (Tag.JOB, [attr("job-id", Tag.INTEGER, 7)])),
        answer(0),
    )
    client = cups.client()
    client.job_attributes(7, ["job-state"])
    assert client.cancel(7) is True

    for request, operation in zip(cups.requests, (0x0009, 0x0008), strict=True):
        assert str(request.url) == "http://localhost/jobs/7"
        sent = decode_message(request.read())
        assert sent.code == operation
        group = sent.group(Tag.OPERATION)
        assert group is not None
        assert group["job-uri"].values == ("ipp://localhost/jobs/7",)
        assert group["requesting-user-name"].values == (USER,)  # the owner may cancel


def test_request_ids_differ_from_one_request_to_the_next() -> None:
    cups = FakeCups(answer(0))
    client = cups.client()
    client.printer_attributes("q", ["printer-state"])
    client.printer_attributes("q", ["printer-state"])
    first, second = (r.read()[4:8] for r in cups.requests)
    assert first != second


@pytest.mark.parametrize(
    ("server", "url", "uri"),
    [
        ("printhost", "http://printhost:631/printers/q", "ipp://printhost:631/printers/q"),
        ("printhost:8631", "http://printhost:8631/printers/q", "ipp://printhost:8631/printers/q"),
        ("[::1]:631", "http://[::1]:631/printers/q", "ipp://[::1]:631/printers/q"),
        ("/tmp/x/cups.sock/version=1.1", "http://localhost/printers/q", "ipp://localhost/printers/q"),
    ],
)  # fmt: skip
def test_a_tcp_server_is_named_in_the_url_and_the_printer_uri(server: str, url: str, uri: str) -> None:  # fmt: skip
    cups = FakeCups(answer(0))
    cups.client(server).printer_attributes("q", ["printer-state"])
    assert str(cups.last.url) == url
    group = decode_message(cups.last.read()).group(Tag.OPERATION)
    assert group is not None and group["printer-uri"].values == (uri,)


# -- answers -----------------------------------------------------------------------------------


def test_printer_attributes_have_the_shape_the_driver_reads() -> None:
    cups = FakeCups(
        answer(
            0,
            printer_group(
                printer_state=5,
                printer_state_reasons=["media-empty-error", "paused"],
                printer_is_accepting_jobs=True,
                queued_job_count=2,
            ),
        )
    )
    attrs = cups.client().printer_attributes("q", [])
    assert attrs == {
        "printer-state": 5,
        "printer-state-reasons": ["media-empty-error", "paused"],
        "printer-is-accepting-jobs": True,
        "queued-job-count": 2,
    }


def test_flatten_gives_one_value_as_itself_and_supported_values_as_lists() -> None:
    attrs = {
        "printer-state-reasons": Attribute("printer-state-reasons", Tag.KEYWORD, ("none",)),
        "sides-supported": Attribute("sides-supported", Tag.KEYWORD, ("one-sided",)),
        "media-col": Attribute(
            "media-col", Tag.BEGIN_COLLECTION, ({"media-size": [{"x": [1]}], "t": ["a", "b"]},)
        ),
    }
    assert flatten(attrs) == {
        "printer-state-reasons": "none",
        "sides-supported": ["one-sided"],
        "media-col": {"media-size": {"x": 1}, "t": ["a", "b"]},
    }
    assert flatten(None) == {}


def test_an_answer_without_a_printer_group_is_no_attributes() -> None:
    assert FakeCups(answer(0)).client().printer_attributes("q", []) == {}


def test_cancel_of_a_job_that_has_ended_is_false() -> None:
    cups = FakeCups(answer(0x0404, message="Job #3 is already completed - can't cancel."))
    assert cups.client().cancel(3) is False


def test_a_print_job_answer_without_a_job_id_is_unavailable() -> None:
    with pytest.raises(PrinterUnavailableError, match="no job-id"):
        FakeCups(answer(0)).client().submit("q", b"%PDF", title="t", options={})


@pytest.mark.parametrize(
    ("status", "call", "error", "words"),
    [
        (0x0406, "printer", QueueNotFoundError, "has no printer queue 'q'"),
        (0x0406, "submit", QueueNotFoundError, "has no printer queue 'q'"),
        (0x0406, "job", JobFailedError, "no longer knows job 5"),
        (0x0406, "cancel", JobFailedError, "no longer knows job 5"),
        (0x0506, "submit", PrinterUnavailableError, "not accepting jobs: went away"),
        (0x0401, "cancel", DocumentPrinterConfigError, "not allowed: Cancel-Job for job 5"),
        (0x0402, "printer", DocumentPrinterConfigError, "not allowed"),
        (0x0403, "printer", DocumentPrinterConfigError, "not allowed"),
        (0x0400, "submit", DocumentPrinterConfigError, r"refused: .*\(IPP 0x0400\)"),
        (0x040B, "submit", DocumentPrinterConfigError, "refused: Print-Job for queue 'q'"),
        (0x0405, "printer", DocumentPrinterError, "went away"),
        (0x0500, "printer", PrinterUnavailableError, r"went away \(IPP 0x0500\)"),
        (0x0502, "job", PrinterUnavailableError, r"Get-Job-Attributes for job 5 .* \(IPP 0x0502\)"),
        (0x0507, "printer", PrinterUnavailableError, "IPP 0x0507"),
    ],
)  # fmt: skip
def test_ipp_status_codes_map_to_the_error_tree(
    status: int, call: str, error: type[Exception], words: str
) -> None:
    client = FakeCups(answer(status, message="went away")).client()
    calls = {
        "printer": lambda: client.printer_attributes("q", ["printer-state"]),
        "job": lambda: client.job_attributes(5, ["job-state"]),
        "cancel": lambda: client.cancel(5),
        "submit": lambda: client.submit("q", b"%PDF", title="t", options={}),
    }
    with pytest.raises(error, match=words) as raised:
        calls[call]()
    if error is DocumentPrinterError:
        assert type(raised.value) is DocumentPrinterError  # a client error with no better type


def test_without_a_status_message_the_status_is_named() -> None:
    client = FakeCups(answer(0x0502)).client()
    with pytest.raises(PrinterUnavailableError, match="server-error-service-unavailable"):
        client.printer_attributes("q", [])


@pytest.mark.parametrize(
    ("response", "error", "words"),
    [
        (httpx.Response(401), DocumentPrinterConfigError, "not allowed: .* HTTP 401"),
        (httpx.Response(403), DocumentPrinterConfigError, "not allowed"),
        (httpx.Response(426), DocumentPrinterConfigError, "requires encryption"),
        (httpx.Response(500), PrinterUnavailableError, "HTTP 500"),
        (httpx.Response(404), PrinterUnavailableError, "HTTP 404"),
        (httpx.Response(200, headers={"Content-Type": "text/html"}, content=b"<html>"),
         PrinterUnavailableError, "the answer is text/html, not IPP"),
        (httpx.Response(200, content=b"\x02\x00"), PrinterUnavailableError, "untyped, not IPP"),
        (httpx.Response(200, headers={"Content-Type": "application/ipp", "Content-Encoding": "gzip"},
                        content=gzip.compress(b"\x02\x00")),
         PrinterUnavailableError, "application/ipp in gzip, not IPP"),
        (httpx.Response(200, headers={"Content-Type": "application/ipp"}, content=b"\x02\x00"),
         PrinterUnavailableError, "not IPP .*too short"),
        (httpx.Response(200, headers={"Content-Type": "application/ipp", "Content-Length": "9999999"}),
         PrinterUnavailableError, "over 1048576 bytes"),
        (httpx.Response(200, headers={"Content-Type": "application/ipp"}, content=b"\x02" * 1_100_000),
         PrinterUnavailableError, "over 1048576 bytes"),
        (httpx.Response(200, headers={"Content-Type": "application/ipp"},
                        content=encode_message(0, 99999, [])),
         PrinterUnavailableError, "answer is for request 99999"),
    ],
)  # fmt: skip
def test_http_failures_and_foreign_answers_map_to_the_error_tree(
    response: httpx.Response, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        FakeCups(response).client().printer_attributes("q", ["printer-state"])


def test_a_broken_connection_is_unavailable() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    client = CupsClient("/x.sock", transport=httpx.MockTransport(broken))
    with pytest.raises(PrinterUnavailableError, match="failed: Server disconnected"):
        client.printer_attributes("q", [])


# -- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"copies": "two"}, "copies='two': a whole number"),
        ({"copies": "99999999999"}, "a whole number"),
        ({"page-ranges": "5-2"}, "runs backwards"),
        ({"page-ranges": "1-3,x"}, "page range"),
        ({"printer-resolution": "600"}, "resolution such as 600dpi"),
        ({"fit-to-page": "maybe"}, "true or false"),
        ({"job-name": "x"}, "'job-name' is set by the driver"),
        ({"document-format": "text/plain"}, "set by the driver"),
        ({"media": "A4纸"}, "US-ASCII"),
        ({"my-option": "x" * 40000}, "longer than IPP allows"),
        ({"my-option": "bad \udcff"}, "not valid Unicode"),
    ],
)
def test_bad_options_are_config_errors_and_nothing_is_sent(
    options: dict[str, str], words: str
) -> None:
    cups = FakeCups(answer(0))
    with pytest.raises(DocumentPrinterConfigError, match=words):
        cups.client().submit("q", b"%PDF", title="t", options=options)
    assert cups.requests == []


def test_option_values_as_cups_reads_them() -> None:
    operation, job = option_attributes(
        {"page-ranges": "-3,7-", "printer-resolution": "600x300dpcm", "wrap": "Yes", "x": "FALSE"}
    )
    assert operation == []
    assert job == [
        Attribute("page-ranges", Tag.RANGE_OF_INTEGER, (Range(1, 3), Range(7, 2**31 - 1))),
        Attribute("printer-resolution", Tag.RESOLUTION, (Resolution(600, 300, 4),)),
        Attribute("wrap", Tag.BOOLEAN, (True,)),
        Attribute("x", Tag.BOOLEAN, (False,)),
    ]


# -- where the server is -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "endpoint"),
    [
        ("/run/cups/cups.sock", Endpoint("localhost", socket="/run/cups/cups.sock")),
        ("printhost", Endpoint("printhost", 631)),
        ("printhost:8631", Endpoint("printhost", 8631)),
        ("[::1]:631", Endpoint("::1", 631)),
        ("::1", Endpoint("::1", 631)),
        ("printhost/version=1.1", Endpoint("printhost", 631)),
        ("192.168.1.20:631", Endpoint("192.168.1.20", 631)),
    ],
)
def test_server_names_to_endpoints(server: str, endpoint: Endpoint) -> None:
    assert split_server(server) == endpoint


@pytest.mark.parametrize(
    "server",
    ["printhost:0", "printhost:70000", ":631", "print host", "a/b", "printhost:²", "::g", "a@b"],
)
def test_bad_server_names_are_config_errors(server: str) -> None:
    with pytest.raises(DocumentPrinterConfigError, match="bad CUPS server"):
        split_server(server)


@given(st.text(max_size=40))
def test_any_server_name_is_an_endpoint_or_a_config_error(server: str) -> None:
    with contextlib.suppress(DocumentPrinterConfigError):
        endpoint = split_server(server)
        assert endpoint.socket or 1 <= endpoint.port <= 0xFFFF
        httpx.URL(endpoint.url("/printers/q"))  # always a URL httpx accepts


def test_a_bad_server_in_the_url_fails_at_once() -> None:
    with pytest.raises(DocumentPrinterConfigError, match="bad CUPS server 'printhost:70000'"):
        open_document_printer("cups://q?server=printhost:70000")


def test_the_default_server_is_found_as_libcups_finds_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    system, user = tmp_path / "client.conf", tmp_path / "user.conf"
    monkeypatch.setattr(cups_client, "CLIENT_CONF", (str(system), str(user)))
    monkeypatch.setattr(cups_client, "DEFAULT_SOCKET", str(tmp_path / "cups.sock"))
    monkeypatch.delenv("CUPS_SERVER", raising=False)
    assert default_server() == "localhost:631"  # nothing configured, no local socket

    (tmp_path / "cups.sock").touch()
    assert default_server() == str(tmp_path / "cups.sock")

    system.write_text("# site\nServerName printhost:8631\n")
    assert default_server() == "printhost:8631"
    user.write_text("servername /home/k/cups.sock\n")
    assert default_server() == "/home/k/cups.sock"  # the user's file wins, as in libcups

    monkeypatch.setenv("CUPS_SERVER", "envhost")
    assert default_server() == "envhost"


def test_a_client_without_a_server_asks_the_default_one_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cups = FakeCups(answer(0))
    client = CupsClient(None, transport=httpx.MockTransport(cups.handle))
    monkeypatch.setenv("CUPS_SERVER", "first:631")
    client.printer_attributes("q", [])
    monkeypatch.setenv("CUPS_SERVER", "second:631")
    client.printer_attributes("q", [])
    assert [r.url.host for r in cups.requests] == ["first", "second"]
    client.close()
    client.close()


# -- real sockets: nobody there, or somebody who never answers ---------------------------------------


@pytest.fixture
def silent_unix_server(tmp_path: Path) -> Iterator[str]:
    """A unix socket that accepts connections, reads, and never answers."""
    path = str(tmp_path / "silent.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        held: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            server.settimeout(0.1)
            while not stop.is_set():
                try:
                    held.append(server.accept()[0])
                except OSError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        yield path
        stop.set()
        thread.join()
        for conn in held:
            conn.close()


def test_a_server_that_never_answers_times_out(silent_unix_server: str) -> None:
    client = CupsClient(silent_unix_server, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(PrinterUnavailableError, match=r"no answer within 0\.3 s"):
        client.printer_attributes("q", ["printer-state"])
    assert time.monotonic() - started < 3


def test_a_server_that_dribbles_its_answer_is_cut_off(tmp_path: Path) -> None:
    """Each byte arrives within the read timeout, but the whole answer does not."""
    path = str(tmp_path / "slow.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        done = threading.Event()

        def dribble() -> None:
            conn = server.accept()[0]
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\n")
                conn.sendall(b"Content-Length: 1000\r\n\r\n")
                while not done.wait(0.05):
                    try:
                        conn.sendall(b"\x02")
                    except OSError:
                        return

        thread = threading.Thread(target=dribble, daemon=True)
        thread.start()
        client = CupsClient(path, timeout=0.4)
        started = time.monotonic()
        with pytest.raises(PrinterUnavailableError, match="no answer within"):
            client.printer_attributes("q", [])
        assert time.monotonic() - started < 3
        done.set()
        thread.join()


def test_a_tcp_server_that_never_answers_times_out() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()  # connections wait in the backlog, unanswered
        port = server.getsockname()[1]
        client = CupsClient(f"127.0.0.1:{port}", timeout=0.3)
        with pytest.raises(PrinterUnavailableError, match="no answer within"):
            client.job_attributes(1, ["job-state"])


def test_nobody_listening_is_cannot_connect(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nobody listens there
    with pytest.raises(PrinterUnavailableError, match=f"cannot connect to 127.0.0.1:{port}"):
        CupsClient(f"127.0.0.1:{port}").printer_attributes("q", [])
    stale = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as gone:
        gone.bind(str(stale))  # a socket file left by a cupsd that has stopped
    with pytest.raises(PrinterUnavailableError, match="cannot connect"):
        CupsClient(str(stale)).cancel(1)


# -- hypothesis: whatever comes back -------------------------------------------------------------

OPERATIONS: dict[str, Callable[[CupsClient], object]] = {
    "printer": lambda c: c.printer_attributes("q", ["printer-state"]),
    "job": lambda c: c.job_attributes(3, ["job-state"]),
    "cancel": lambda c: c.cancel(3),
    "submit": lambda c: c.submit("q", b"%PDF-1.4\n%%EOF\n", title="t", options={"copies": "1"}),
}


def _answers_or_raises_ours(body: bytes | Callable[[int], bytes], operation: str, **http: Any) -> None:  # fmt: skip
    def handler(request: httpx.Request) -> httpx.Response:
        request_id = struct.unpack(">I", request.read()[4:8])[0]
        content = body(request_id) if callable(body) else body
        return httpx.Response(content=content, **http)

    client = CupsClient("/x.sock", transport=httpx.MockTransport(handler))
    with contextlib.suppress(DocumentPrinterError):  # typed, as the driver needs
        OPERATIONS[operation](client)  # anything else raised fails the test


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=200), operation=st.sampled_from(sorted(OPERATIONS)))
def test_arbitrary_answer_bytes_are_a_result_or_a_document_printer_error(body: bytes, operation: str) -> None:  # fmt: skip
    _answers_or_raises_ours(body, operation, status_code=200, headers={"Content-Type": "application/ipp"})  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    version=st.sampled_from([b"\x01\x01", b"\x02\x00"]),
    status=st.integers(0, 0xFFFF),
    tail=st.binary(max_size=200),
    operation=st.sampled_from(sorted(OPERATIONS)),
)
def test_answers_for_the_right_request_with_any_status_and_attributes(
    version: bytes, status: int, tail: bytes, operation: str
) -> None:
    """A valid header echoing the request id reaches the status and attribute handling."""

    def body(request_id: int) -> bytes:
        return version + struct.pack(">HI", status, request_id) + tail

    _answers_or_raises_ours(body, operation, status_code=200, headers={"Content-Type": "application/ipp"})  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    status=st.integers(0, 0xFFFF),
    groups=st.lists(
        st.tuples(
            st.sampled_from([Tag.OPERATION, Tag.JOB, Tag.PRINTER]),
            st.lists(
                st.sampled_from(
                    [
                        attr("job-id", Tag.INTEGER, 5),
                        attr("job-id", Tag.KEYWORD, "five"),
                        attr("job-id", Tag.INTEGER, -1),
                        attr("job-id", Tag.NO_VALUE, None),
                        attr("job-state", Tag.ENUM, 42),
                        attr("printer-state", Tag.ENUM, 3, 4),
                        attr("status-message", Tag.OCTET_STRING, b"\xff"),
                        attr("status-message", Tag.TEXT, "busy"),
                    ]
                ),
                max_size=4,
            ),
        ),
        max_size=3,
    ),
    operation=st.sampled_from(sorted(OPERATIONS)),
)
def test_well_formed_answers_with_odd_attributes(
    status: int, groups: list[tuple[int, list[Attribute]]], operation: str
) -> None:
    _answers_or_raises_ours(
        lambda request_id: encode_message(status, request_id, groups),
        operation,
        status_code=200,
        headers={"Content-Type": "application/ipp"},
    )


@settings(max_examples=100, deadline=None)
@given(
    code=st.integers(100, 599).filter(lambda c: c not in (101, 204, 304) and c >= 200),
    kind=st.sampled_from(["application/ipp", "text/html", "", "application/ipp; charset=utf-8"]),
    body=st.binary(max_size=50),
)
def test_any_http_status_and_type_is_a_result_or_ours(code: int, kind: str, body: bytes) -> None:
    _answers_or_raises_ours(body, "printer", status_code=code, headers={"Content-Type": kind} if kind else {})  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(
    name=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    value=st.text(max_size=60),
)
def test_any_option_is_sent_or_a_config_error(name: str, value: str) -> None:
    cups = FakeCups(answer(0, (Tag.JOB, [attr("job-id", Tag.INTEGER, 1)])))
    try:
        cups.client().submit("q", b"%PDF", title="t", options={name: value})
    except DocumentPrinterConfigError:
        assert cups.requests == []

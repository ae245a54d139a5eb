"""The printer driver against the ESC/POS simulator over real TCP, and the PNG it renders."""

from __future__ import annotations

import gc
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode as zbar_decode

from drivers.printer import (
    CoverOpen,
    Cut,
    PaperLevel,
    PaperOut,
    PrinterHardwareError,
    PrinterOffline,
    PrinterTimeout,
    Qr,
    Receipt,
    ReceiptPrinter,
    Text,
    decode_escpos,
    render_escpos,
    selftest_receipt,
)
from drivers.printer.render import find_cjk_font, render_receipt
from drivers.printer.simulator import PrinterSimulator

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
NOW = datetime(2025, 5, 1, 9, 30, 0)


@pytest.fixture
def sim() -> Iterator[PrinterSimulator]:
    with PrinterSimulator() as simulator:
        yield simulator


def _printer(sim: PrinterSimulator, timeout: float = 2.0) -> ReceiptPrinter:
    return ReceiptPrinter(sim.url, timeout=timeout)


def test_selftest_receipt_arrives_over_tcp_and_decodes(sim: PrinterSimulator) -> None:
    status = _printer(sim).print_receipt(selftest_receipt("KIOSK-0042", NOW))

    receipt = sim.wait_for_receipt(timeout=5)
    assert status.paper is PaperLevel.FULL
    assert "打印测试" in receipt.text
    assert "KIOSK-0042" in receipt.text
    assert receipt.qr_payloads == ("KIOSK-SELFTEST",)
    assert receipt.elements[-1] == Cut()
    assert receipt == selftest_receipt("KIOSK-0042", NOW)
    # Status was asked before the job and again after its cut, on the same connection.
    job = sim.jobs[0]
    assert job.decoded.status_queries == (1, 2, 3, 4)
    assert job.complete
    assert decode_escpos(sim.received).status_queries == (1, 2, 3, 4) * 2


def test_status_of_a_healthy_printer(sim: PrinterSimulator) -> None:
    status = _printer(sim).status()
    assert status.known and status.ready and status.paper is PaperLevel.FULL


def test_paper_out_is_raised_before_any_text_is_sent(sim: PrinterSimulator) -> None:
    sim.set_paper("out")

    with pytest.raises(PaperOut, match="out of paper; nothing was printed") as caught:
        _printer(sim).print_receipt(selftest_receipt("KIOSK-0042", NOW))

    assert caught.value.status is not None and caught.value.status.paper is PaperLevel.OUT
    _wait_until(lambda: sim.connections == 1 and len(sim.received) == 12)
    sent = decode_escpos(sim.received)
    assert sent.items == ()  # only the four DLE EOT queries reached the printer
    assert sent.status_queries == (1, 2, 3, 4)
    assert sim.jobs == []


def test_paper_low_prints_and_reports_a_warning(sim: PrinterSimulator) -> None:
    sim.set_paper("low")

    status = _printer(sim).print_receipt(selftest_receipt("KIOSK-0042", NOW))

    assert status.paper is PaperLevel.LOW
    assert status.warnings == ("paper low",)
    assert sim.wait_for_receipt().qr_payloads == ("KIOSK-SELFTEST",)


def test_cover_open_is_its_own_error(sim: PrinterSimulator) -> None:
    sim.set_cover_open()
    with pytest.raises(CoverOpen, match="cover open"):
        _printer(sim).print_receipt(Receipt((Text("x"),)))


def test_cutter_jam_is_a_hardware_error(sim: PrinterSimulator) -> None:
    sim.set_error(cutter=True)
    with pytest.raises(PrinterHardwareError, match="cutter error"):
        _printer(sim).print_receipt(Receipt((Text("x"),)))


def test_offline_printer_is_offline(sim: PrinterSimulator) -> None:
    sim.set_online(False)
    with pytest.raises(PrinterOffline, match="offline"):
        _printer(sim).print_receipt(Receipt((Text("x"),)))


def test_paper_running_out_during_the_job_is_reported_after_it(sim: PrinterSimulator) -> None:
    printer = _printer(sim)
    # The simulated roll runs out exactly when the cut arrives.
    original = sim._accept_item

    def accept_then_run_out() -> bool:
        ok = original()
        if sim.jobs == [] and ok and sim.received.endswith(b"\x1dVA\x00"):
            sim.set_paper("out")
        return ok

    sim._accept_item = accept_then_run_out  # type: ignore[method-assign]
    with pytest.raises(PaperOut, match="may be incomplete"):
        printer.print_receipt(Receipt((Text("x"), Cut())))


def test_printer_that_does_not_answer_status_times_out(sim: PrinterSimulator) -> None:
    sim.set_mute()
    started = time.monotonic()
    with pytest.raises(PrinterTimeout, match="did not answer status query DLE EOT 1"):
        _printer(sim, timeout=0.3).print_receipt(Receipt((Text("x"),)))
    assert time.monotonic() - started < 2
    assert sim.jobs == []


def test_printer_dropping_the_connection_mid_job_is_offline(sim: PrinterSimulator) -> None:
    sim.disconnect_after(40)  # 12 bytes of status queries, then part of the job
    with pytest.raises(PrinterOffline, match=str(sim.port)):
        _printer(sim).print_receipt(selftest_receipt("KIOSK-0042", NOW))
    job = sim.wait_for_job()
    assert not job.complete  # what did arrive was printed, without a cut


def test_stopped_simulator_means_connection_refused(sim: PrinterSimulator) -> None:
    sim.stop()
    with pytest.raises(PrinterOffline, match="cannot connect .*Connection refused"):
        _printer(sim).print_receipt(Receipt((Text("x"),)))


def test_nothing_listening_is_offline_with_a_clear_message() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    printer = ReceiptPrinter(f"tcp://127.0.0.1:{port}", timeout=1)
    with pytest.raises(PrinterOffline) as caught:
        printer.status()
    assert (
        str(caught.value)
        == f"cannot connect to the printer at tcp://127.0.0.1:{port}: Connection refused"
    )
    assert caught.value.zh == "打印机未连接或已离线"


def test_receipts_arrive_in_order_and_a_cut_ends_each_job(sim: PrinterSimulator) -> None:
    printer = _printer(sim)
    printer.print_receipt(Receipt((Text("第一张"), Cut())))
    printer.print_receipt(Receipt((Text("第二张"), Cut(), Text("第三张"), Cut())))

    texts = [sim.wait_for_receipt().text for _ in range(3)]
    assert texts == ["第一张", "第二张", "第三张"]
    with pytest.raises(TimeoutError):
        sim.wait_for_receipt(timeout=0.1)


def test_jobs_are_saved_as_bytes_png_and_text(tmp_path: Path) -> None:
    receipt = selftest_receipt("KIOSK-SAVE", NOW)
    with PrinterSimulator(out_dir=tmp_path) as sim:
        ReceiptPrinter(sim.url).print_receipt(receipt)
        sim.wait_for_job()
    raw = (tmp_path / "job-0001.bin").read_bytes()
    assert render_escpos(receipt) in raw
    assert decode_escpos(raw).to_receipt() == receipt
    assert Image.open(tmp_path / "job-0001.png").width == 576
    assert "KIOSK-SAVE" in (tmp_path / "job-0001.txt").read_text(encoding="utf-8")


def test_rendered_selftest_png_shows_chinese_and_a_readable_qr(sim: PrinterSimulator) -> None:
    """GIVEN the self-test printed on the simulator WHEN its paper is rendered THEN the QR scans.

    The PNG is kept in artifacts/printer_selftest.png for a person to look at.
    """
    _printer(sim).print_receipt(selftest_receipt("KIOSK-0042", NOW))
    sim.wait_for_receipt()

    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "printer_selftest.png"
    path.write_bytes(sim.last_png())
    image = Image.open(path)

    assert image.width == 576
    assert [s.data for s in zbar_decode(image)] == [b"KIOSK-SELFTEST"]
    font = find_cjk_font()
    assert font is not None and font.name.endswith("CJK SC")  # Simplified Chinese glyphs


def test_render_receipt_matches_what_the_simulator_printed(sim: PrinterSimulator) -> None:
    receipt = Receipt(
        (Text("核验码 1234", double=True), Qr("https://example.gov.cn/v?c=1234"), Cut())
    )
    _printer(sim).print_receipt(receipt)
    sim.wait_for_receipt()
    assert sim.jobs[0].image().tobytes() == render_receipt(receipt).tobytes()


def test_paper_runs_low_after_n_and_out_after_m_receipts(sim: PrinterSimulator) -> None:
    sim.run_out_after(low=1, out=3)
    printer = _printer(sim)
    slip = Receipt((Text("x"), Cut()))
    assert printer.status().paper is PaperLevel.FULL
    assert printer.print_receipt(slip).paper is PaperLevel.LOW  # the first one trips near-end
    assert printer.print_receipt(slip).paper is PaperLevel.LOW
    with pytest.raises(PaperOut) as info:
        printer.print_receipt(slip)  # the roll ends with the third
    assert info.value.sent and len(sim.jobs) == 3
    with pytest.raises(PaperOut) as info:
        printer.print_receipt(slip)
    assert not info.value.sent and len(sim.jobs) == 3


def test_run_out_counts_only_cut_receipts_and_zero_means_now(sim: PrinterSimulator) -> None:
    sim.run_out_after(low=0)
    assert sim.status.paper is PaperLevel.LOW
    sim.set_paper("full")
    sim.run_out_after(out=1)
    _printer(sim).print_receipt(Receipt((Text("no cut"),)))  # a job without a cut
    assert sim.status.paper is PaperLevel.FULL
    with pytest.raises(ValueError):
        sim.run_out_after(low=-1)


def test_stop_and_start_is_a_power_cycle_on_the_same_port(sim: PrinterSimulator) -> None:
    port = sim.port
    sim.stop()
    with pytest.raises(PrinterOffline, match="Connection refused"):
        _printer(sim).status()
    sim.start()
    assert sim.port == port and _printer(sim).status().ready


def test_simulator_runs_as_a_module(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drivers.printer.simulator",
            "--port",
            str(port),
            "--out",
            str(tmp_path),
            "--low-after",
            "1",
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert f"tcp://127.0.0.1:{port}" in proc.stdout.readline()
        printer = ReceiptPrinter(f"tcp://127.0.0.1:{port}")
        status = printer.print_receipt(selftest_receipt("KIOSK-CLI", NOW))
        assert status.paper is PaperLevel.LOW  # --low-after 1
        _wait_until(lambda: (tmp_path / "job-0001.png").exists())
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def _wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


# --- a simulator that runs for days: what it keeps must not grow with each connection ---


def _sim_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("printer-sim-")]


def _poll_status(sim: PrinterSimulator, connections: int) -> None:
    """What the driver does every 5 s: a connection, DLE EOT 1..4, close."""
    for _ in range(connections):
        with socket.create_connection((sim.host, sim.port), timeout=2) as conn:
            conn.sendall(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04")
            answers = b""
            while len(answers) < 4:
                answers += conn.recv(4)


def _settled(sim: PrinterSimulator, connections: int) -> None:
    # The accept thread stays; every connection's thread must end and be dropped.
    _wait_until(lambda: sim.connections == connections and len(_sim_threads()) <= 1, timeout=10)


def test_status_polls_for_days_keep_memory_and_threads_bounded(sim: PrinterSimulator) -> None:
    _poll_status(sim, 200)  # warm-up: caches, the deques' first blocks, logging
    _settled(sim, 200)
    tracemalloc.start()
    try:
        _poll_status(sim, 1000)
        _settled(sim, 1200)
        gc.collect()
        at_1000 = tracemalloc.get_traced_memory()[0]
        _poll_status(sim, 1000)
        _settled(sim, 2200)
        gc.collect()
        at_2000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert _sim_threads() == ["printer-sim-accept"]
    assert sim.thread_count <= 1
    assert sim.job_count == 0 and sim.jobs == []
    assert sim.received_bytes == 2200 * 12  # counted, not kept
    assert len(sim.received) <= PrinterSimulator.RECEIVED_KEPT
    # A thread object and its bytes were ~2 KB a connection; allow noise, not growth.
    assert at_2000 - at_1000 < 64 * 1024, at_2000 - at_1000


def test_only_the_last_jobs_are_kept_and_all_are_counted() -> None:
    with PrinterSimulator(jobs_kept=3) as sim:
        printer = _printer(sim)
        for i in range(5):
            printer.print_receipt(Receipt((Text(f"receipt {i}"), Cut())))
        _wait_until(lambda: sim.job_count == 5)
        assert [job.number for job in sim.jobs] == [3, 4, 5]
        assert sim.received_bytes > len(sim.received) or len(sim.received) > 0
        # A waiter that fell behind gets the oldest job still kept, not an error.
        assert sim.wait_for_receipt().text.startswith("receipt 2")
        assert sim.wait_for_receipt().text.startswith("receipt 3")
        assert sim.wait_for_receipt().text.startswith("receipt 4")
        with pytest.raises(TimeoutError):
            sim.wait_for_job(timeout=0.1)


def test_received_keeps_whole_connections_within_its_budget() -> None:
    with PrinterSimulator(received_kept=4000) as sim:
        _printer(sim).print_receipt(selftest_receipt("KIOSK-0042", NOW))
        _wait_until(lambda: sim.job_count == 1 and len(_sim_threads()) <= 1)
        one_job = sim.received_bytes
        assert len(sim.received) == one_job < 4000  # all kept while the budget has room
        _poll_status(sim, 100)
        _settled(sim, 101)
        kept = sim.received
        assert sim.received_bytes == one_job + 100 * 12
        # The oldest connections went first, whole: what is kept decodes from a command boundary.
        assert 0 < len(kept) <= 4000 and len(kept) % 12 == 0
        assert decode_escpos(kept).status_queries == (1, 2, 3, 4) * (len(kept) // 12)


def test_one_connection_polling_for_long_holds_only_the_latest_queries(
    sim: PrinterSimulator,
) -> None:
    polls = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"
    job = render_escpos(Receipt((Text("after many polls"), Cut())))
    with socket.create_connection((sim.host, sim.port), timeout=2) as conn:
        for _ in range(500):
            conn.sendall(polls)
            answers = b""
            while len(answers) < 4:
                answers += conn.recv(4)
        conn.sendall(job)
        printed = sim.wait_for_job()
    assert printed.receipt is not None and "after many polls" in printed.receipt.text
    # The job holds the queries just before it, not the 2,000 of the whole connection.
    assert len(printed.decoded.status_queries) <= 16
    assert printed.raw.endswith(job) and len(printed.raw) <= len(job) + 16 * 3
    assert sim.received_bytes == 500 * len(polls) + len(job)

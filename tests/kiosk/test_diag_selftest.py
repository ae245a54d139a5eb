"""The self-test layer the maintenance menu and `kiosk diag selftest` share, on real parts: the
printer simulator over TCP, a real cupsd, the GA 467 simulator over a pty, the QR scanner
simulator over a pty, pcscd with virtual cards, and camera frames from files."""

from __future__ import annotations

import importlib.util
import io
import json
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric import ed25519

from drivers.camera import open_camera
from drivers.docprinter import open_document_printer
from drivers.docprinter.pdf import check_pdf
from drivers.idcard import open_idcard_reader
from drivers.idcard.sim_cards import FOREIGN_2017, LI_XIUYING
from drivers.idcard.simulator import IdCardSimulator
from drivers.printer import open_receipt_printer
from drivers.printer.simulator import PrinterSimulator
from drivers.qr import open_qr_scanner
from drivers.qr.simulator import QrScannerSimulator
from drivers.smartcard import open_smartcard
from drivers.smartcard.simulator import SocialSecurityCardSim, TechnicianCardSim
from drivers.smartcard.technician import encode_public_key
from kiosk.config import DeviceConfig, parse_config
from kiosk.device_manager import DeviceManager, build_specs
from kiosk.diag import devices as diag_devices
from kiosk.diag.selftest import (
    SELF_TESTS,
    SelfTestResult,
    render,
    run_self_test,
    selftest_page_pdf,
)
from tests.support.cups import CupsServer, running_cups
from tests.support.pcsc import PcscDaemon, shared_pcscd

CONFIG = parse_config({"kiosk_id": "KIOSK-ST-07"})
ID_NUMBER = "110101199003074578"


def everything(result: SelfTestResult) -> str:
    """All the text a result carries, as the menu or a log could show it."""
    return " ".join([result.message, *result.params.values(), *result.details, render(result)])


def test_every_configured_device_has_a_self_test() -> None:
    assert set(SELF_TESTS) == set(parse_config({}).devices.model_dump())


def test_unknown_device_and_a_crashing_driver_are_failed_results() -> None:
    result = run_self_test("fax", object(), config=CONFIG)
    assert not result.ok and render(result) == "There is no self-test for fax"

    class Broken:
        def status(self) -> Any:
            raise RuntimeError(f"wire fault near {ID_NUMBER}")

    result = run_self_test("receipt_printer", Broken(), config=CONFIG)
    assert not result.ok and "wire fault" in render(result)
    assert ID_NUMBER not in everything(result)


# -- receipt printer --------------------------------------------------------------------------


@pytest.fixture
def printer_sim() -> Iterator[PrinterSimulator]:
    with PrinterSimulator() as sim:
        yield sim


def open_printer(sim: PrinterSimulator) -> Any:
    device = open_receipt_printer(sim.url, timeout=2)
    device.open()
    return device


def test_receipt_has_kiosk_id_time_status_and_qr(printer_sim: PrinterSimulator) -> None:
    result = run_self_test("receipt_printer", open_printer(printer_sim), config=CONFIG)
    assert result.ok, result
    assert render(result) == "The test receipt was printed"
    assert result.details[:2] == ("before: online, paper full", "after: online, paper full")
    receipt = printer_sim.wait_for_receipt()
    assert "KIOSK-ST-07" in receipt.text and "时间 Time: 20" in receipt.text
    assert "打印前状态 Status: online, paper full" in receipt.text
    assert receipt.qr_payloads == ("KIOSK-SELFTEST",)


def test_paper_low_passes_with_a_warning(printer_sim: PrinterSimulator) -> None:
    printer_sim.set_paper("low")
    result = run_self_test("receipt_printer", open_printer(printer_sim), config=CONFIG)
    assert result.ok and "paper is running low" in render(result)


@pytest.mark.parametrize(
    "setup", [lambda s: s.set_paper("out"), lambda s: s.set_cover_open()], ids=["out", "cover"]
)
def test_a_printer_needing_a_person_fails_and_prints_nothing(
    printer_sim: PrinterSimulator, setup: Any
) -> None:
    device = open_printer(printer_sim)
    setup(printer_sim)
    result = run_self_test("receipt_printer", device, config=CONFIG)
    assert not result.ok and render(result).startswith("The test receipt was not printed: ")
    assert printer_sim.jobs == []


def test_the_menu_path_runs_on_the_device_managers_live_driver(
    printer_sim: PrinterSimulator,
) -> None:
    """What the maintenance menu does: DeviceManager.use(device), then the same self-test."""
    specs = build_specs({"receipt_printer": DeviceConfig(url=printer_sim.url)})
    manager = DeviceManager(specs, queue.SimpleQueue().put)
    manager.start()
    try:
        deadline = time.monotonic() + 10
        while manager.statuses()["receipt_printer"].reason == "starting":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with manager.use("receipt_printer") as driver:
            result = run_self_test("receipt_printer", driver, config=CONFIG)
    finally:
        manager.stop()
    assert result.ok, result
    assert "KIOSK-ST-07" in printer_sim.wait_for_receipt().text


# -- document printer -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cups() -> Iterator[CupsServer]:
    with running_cups() as server:
        server.add_test_queue("okq", "ok")
        server.add_test_queue("failq", "fail")
        server.add_test_queue("hangq", "hang")
        yield server


def test_test_page_is_a_one_page_pdf() -> None:
    from datetime import datetime

    info = check_pdf(selftest_page_pdf("KIOSK-ST-07", datetime(2026, 12, 5, 9, 30)))
    assert info.pages == 1


def test_test_page_is_printed_and_followed_to_completion(cups: CupsServer) -> None:
    url = cups.add_pdf_queue("selftestpdf")
    result = run_self_test("document_printer", open_document_printer(url), config=CONFIG)
    assert result.ok, result
    assert render(result) == f"The test page was printed (job {result.params['job']})"
    assert any("completed" in line for line in result.details)
    [printed] = cups.wait_for_pdfs(1)
    assert check_pdf(printed.read_bytes()).pages == 1


@pytest.mark.parametrize(("queue_name", "timeout"), [("failq", 20.0), ("hangq", 0.5)])
def test_a_failed_or_stuck_job_fails_the_test(
    cups: CupsServer, queue_name: str, timeout: float
) -> None:
    printer = open_document_printer(cups.url(queue_name))
    result = run_self_test("document_printer", printer, config=CONFIG, timeout_s=timeout)
    assert not result.ok and render(result).startswith("The test page was not printed: ")


# -- ID card reader ---------------------------------------------------------------------------


@pytest.fixture
def idcard_sim() -> Iterator[IdCardSimulator]:
    with IdCardSimulator(LI_XIUYING, pacing=False) as sim:
        yield sim


def open_reader(sim: IdCardSimulator) -> Any:
    reader = open_idcard_reader(sim.url)
    reader.open()
    return reader


def test_idcard_shows_masked_name_and_number_card_type_and_sam(
    idcard_sim: IdCardSimulator,
) -> None:
    reader = open_reader(idcard_sim)
    try:
        result = run_self_test("idcard", reader, config=CONFIG, timeout_s=3)
    finally:
        reader.close()
    assert result.ok, result
    assert render(result) == "Card read: resident, 李**, 1101**********1240"
    assert result.details == ("SAM id: 05.01-20101010-0000012345-0123456789",)
    text = everything(result)
    assert LI_XIUYING.name not in text and LI_XIUYING.id_number not in text
    assert LI_XIUYING.address not in text and "1956" not in text


def test_idcard_foreign_card_is_masked_too(idcard_sim: IdCardSimulator) -> None:
    idcard_sim.insert(FOREIGN_2017)
    reader = open_reader(idcard_sim)
    try:
        result = run_self_test("idcard", reader, config=CONFIG, timeout_s=3)
    finally:
        reader.close()
    assert result.ok and result.params["card_type"] == "foreign_permanent_2017"
    assert FOREIGN_2017.id_number not in everything(result)
    assert result.params["number"] == "DEU3*******1226"


def test_idcard_without_a_card_fails_after_the_timeout(idcard_sim: IdCardSimulator) -> None:
    idcard_sim.remove()
    reader = open_reader(idcard_sim)
    try:
        started = time.monotonic()
        result = run_self_test("idcard", reader, config=CONFIG, timeout_s=0.5)
    finally:
        reader.close()
    assert not result.ok and render(result) == "No card was placed on the reader within 0.5 s"
    assert time.monotonic() - started < 3


# -- smart card -------------------------------------------------------------------------------


@pytest.fixture
def pcscd() -> Iterator[PcscDaemon]:
    daemon = shared_pcscd()
    yield daemon
    daemon.remove_all()
    for reader in daemon.readers:
        daemon.wait_card(reader.name, present=False)


def smartcard_test(url: str, config: Any = CONFIG, timeout_s: float = 3) -> SelfTestResult:
    with open_smartcard(url) as device:
        return run_self_test("smartcard", device, config=config, timeout_s=timeout_s)


@pytest.mark.timeout(60, method="thread")
def test_social_security_card_shows_atr_and_masked_number(pcscd: PcscDaemon) -> None:
    pcscd.insert(SocialSecurityCardSim())
    result = smartcard_test(pcscd.url(0))
    assert result.ok, result
    assert result.params["number"] == "A********"
    assert render(result).startswith("Social security card read: number A********, ATR 3B")
    assert "A12345678" not in everything(result)


@pytest.mark.timeout(60, method="thread")
def test_staff_card_verified_against_the_configured_registry(
    pcscd: PcscDaemon, tmp_path: Path
) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pcscd.insert(TechnicianCardSim(key, "T0001"), 1)
    registry = tmp_path / "staff.json"
    entry = {"id": "T0001", "name": "王工", "public_key": encode_public_key(key.public_key())}
    registry.write_text(json.dumps({"technicians": [{**entry, "valid_until": "2999-12-31"}]}))
    config = parse_config({"kiosk_id": "KIOSK-ST-07", "staff_registry": str(registry)})
    result = smartcard_test(pcscd.url(1), config)
    assert result.ok, result
    assert render(result).startswith("Staff card read and verified: T****, ATR ")
    assert "王工" not in everything(result)
    unverified = smartcard_test(pcscd.url(1))
    assert unverified.ok and "not verified" in render(unverified)


@pytest.mark.timeout(60, method="thread")
def test_no_smartcard_fails_after_the_timeout(pcscd: PcscDaemon) -> None:
    result = smartcard_test(pcscd.url(0), timeout_s=0.3)
    assert not result.ok and render(result) == "No card was put in the reader within 0.3 s"


# -- QR scanner -------------------------------------------------------------------------------


def scan_test(code: str | None, timeout_s: float = 3) -> SelfTestResult:
    with QrScannerSimulator(terminator="CRLF") as sim:
        scanner = open_qr_scanner(sim.url)
        scanner.open()
        try:
            if code is not None:
                sim.scan(code)
            return run_self_test("qr_scanner", scanner, config=CONFIG, timeout_s=timeout_s)
        finally:
            scanner.close()


def test_a_plain_code_is_shown_with_its_kind_and_length() -> None:
    result = scan_test("KIOSK-SELFTEST")
    assert result.ok and render(result) == "Scanned a code: text, 14 characters"
    assert "payload: KIOSK-SELFTEST" in result.details


def test_an_appointment_code_is_recognised() -> None:
    result = scan_test("APPT:AB12CD34EF")
    assert result.ok and result.params["kind"] == "appointment"


@pytest.mark.parametrize(
    "code",
    [
        ID_NUMBER,
        f"预约人 {ID_NUMBER}",
        "CNEID1.eyJzdWIiOiJ4In0abc.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
    ],
    ids=["id-number", "id-in-text", "eid-token"],
)
def test_an_id_bearing_code_shows_kind_and_length_only(code: str) -> None:
    result = scan_test(code)
    assert result.ok and result.params["length"] == str(len(code))
    text = everything(result)
    assert code not in text and ID_NUMBER[6:14] not in text and "payload" not in text
    if code.startswith("CNEID1"):
        assert result.params["kind"] == "eid_token" and "eyJzdWIi" not in text


def test_no_scan_fails_after_the_timeout() -> None:
    result = scan_test(None, timeout_s=0.4)
    assert not result.ok and render(result) == "No code was scanned within 0.4 s"


# -- camera -----------------------------------------------------------------------------------


def write_qr_scene(path: Path, text: str = "DIAG-CAMERA") -> Path:
    scene = np.full((480, 640, 3), 235, np.uint8)
    code = np.array(qrcode.make(text, box_size=6, border=2).convert("RGB"))[:, :, ::-1]
    scene[80 : 80 + code.shape[0], 100 : 100 + code.shape[1]] = code
    cv2.imwrite(str(path), scene)
    return path


def camera_test(path: Path) -> SelfTestResult:
    with open_camera(f"file://{path}", qr=False) as camera:
        return run_self_test("camera", camera, config=CONFIG, timeout_s=3)


def decode_png(data: bytes | None) -> np.ndarray:
    assert data is not None and data[:8] == b"\x89PNG\r\n\x1a\n"
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def test_camera_preview_boxes_the_qr_code(tmp_path: Path) -> None:
    result = camera_test(write_qr_scene(tmp_path / "qr.png"))
    assert result.ok, result
    assert (result.params["codes"], result.params["faces"]) == ("1", "0")
    assert (result.params["width"], result.params["height"]) == ("640", "480")
    preview = decode_png(result.image_png)
    assert preview.shape == (480, 640, 3)
    green = (preview[:, :, 1] > 150) & (preview[:, :, 0] < 60) & (preview[:, :, 2] < 60)
    assert green.sum() > 500  # the box is drawn
    assert "DIAG-CAMERA" not in everything(result)  # the camera test shows where, not what
    assert float(result.params["sharpness"]) > 100


def test_faces_are_boxed_and_blurred_in_the_preview(tmp_path: Path) -> None:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-image (test dependency) is not installed")
    data = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
    portrait = cv2.resize(cv2.imread(str(data))[0:240, 64:384], (640, 480))
    cv2.imwrite(str(tmp_path / "face.png"), portrait)
    result = camera_test(tmp_path / "face.png")
    assert result.ok and result.params["faces"] == "1"
    from kiosk.diag.preview import face_boxes

    [box] = face_boxes(portrait)
    preview = decode_png(result.image_png)
    inner = (slice(box.y + 8, box.y + box.h - 8), slice(box.x + 8, box.x + box.w - 8))
    detail_before = cv2.Laplacian(cv2.cvtColor(portrait[inner], cv2.COLOR_BGR2GRAY), cv2.CV_64F)
    detail_after = cv2.Laplacian(cv2.cvtColor(preview[inner], cv2.COLOR_BGR2GRAY), cv2.CV_64F)
    assert detail_after.var() < detail_before.var() / 10


def test_a_dark_picture_fails(tmp_path: Path) -> None:
    dark = tmp_path / "dark.png"
    cv2.imwrite(str(dark), np.full((240, 320, 3), 8, np.uint8))
    result = camera_test(dark)
    assert not result.ok and "too dark" in render(result)
    assert result.image_png is not None


# -- kiosk diag selftest ----------------------------------------------------------------------


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = diag_devices.SELFTEST.build_parser().parse_args(list(argv))
    code = diag_devices.run_selftest(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_runs_the_same_self_test(printer_sim: PrinterSimulator) -> None:
    code, out, err = cli("receipt_printer", "--url", printer_sim.url, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["ok"] is True and data["msgid"] == "The test receipt was printed"
    assert printer_sim.wait_for_receipt().qr_payloads == ("KIOSK-SELFTEST",)
    code, out, _ = cli("receipt_printer", "--url", printer_sim.url)
    # Chinese first when kiosk.po has the message, then the English msgid
    assert code == 0 and out.startswith("通过 PASS receipt_printer: ")
    assert out.splitlines()[0].endswith("The test receipt was printed")


def test_cli_through_the_kiosk_command(idcard_sim: IdCardSimulator, capsys: Any) -> None:
    from kiosk.cli import main

    assert main(["diag", "selftest", "idcard", "--url", idcard_sim.url, "--timeout", "3"]) == 0
    out = capsys.readouterr().out
    assert "李**" in out and LI_XIUYING.id_number not in out
    idcard_sim.remove()
    assert main(["diag", "selftest", "idcard", "--url", idcard_sim.url, "--timeout", "0.3"]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("失败 FAIL idcard: ") and "No card was placed" in first


def test_cli_camera_writes_the_preview_only_when_asked(tmp_path: Path) -> None:
    scene = write_qr_scene(tmp_path / "qr.png")
    target = tmp_path / "preview.png"
    code, out, _ = cli("camera", "--url", f"file://{scene}", "--preview", str(target), "--json")
    assert code == 0 and json.loads(out)["preview"] == str(target)
    assert decode_png(target.read_bytes()).shape[1] == 640


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["receipt_printer", "--url", "bogus"], "cannot open the device"),
        (["idcard", "--url", "serial:///nonexistent/tty"], "cannot open the device"),
        (["idcard"], "sim:// is started by `kiosk run`"),
        (["camera", "--url", "file:///x.png", "--timeout", "0"], "--timeout must be positive"),
    ],
)
def test_cli_failures_are_one_line_exit_2(argv: list[str], words: str) -> None:
    code, out, err = cli(*argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and words in err and "Traceback" not in err

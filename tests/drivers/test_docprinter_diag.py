"""`kiosk diag print-pdf` against a real cupsd: exit codes, job id and outcome, one-line errors."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.diag import docprinter as diag_docprinter
from tests.support.cups import CupsServer, running_cups, sample_pdf


@pytest.fixture(scope="module")
def cups() -> Iterator[CupsServer]:
    with running_cups() as server:
        server.add_test_queue("okq", "ok")
        server.add_test_queue("failq", "fail")
        server.add_test_queue("hangq", "hang")
        yield server


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    path = tmp_path / "参保证明.pdf"
    path.write_bytes(sample_pdf(pages=1))
    return path


def one_line(err: str) -> str:
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_print_pdf_prints_and_reports_the_job(
    cups: CupsServer, pdf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cups.add_pdf_queue("kioskpdf")
    code = diag_docprinter.main([str(pdf), "--printer", url, "--timeout", "30"])

    out, err = capsys.readouterr()
    assert code == diag_docprinter.EXIT_OK, err
    assert err == ""
    submitted, printed = out.splitlines()
    assert submitted.startswith("已提交 / submitted: job ") and "1 页 pages" in submitted
    assert printed.startswith("打印完成 / printed: job ") and "completed, 1 sheet(s)" in printed
    assert len(cups.wait_for_pdfs(1)) == 1


def test_copies_and_title_reach_cups(
    cups: CupsServer, pdf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = diag_docprinter.main(
        [str(pdf), "--printer", cups.url("okq"), "--copies", "2", "--title", "diag test"]
    )
    assert code == 0, capsys.readouterr().err
    assert "completed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("queue", "extra", "code", "words"),
    [
        ("failq", [], 1, "打印任务失败 / job"),
        ("hangq", ["--timeout", "0.5"], 1, "打印任务超时 / job"),
        ("nosuchq", [], 2, "找不到打印队列 / "),
        ("okq", ["--copies", "0"], 2, "copies must be"),
    ],
)
def test_failures_are_one_bilingual_line_and_an_exit_code(
    cups: CupsServer,
    pdf: Path,
    capsys: pytest.CaptureFixture[str],
    queue: str,
    extra: list[str],
    code: int,
    words: str,
) -> None:
    assert diag_docprinter.main([str(pdf), "--printer", cups.url(queue), *extra]) == code
    err = one_line(capsys.readouterr().err)
    assert err.startswith("打印失败 / print failed: ") and words in err


def test_the_failing_backends_reason_is_in_the_line(
    cups: CupsServer, pdf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    diag_docprinter.main([str(pdf), "--printer", cups.url("failq")])
    assert "Simulated printer failure" in capsys.readouterr().err


def test_a_file_that_is_not_a_pdf_is_refused_before_printing(
    cups: CupsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "error.pdf"
    page.write_text("<html>502 Bad Gateway</html>")
    before = cups.jobs("okq")
    code = diag_docprinter.main([str(page), "--printer", cups.url("okq")])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "文件不是有效的PDF / the document is not a PDF" in one_line(err)
    assert cups.jobs("okq") == before


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--printer", "tcp://127.0.0.1:9100"], "文档打印机配置错误"),
        (["--printer", "cups://q?server=/nonexistent/cups.sock"], "文档打印机不可用"),
        (["--printer", "cups://q", "--timeout", "0"], "--timeout must be positive"),
    ],
)
def test_unusable_printers_and_options_exit_2(
    pdf: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    assert diag_docprinter.main([str(pdf), *argv]) == 2
    assert words in one_line(capsys.readouterr().err)


def test_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = diag_docprinter.main(
        [str(tmp_path / "nope.pdf"), "--printer", "cups://q?server=/nonexistent/cups.sock"]
    )
    assert code == 2
    assert "cannot read" in one_line(capsys.readouterr().err)


def test_driver_warnings_do_not_add_lines_but_trace_shows_them(
    cups: CupsServer, pdf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger().addHandler(handler := logging.StreamHandler())  # as `kiosk` would have
    try:
        diag_docprinter.main([str(pdf), "--printer", cups.url("failq")])
        one_line(capsys.readouterr().err)
        diag_docprinter.main([str(pdf), "--printer", cups.url("failq"), "--trace"])
        assert "drivers.docprinter" in capsys.readouterr().err
    finally:
        logging.getLogger().removeHandler(handler)


def test_add_parser_registers_print_pdf_under_kiosk_diag() -> None:
    parser = argparse.ArgumentParser(prog="kiosk diag")
    diag_docprinter.add_parser(parser.add_subparsers(dest="diag_command"))
    args = parser.parse_args(["print-pdf", "x.pdf", "--printer", "cups://kioskpdf"])
    assert args.func is diag_docprinter.run
    assert (args.file, args.copies, args.timeout) == ("x.pdf", 1, diag_docprinter.DEFAULT_TIMEOUT)

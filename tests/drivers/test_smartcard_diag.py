"""``kiosk diag smartcard`` through the real pcscd: what a technician sees, and one clear line
(never a traceback) for every failure."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from drivers.smartcard.simulator import BlankCard, SocialSecurityCardSim, TechnicianCardSim
from drivers.smartcard.technician import encode_public_key
from kiosk.diag import smartcard as diag_smartcard
from tests.support.pcsc import PcscDaemon, shared_pcscd

pytestmark = pytest.mark.timeout(60, method="thread")


@pytest.fixture(scope="module")
def pcscd() -> PcscDaemon:
    return shared_pcscd()


@pytest.fixture
def daemon(pcscd: PcscDaemon) -> Iterator[PcscDaemon]:
    yield pcscd
    pcscd.remove_all()
    if not pcscd.running:
        pcscd.start()
    for reader in pcscd.readers:
        pcscd.wait_card(reader.name, present=False)


def diag(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = diag_smartcard.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def one_line(text: str) -> bool:
    return text.count("\n") == 1 and "Traceback" not in text


def test_social_security_card_masked_and_unmasked(daemon: PcscDaemon) -> None:
    daemon.insert(SocialSecurityCardSim())
    code, out, err = diag("--reader", daemon.url(0), "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["kind"] == "social_security" and report["reader"] == daemon.readers[0].name
    assert report["card_number"] == "A********"
    assert report["card_id"] == "330300D156000005" + "*" * 16
    assert (report["region_code"], report["spec_version"]) == ("330300", "3.00")
    assert daemon.readers[1].name in report["readers"]
    code, out, _ = diag("--reader", daemon.url(0), "--json", "--unmasked")
    assert json.loads(out)["card_number"] == "A12345678"
    code, out, _ = diag("--reader", "pcsc://")  # the table, and any reader will do
    assert code == 0 and "社会保障卡 social security card" in out and "A12345678" not in out


def test_technician_card_with_and_without_registry(daemon: PcscDaemon, tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    daemon.insert(TechnicianCardSim(key, "T0001"), 1)
    url = daemon.url(1)
    code, out, _ = diag("--reader", url, "--json")
    assert code == 0 and json.loads(out) | {"atr": "", "readers": []} == {
        "atr": "",
        "readers": [],
        "reader": daemon.readers[1].name,
        "kind": "technician",
        "tech_id": "T0001",
        "verified": False,
    }
    entry = {"id": "T0001", "name": "王工", "public_key": encode_public_key(key.public_key())}
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"technicians": [{**entry, "valid_until": "2999-12-31"}]}))
    code, out, _ = diag("--reader", url, "--registry", str(good), "--kiosk-id", "K-0042")
    assert code == 0 and "T0001" in out and "王*" in out and "是 yes" in out
    revoked = tmp_path / "revoked.json"
    revoked.write_text(
        json.dumps({"technicians": [{**entry, "valid_until": "2999-12-31", "revoked": True}]})
    )
    code, out, err = diag("--reader", url, "--registry", str(revoked))
    assert (code, out) == (4, "") and one_line(err) and "维护卡验证失败" in err and "revoked" in err


def test_unknown_card(daemon: PcscDaemon) -> None:
    daemon.insert(BlankCard())
    code, out, _ = diag("--reader", daemon.url(0), "--json")
    assert code == 0 and json.loads(out)["kind"] == "unknown"


@pytest.mark.parametrize(
    ("argv", "code", "summary"),
    [
        (["--wait", "0.3"], 1, "未检测到卡片 / no card in the reader"),
        (["--reader", "serial:///dev/ttyS0"], 2, "读卡器地址无效 / invalid reader URL"),
        (["--reader", "pcsc://No Such Reader"], 2, "读卡器不可用 / no PC/SC service or reader"),
        (["--registry", "/nonexistent/registry.json"], 2, "维护人员名单无效"),
        (["--wait", "-1"], 2, "参数无效 / invalid option"),
        (["--kiosk-id", "K" * 65], 2, "参数无效 / invalid option"),
    ],
)
def test_failures_are_one_line(
    daemon: PcscDaemon, argv: list[str], code: int, summary: str
) -> None:
    argv = argv if "--reader" in argv else ["--reader", daemon.url(0), *argv]
    result, out, err = diag(*argv)
    assert (result, out) == (code, "")
    assert one_line(err) and err.startswith(summary), err


def test_pcscd_down_is_one_line(daemon: PcscDaemon) -> None:
    daemon.stop()
    code, out, err = diag("--reader", daemon.url(0))
    assert (code, out) == (2, "") and one_line(err) and "no PC/SC service" in err


def test_parser_registers_under_kiosk_diag() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    diag_smartcard.add_parser(sub)
    args = parser.parse_args(["smartcard", "--reader", "pcsc://x", "--wait", "2", "--json"])
    assert args.func is diag_smartcard.run and (args.reader, args.wait, args.json) == (
        "pcsc://x",
        2.0,
        True,
    )

"""Technician PINs: argon2 hash only, a file only its owner reads, a lockout that grows and
survives a restart (kept in the real store), and the audit rows each sign-in leaves."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.maintenance.audit import AuditLog, StoreSettings
from kiosk.maintenance.auth import (
    Lockout,
    LockoutPolicy,
    MemorySettings,
    PinError,
    PinFile,
    PinLogin,
)
from kiosk.store import open_store

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # same algorithm, test speed


def test_the_pin_is_stored_only_as_an_argon2_hash_readable_by_its_owner(tmp_path):
    path = tmp_path / "etc" / "maintenance-pin"
    PinFile(path).set("20261205")
    text = path.read_text()
    assert text.startswith("$argon2id$") and "20261205" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PinFile(path).verify("20261205")
    assert not PinFile(path).verify("20261206")


def test_setting_the_pin_again_tightens_a_file_left_open(tmp_path):
    path = tmp_path / "pin"
    path.write_text("old")
    os.chmod(path, 0o644)
    PinFile(path, FAST).set("123456")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_pin_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "pin"
    PinFile(path, FAST).set("123456")
    os.chmod(path, 0o644)
    assert not PinFile(path, FAST).verify("123456")


@pytest.mark.parametrize("pin", ["", "12345", "1234567890123", "12a456", "１２３４５６", " 123456"])
def test_only_6_to_12_ascii_digits_make_a_pin(tmp_path, pin):
    with pytest.raises(PinError):
        PinFile(tmp_path / "pin", FAST).set(pin)


def test_no_pin_file_means_no_pin_signs_in(tmp_path):
    assert not PinFile(tmp_path / "absent", FAST).verify("123456")


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_a_malformed_pin_file_never_crashes_and_never_admits(tmp_path_factory, junk):
    path = tmp_path_factory.mktemp("pin") / "pin"
    path.write_bytes(junk)
    os.chmod(path, 0o600)
    assert PinFile(path, FAST).verify("123456") is False


def test_the_lockout_is_free_three_times_then_doubles_up_to_its_cap():
    policy = LockoutPolicy(free_tries=3, base_s=30, max_s=300)
    assert [policy.delay_after(n) for n in range(1, 9)] == [0, 0, 30, 60, 120, 240, 300, 300]


def _login(tmp_path, settings_store, clock) -> PinLogin:
    pin_file = PinFile(tmp_path / "pin", FAST)
    if not pin_file.configured:
        pin_file.set("246810")
    return PinLogin(pin_file, Lockout(settings_store, LockoutPolicy(3, 30, 900), clock.now))


def test_wrong_pins_lock_out_and_even_the_right_pin_waits(tmp_path, clock):
    login = _login(tmp_path, MemorySettings(), clock)
    assert [login.attempt("000000").wait_s for _ in range(2)] == [0, 0]
    third = login.attempt("000000")
    assert not third.ok and third.wait_s == 30 and not third.locked
    refused = login.attempt("246810")  # the right PIN, during the wait: not even checked
    assert not refused.ok and refused.locked and 0 < refused.wait_s <= 30
    clock.advance(31)
    assert login.attempt("246810").ok
    assert login.lockout.failures == 0  # a success starts the count afresh


def test_the_lockout_survives_a_restart_in_the_store(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'kiosk.db'}"
    store = open_store(url, clock.now)
    login = _login(tmp_path, StoreSettings(store), clock)
    outcomes = [login.attempt("999999") for _ in range(4)]
    assert outcomes[-1].locked  # the fourth came during the wait: refused unchecked, not counted
    assert login.lockout.failures == 3
    store.close()
    clock.advance(29)
    restarted = open_store(url, clock.now)  # the kiosk came back up
    again = _login(tmp_path, StoreSettings(restarted), clock)
    outcome = again.attempt("246810")
    assert outcome.locked and outcome.wait_s == pytest.approx(1, abs=0.01)
    clock.advance(timedelta(seconds=2).total_seconds())
    assert again.attempt("246810").ok
    restarted.close()


def test_audit_rows_say_who_what_when_and_how_it_went(tmp_path, clock):
    store = open_store(f"sqlite:///{tmp_path / 'kiosk.db'}", clock.now)
    audit = AuditLog(store)
    audit.record("technician:T0001", "self_test:receipt_printer", "ok")
    audit.record("anonymous", "sign_in_pin", "refused", "x" * 500)
    rows = audit.recent()
    assert [(r.actor, r.action, r.result) for r in rows] == [
        ("anonymous", "sign_in_pin", "refused"),
        ("technician:T0001", "self_test:receipt_printer", "ok"),
    ]
    assert rows[0].at == clock.now() and len(rows[0].detail) == 200
    store.close()


def test_kiosk_maintenance_set_pin_writes_only_a_hash(tmp_path, monkeypatch, capsys):
    import io

    from kiosk.cli import main

    path = tmp_path / "pin"
    monkeypatch.setattr("sys.stdin", io.StringIO("13572468\n"))
    assert main(["maintenance", "set-pin", "--stdin", "--file", str(path)]) == 0
    assert PinFile(path).verify("13572468") and "13572468" not in path.read_text()
    monkeypatch.setattr("sys.stdin", io.StringIO("12ab\n"))
    assert main(["maintenance", "set-pin", "--stdin", "--file", str(path)]) == 1
    assert "6 to 12 digits" in capsys.readouterr().err

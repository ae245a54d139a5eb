"""`kiosk fleet add-operator`: the way the first operator of a fleet server is made."""

from __future__ import annotations

import io

from fleet.db import make_engine, make_sessionmaker
from fleet.operators import authenticate
from kiosk.cli import main


def _add(monkeypatch, db_url: str, *args: str, password: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["fleet", "add-operator", *args, "--db", db_url, "--stdin"])


def test_an_added_operator_logs_in_with_the_role_given(tmp_path, monkeypatch, capsys):
    db_url = f"sqlite:///{tmp_path / 'fleet.db'}"
    assert (
        _add(monkeypatch, db_url, "wang.op", "--role", "operator", password="长一点的口令 12345678")
        == 0
    )
    assert "added wang.op (operator)" in capsys.readouterr().out
    sessions = make_sessionmaker(make_engine(db_url))
    result = authenticate(sessions, "wang.op", "长一点的口令 12345678")
    assert (result.outcome, result.role) == ("ok", "operator")
    assert authenticate(sessions, "wang.op", "another password").outcome == "bad_credentials"


def test_adding_again_resets_the_password_and_role(tmp_path, monkeypatch, capsys):
    db_url = f"sqlite:///{tmp_path / 'fleet.db'}"
    assert _add(monkeypatch, db_url, "li.view", password="first passphrase") == 0
    assert _add(monkeypatch, db_url, "li.view", "--role", "operator", password="second one!!") == 0
    assert "updated li.view (operator)" in capsys.readouterr().out
    sessions = make_sessionmaker(make_engine(db_url))
    assert authenticate(sessions, "li.view", "first passphrase").outcome != "ok"
    assert authenticate(sessions, "li.view", "second one!!").role == "operator"


def test_a_short_password_or_a_bad_name_is_refused_and_nothing_is_stored(
    tmp_path, monkeypatch, capsys
):
    db_url = f"sqlite:///{tmp_path / 'fleet.db'}"
    assert _add(monkeypatch, db_url, "zhao", password="short") == 2
    assert "12" in capsys.readouterr().err
    assert not (tmp_path / "fleet.db").exists()
    assert _add(monkeypatch, db_url, "bad name!", password="long enough pass") == 2
    assert "username" in capsys.readouterr().err
    sessions = make_sessionmaker(make_engine(db_url))
    assert authenticate(sessions, "bad name!", "long enough pass").outcome == "bad_credentials"

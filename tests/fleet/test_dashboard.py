"""The dashboard over TestClient: login, roles, lockout, CSRF, pages, filters and commands."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from fleet.db import CommandRow, HeartbeatRow, OperatorAuditRow, OperatorRow
from fleet.operators import SessionSigner, same_text
from tests.fleet.dashboard_rows import PASSWORD, Fleet, make_fleet, sample_fleet

FLEET_DIR = Path(__file__).resolve().parents[2] / "fleet"


@pytest.fixture
def fleet() -> Fleet:
    fleet = make_fleet()
    sample_fleet(fleet.sessions)
    return fleet


def login_csrf(client: TestClient) -> str:
    page = client.get("/dashboard/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD, next_url: str = ""):
    form = {"username": username, "password": password, "csrf_token": login_csrf(client)}
    if next_url:
        form["next"] = next_url
    return client.post("/dashboard/login", data=form, follow_redirects=False)


def page_csrf(client: TestClient, path: str = "/dashboard") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def audit_actions(fleet: Fleet, username: str) -> list[str]:
    with fleet.sessions() as session:
        rows = session.scalars(
            select(OperatorAuditRow)
            .where(OperatorAuditRow.username == username)
            .order_by(OperatorAuditRow.id)
        )
        return [row.action for row in rows]


def commands(fleet: Fleet) -> list[CommandRow]:
    with fleet.sessions() as session:
        return list(session.scalars(select(CommandRow).order_by(CommandRow.id)))


# -- login, sessions, lockout -----------------------------------------------------------------


def test_pages_and_reads_need_a_login(fleet):
    client = TestClient(fleet.app)
    page = client.get("/dashboard/kiosks?site=x", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/dashboard/login?next=%2Fdashboard%2Fkiosks%3Fsite%3Dx"
    assert client.get("/api/v1/kiosks/HD-001/commands").status_code == 401
    assert client.get("/dashboard", cookies={"fleet_session": "forged.token"}).url.path == (
        "/dashboard/login"
    )


def test_a_login_sets_a_strict_http_only_expiring_cookie_and_is_audited(fleet):
    client = TestClient(fleet.app)
    answer = log_in(client, "wang.op", next_url="/dashboard/kiosks/HD-002")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/kiosks/HD-002"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("fleet_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
    assert "Path=/" in cookie
    assert client.get("/dashboard").status_code == 200
    assert audit_actions(fleet, "wang.op")[-1] == "login"


def test_wrong_password_and_unknown_name_get_the_same_answer(fleet):
    client = TestClient(fleet.app)
    wrong = log_in(client, "wang.op", "not the password")
    unknown = log_in(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
    assert "fleet_session" not in client.cookies
    assert audit_actions(fleet, "wang.op")[-1] == "login_failed"


def test_failed_logins_lock_the_name_for_growing_delays_even_for_the_right_password(fleet):
    client = TestClient(fleet.app)
    assert log_in(client, "li.view", "wrong-1-xxxx").status_code == 401
    assert log_in(client, "li.view", "wrong-2-xxxx").status_code == 401
    third = log_in(client, "li.view", "wrong-3-xxxx")
    assert third.status_code == 429 and third.headers["retry-after"] == "5"
    assert "5 秒后再试" in third.text
    locked = log_in(client, "li.view")  # the right password, still refused while locked
    assert locked.status_code == 429
    fleet.clock[0] += timedelta(seconds=6)
    assert log_in(client, "li.view", "wrong-4-xxxx").headers["retry-after"] == "10"
    fleet.clock[0] += timedelta(seconds=11)
    assert log_in(client, "li.view", "wrong-5-xxxx").headers["retry-after"] == "20"
    fleet.clock[0] += timedelta(seconds=21)
    assert log_in(client, "li.view").status_code == 303
    with fleet.sessions() as session:
        row = session.get(OperatorRow, "li.view")
        assert row is not None and row.failed_logins == 0 and row.locked_until is None
    assert audit_actions(fleet, "li.view")[-1] == "login"


def test_the_lockout_is_audited_step_by_step(fleet):
    client = TestClient(fleet.app)
    for attempt in range(3):
        log_in(client, "li.view", f"wrong-{attempt}-xxxx")
    log_in(client, "li.view")
    assert audit_actions(fleet, "li.view")[-4:] == [
        "login_failed",
        "login_failed",
        "login_failed",
        "login_locked",
    ]


def test_a_login_without_the_forms_csrf_token_is_refused(fleet):
    client = TestClient(fleet.app)
    answer = client.post(
        "/dashboard/login",
        data={"username": "wang.op", "password": PASSWORD, "csrf_token": "guessed"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "fleet_session" not in client.cookies


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil", "/api"])
def test_after_login_only_a_dashboard_page_is_a_destination(fleet, target):
    answer = log_in(TestClient(fleet.app), "wang.op", next_url=target)
    assert answer.headers["location"] == "/dashboard"


def test_logout_ends_the_session_in_the_browser_and_is_audited(fleet):
    client = TestClient(fleet.app)
    log_in(client, "wang.op")
    answer = client.post(
        "/dashboard/logout", data={"csrf_token": page_csrf(client)}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    assert audit_actions(fleet, "wang.op")[-1] == "logout"


def test_a_session_expires_and_a_tampered_one_is_refused():
    clock = [1_000_000.0]
    signer = SessionSigner(b"0123456789abcdef0123", lifetime_s=60, clock=lambda: clock[0])
    token = signer.issue("wang.op")
    session = signer.read(token)
    assert session is not None and session.username == "wang.op"
    body, mac = token.split(".")
    assert signer.read(body[:-2] + "xx." + mac) is None
    assert SessionSigner(b"another secret 0123456").read(token) is None
    clock[0] += 61
    assert signer.read(token) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_any_cookie_text_is_read_as_no_session_never_an_error(text):
    signer = SessionSigner(b"0123456789abcdef0123")
    assert signer.read(text) is None


@given(st.text(max_size=80), st.text(max_size=80))
def test_tokens_compare_for_any_text(given_text, expected):
    assert same_text(given_text, expected) == (given_text == expected)


def test_every_page_and_a_command_work_on_sqlite_and_postgresql(fleet_db_url):
    """GIVEN the dashboard on each backend WHEN an operator walks every page and queues a
    command THEN all answer, and the command and its audit entry commit together."""
    fleet = make_fleet(fleet_db_url)
    sample_fleet(fleet.sessions)
    client = TestClient(fleet.app)
    assert log_in(client, "wang.op").status_code == 303
    for path in (
        "/dashboard",
        "/dashboard/kiosks?site=海淀政务服务中心&status=fault",
        "/dashboard/kiosks/HD-001",
        "/dashboard/kiosks/HD-002?events_page=3",
    ):
        assert client.get(path).status_code == 200, path
    answer = client.post(
        "/dashboard/kiosks/HD-003/commands",
        data={"csrf_token": page_csrf(client), "action": "back_in_service"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert commands(fleet)[-1].action == "back_in_service"
    assert audit_actions(fleet, "wang.op")[-1] == "command:back_in_service"


def test_a_demoted_operator_loses_the_buttons_on_the_next_request(fleet):
    client = TestClient(fleet.app)
    log_in(client, "wang.op")
    assert "command-restart" in client.get("/dashboard/kiosks/HD-001").text
    with fleet.sessions.begin() as session:
        row = session.get(OperatorRow, "wang.op")
        assert row is not None
        row.role = "viewer"
    assert "command-restart" not in client.get("/dashboard/kiosks/HD-001").text


# -- commands -----------------------------------------------------------------------------------


def test_an_operator_queues_a_command_and_it_is_audited(fleet):
    client = TestClient(fleet.app)
    log_in(client, "wang.op")
    csrf = page_csrf(client, "/dashboard/kiosks/HD-002")
    answer = client.post(
        "/dashboard/kiosks/HD-002/commands",
        data={"csrf_token": csrf, "action": "out_of_service", "reason": "更换打印机"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    newest = commands(fleet)[-1]
    assert (newest.kiosk_id, newest.action, newest.state, newest.issued_by, newest.reason) == (
        "HD-002",
        "out_of_service",
        "queued",
        "wang.op",
        "更换打印机",
    )
    assert newest.issued_at == fleet.clock[0]
    assert audit_actions(fleet, "wang.op")[-1] == "command:out_of_service"
    page = client.get("/dashboard/kiosks/HD-002").text
    assert f'data-command="{newest.id}"' in page and "排队中" in page


def test_a_command_without_the_csrf_token_is_refused(fleet):
    client = TestClient(fleet.app)
    log_in(client, "wang.op")
    before = len(commands(fleet))
    for token in ("", "x" * 43):
        answer = client.post(
            "/dashboard/kiosks/HD-002/commands", data={"csrf_token": token, "action": "restart"}
        )
        assert answer.status_code == 403
    assert len(commands(fleet)) == before


def test_a_csrf_token_is_good_only_for_the_session_that_rendered_it(fleet):
    alice, bob = TestClient(fleet.app), TestClient(fleet.app)
    log_in(alice, "wang.op")
    log_in(bob, "wang.op")
    answer = bob.post(
        "/dashboard/kiosks/HD-002/commands",
        data={"csrf_token": page_csrf(alice), "action": "restart"},
    )
    assert answer.status_code == 403


def test_a_viewer_sees_no_buttons_and_gets_403_on_the_command_post(fleet):
    client = TestClient(fleet.app)
    log_in(client, "li.view")
    page = client.get("/dashboard/kiosks/HD-002").text
    assert "<button" not in page.split('id="commands"')[1].split("</form>")[0]
    assert "command-restart" not in page
    before = len(commands(fleet))
    answer = client.post(
        "/dashboard/kiosks/HD-002/commands",
        data={"csrf_token": page_csrf(client), "action": "restart"},
    )
    assert answer.status_code == 403
    json_answer = client.post(
        "/api/v1/kiosks/HD-002/commands",
        json={"action": "restart"},
        headers={"X-CSRF-Token": page_csrf(client)},
    )
    assert json_answer.status_code == 403
    assert len(commands(fleet)) == before
    assert audit_actions(fleet, "li.view")[-1] == "command_refused"


def test_unknown_commands_and_kiosks_are_refused(fleet):
    client = TestClient(fleet.app)
    log_in(client, "wang.op")
    csrf = page_csrf(client)
    bad_action = client.post(
        "/dashboard/kiosks/HD-002/commands", data={"csrf_token": csrf, "action": "format_disk"}
    )
    no_kiosk = client.post(
        "/dashboard/kiosks/NOPE/commands", data={"csrf_token": csrf, "action": "restart"}
    )
    assert (bad_action.status_code, no_kiosk.status_code) == (400, 404)
    huge = client.post(
        "/dashboard/kiosks/HD-002/commands",
        content=b"action=restart&reason=" + b"x" * 20_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    assert [c.action for c in commands(fleet)] == ["restart"]  # only the sample's old one


def test_the_json_command_call_needs_the_csrf_header_and_follows_the_state(fleet):
    client = TestClient(fleet.app)
    log_in(client, "wang.op")
    assert (
        client.post("/api/v1/kiosks/HD-001/commands", json={"action": "restart"}).status_code == 403
    )
    answer = client.post(
        "/api/v1/kiosks/HD-001/commands",
        json={"action": "reload_config", "reason": "新配置"},
        headers={"X-CSRF-Token": page_csrf(client)},
    )
    assert answer.status_code == 201
    command_id = answer.json()["id"]
    assert answer.json()["state"] == "queued"
    with fleet.sessions.begin() as session:
        row = session.get(CommandRow, command_id)
        assert row is not None
        row.state = "sent"
    listed = client.get("/api/v1/kiosks/HD-001/commands").json()
    assert [(c["id"], c["state"]) for c in listed] == [(command_id, "sent")]
    bad = client.post(
        "/api/v1/kiosks/HD-001/commands",
        json={"action": "rm -rf"},
        headers={"X-CSRF-Token": page_csrf(client)},
    )
    assert bad.status_code == 422


# -- pages ----------------------------------------------------------------------------------


def test_the_summary_counts_kiosks_by_status_alerts_and_todays_sessions(fleet):
    client = TestClient(fleet.app)
    log_in(client, "li.view")
    page = client.get("/dashboard").text
    tiles = dict(re.findall(r'data-status="(\w+)">\s*<span class="tile-value">(\d+)', page))
    assert tiles == {"ok": "2", "warning": "2", "fault": "1", "offline": "1"}
    assert re.search(r'id="open-alerts">2<', page)  # the cleared paper alert is not counted
    # HD-001 beats every 30 s; one beat in four carries a session from 08:00 to 18:00 Beijing
    # time; today (since 00:00 Beijing) runs to 14:30 -> 6.5 h * 120 beats / 4 = 195 (+1 at 14:30)
    assert re.search(r'id="sessions-today">196<', page)
    assert page.index("HD-002") < page.index("CY-002")  # newest alert first
    # Alert details in the page's language (the stored English is for webhook receivers).
    assert "硬件故障" in page and "已 42 分钟无心跳" in page
    assert "hardware_error" not in page and "no heartbeat" not in page


@pytest.mark.parametrize(
    ("kind", "message", "zh"),
    [
        ("device_fault", "idcard: user_error", "需处理"),
        ("paper_out", "receipt_printer: paper jammed", "纸张：卡纸"),
        ("paper_low", "receipt_printer: paper low", "纸张：不足"),
        ("offline", "no heartbeat for 5 min", "已 5 分钟无心跳"),
        ("backlog_growing", "outbox backlog keeps growing", "待发送消息持续增多"),
        ("something_new", "as the server said it", "as the server said it"),
        ("device_fault", "", ""),
    ],
)
def test_each_kind_of_alert_is_told_in_chinese(kind, message, zh):
    from types import SimpleNamespace

    from fleet.dashboard import alert_detail
    from fleet.i18n import translations

    alert = SimpleNamespace(kind=kind, message=message)
    assert alert_detail(alert, translations("zh_CN").gettext) == zh
    assert bool(alert_detail(alert, translations("en").gettext)) == bool(message)


def test_the_kiosk_table_filters_by_site_status_and_id_and_shows_trouble_first(fleet):
    client = TestClient(fleet.app)
    log_in(client, "li.view")

    def ids(query: str) -> list[str]:
        return re.findall(
            r'<tr data-kiosk="([^"]+)"', client.get(f"/dashboard/kiosks?{query}").text
        )

    assert ids("") == ["HD-002", "CY-002", "CY-003", "HD-003", "CY-001", "HD-001"]
    assert ids("site=朝阳政务服务中心") == ["CY-002", "CY-003", "CY-001"]
    assert ids("site=朝阳政务服务中心&status=warning") == ["CY-003"]
    assert ids("kiosk=HD") == ["HD-002", "HD-003", "HD-001"]
    assert ids("kiosk=%25") == []  # a LIKE wildcard is a character here
    assert ids("status=bogus") == ids("")
    page = client.get("/dashboard/kiosks?status=fault").text
    assert "凭条打印机: 硬件故障" in page and "卡纸" in page


def test_the_kiosk_table_pages():
    small = make_fleet(dashboard_page_size=4)
    sample_fleet(small.sessions)
    client = TestClient(small.app)
    log_in(client, "li.view")
    first = client.get("/dashboard/kiosks").text
    second = client.get("/dashboard/kiosks?page=2").text
    beyond = client.get("/dashboard/kiosks?page=99").text
    assert len(re.findall("<tr data-kiosk", first)) == 4
    assert len(re.findall("<tr data-kiosk", second)) == 2
    assert "第 1 页，共 2 页" in first and "第 2 页，共 2 页" in second and "第 2 页" in beyond
    assert 'href="/dashboard/kiosks?site=&amp;status=&amp;kiosk=&amp;page=2"' in first


def test_the_kiosk_page_pages_its_event_history_and_charts_sessions_per_hour(fleet):
    client = TestClient(fleet.app)
    log_in(client, "li.view")
    pages = [client.get(f"/dashboard/kiosks/HD-002?events_page={n}").text for n in (1, 2, 3)]
    rows = [re.findall(r"<code>seq=(\d+)</code>", page) for page in pages]
    assert [len(r) for r in rows] == [20, 20, 5]
    assert rows[0][0] == "0" and rows[2][-1] == "44"  # newest first, nothing lost or repeated
    assert "较早" in pages[1] and "较早" not in pages[2]
    chart = client.get("/dashboard/kiosks/HD-001").text
    bars = re.findall(r'<rect [^>]*class="bar"><title>(\d\d):00: (\d+)</title>', chart)
    assert len(bars) == 24
    assert bars[-1] == ("14", "16")  # 14:00-14:30 Beijing inclusive: 61 beats, one in four
    assert bars[0] == ("15", "30") and ("03", "0") in bars
    assert client.get("/dashboard/kiosks/NOPE").status_code == 404


def test_the_language_switch_sets_a_cookie_and_english_follows(fleet):
    client = TestClient(fleet.app)
    log_in(client, "wang.op")
    assert '<html lang="zh-CN">' in client.get("/dashboard").text
    answer = client.get(
        "/dashboard/lang/en", params={"next": "/dashboard/kiosks?site=x"}, follow_redirects=False
    )
    assert answer.headers["location"] == "/dashboard/kiosks?site=x"
    page = client.get("/dashboard/kiosks/HD-002").text
    assert '<html lang="en">' in page and "Remote commands" in page and "Restart" in page
    assert "远程指令" not in page
    client.get("/dashboard/lang/klingon")
    assert '<html lang="zh-CN">' in client.get("/dashboard").text


def test_pages_forbid_foreign_scripts_and_framing(fleet):
    client = TestClient(fleet.app)
    log_in(client, "li.view")
    headers = client.get("/dashboard").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert client.get("/dashboard/static/dashboard.js").status_code == 200


def test_no_page_loads_anything_from_the_internet():
    for path in [*FLEET_DIR.glob("templates/*.html"), *FLEET_DIR.glob("static/*")]:
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", path.read_text()), path


def test_every_dashboard_text_has_a_chinese_translation():
    with (FLEET_DIR / "locale/zh_CN/LC_MESSAGES/fleet.po").open("rb") as fh:
        catalogue = read_po(fh, locale="zh_CN")
    method_map = [
        ("dashboard.py", "python"),
        ("i18n.py", "python"),
        ("templates/**.html", "jinja2"),
    ]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    extracted = {
        message[2]
        for message in extract_from_dir(
            str(FLEET_DIR), method_map, options, keywords={"_": None, "N_": None, "gettext": None}
        )
    }
    untranslated = sorted(
        m for m in extracted if not (catalogue.get(m) and catalogue.get(m).string)
    )
    assert extracted and untranslated == []


def test_the_kiosk_page_reads_history_through_indexes_only(fleet):
    """GIVEN the kiosk page's queries as SQLAlchemy sends them WHEN SQLite plans them THEN
    beats and events are searched by the (kiosk_id, received_at) indexes, never scanned whole."""
    engine = fleet.sessions.kw["bind"]
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        client = TestClient(fleet.app)
        log_in(client, "li.view")
        statements.clear()
        assert client.get("/dashboard/kiosks/HD-002?events_page=2").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    plans = {}
    with engine.connect() as conn:
        for statement, parameters in statements:
            for table in ("fleet_heartbeats", "fleet_events", "fleet_alerts", "fleet_commands"):
                if f"FROM {table}" in statement:
                    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                    plans[table] = " | ".join(str(row[-1]) for row in rows)
    assert set(plans) == {"fleet_heartbeats", "fleet_events", "fleet_alerts", "fleet_commands"}
    for table, plan in plans.items():
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (table, plan)
    assert "ix_fleet_heartbeats_kiosk_time" in plans["fleet_heartbeats"]
    assert "ix_fleet_events_kiosk_time" in plans["fleet_events"]


def test_sessions_today_is_cached_then_refreshed_behind_the_page():
    """GIVEN a 0.3 s cache WHEN beats arrive THEN the summary shows the cached figure at once,
    and once stale it is recomputed in the background and shown on a later request."""
    fleet = make_fleet(dashboard_summary_cache_s=0.3)
    sample_fleet(fleet.sessions)
    client = TestClient(fleet.app)
    log_in(client, "li.view")

    def today() -> str:
        return re.search(r'id="sessions-today">(\d+)<', client.get("/dashboard").text).group(1)

    assert today() == "196"
    with fleet.sessions.begin() as session:
        session.add(
            HeartbeatRow(kiosk_id="CY-001", received_at=fleet.clock[0], sessions=4, completions=4)
        )
    assert today() == "196"  # cached
    time.sleep(0.35)
    assert today() == "196"  # stale, served at once; a refresh starts
    deadline = time.monotonic() + 5
    while today() != "200":
        assert time.monotonic() < deadline, "the background refresh never landed"
        time.sleep(0.05)

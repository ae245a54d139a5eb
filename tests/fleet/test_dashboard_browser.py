"""The dashboard in real headless Chromium (Debian's, driven by Playwright) over a real uvicorn.

Screenshots go to $DASHBOARD_SCREENSHOTS when set (to look at them), else to the test's tmp dir.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from fleet.db import CommandRow
from tests.fleet.dashboard_rows import PASSWORD, Fleet, make_fleet, sample_fleet

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None,
        reason="Debian chromium is not installed (scripts/setup-system.sh installs it)",
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, Fleet]]:
    db = tmp_path_factory.mktemp("fleet") / "fleet.db"
    fleet = make_fleet(f"sqlite:///{db}")
    sample_fleet(fleet.sessions)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(fleet.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", fleet
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    where = Path(os.environ.get("DASHBOARD_SCREENSHOTS", "") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


def _log_in(browser, base: str, username: str, shots: Path | None = None):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/dashboard")
    assert "/dashboard/login" in page.url
    assert page.inner_text("h1") == "登录"
    if shots is not None:
        page.screenshot(path=str(shots / "0-login-zh.png"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/dashboard")
    return context, page


def test_operator_filters_opens_a_kiosk_sends_a_command_and_switches_to_english(
    served, browser, shots
):
    """GIVEN a fleet of six kiosks at two sites WHEN an operator logs in, filters, opens a kiosk
    and sends a restart THEN each page shows the right rows in Chinese, the command appears
    queued and follows to done without a reload, and English is one click away."""
    base, fleet = served
    context, page = _log_in(browser, base, "wang.op", shots)
    page.wait_for_load_state("networkidle")
    assert page.inner_text("h1") == "终端总览"
    assert page.inner_text("[data-status=fault] .tile-value") == "1"
    assert page.inner_text("#open-alerts") == "2"
    page.screenshot(path=str(shots / "1-summary-zh.png"), full_page=True)

    page.click("nav >> text=终端")
    page.select_option("#filter-site", "朝阳政务服务中心")
    page.click("form.filters button")
    page.wait_for_load_state("networkidle")
    ids = page.locator("#kiosk-table tbody tr[data-kiosk]").evaluate_all(
        "rows => rows.map(r => r.dataset.kiosk)"
    )
    assert sorted(ids) == ["CY-001", "CY-002", "CY-003"]
    page.select_option("#filter-status", "offline")
    page.click("form.filters button")
    page.wait_for_load_state("networkidle")
    assert page.locator("#kiosk-table tbody tr[data-kiosk]").count() == 1
    assert "离线" in page.inner_text("#kiosk-table tbody tr[data-kiosk='CY-002']")
    page.goto(f"{base}/dashboard/kiosks")
    page.screenshot(path=str(shots / "2-kiosks-zh.png"), full_page=True)

    page.click("#kiosk-table a:text-is('HD-002')")
    page.wait_for_url(re.compile(r".*/dashboard/kiosks/HD-002$"))
    assert page.locator("#event-table tbody tr").count() == 20
    page.on("dialog", lambda dialog: dialog.accept())
    page.fill("input[name=reason]", "打印机卡纸后复位")
    page.click("button.command-restart")
    page.wait_for_url(re.compile(r".*/dashboard/kiosks/HD-002#commands$"))
    newest = page.locator("#command-table tbody tr").first
    assert "排队中" in newest.inner_text()
    page.screenshot(path=str(shots / "3-kiosk-zh.png"), full_page=True)

    with fleet.sessions.begin() as session:  # the kiosk picks it up and acknowledges it
        row = session.scalars(
            select(CommandRow).where(CommandRow.state == "queued").order_by(CommandRow.id.desc())
        ).first()
        assert row is not None and row.action == "restart" and row.issued_by == "wang.op"
        row.state, row.result = "done", "restarted"
    sync_api.expect(newest.locator(".cmd-state")).to_have_text("已完成", timeout=10_000)

    page.click("a[data-lang=en]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/dashboard/kiosks/HD-002")
    assert page.get_attribute("html", "lang") == "en"
    assert "Remote commands" in page.inner_text("main")
    assert page.locator("button.command-out_of_service").inner_text() == "Out of service"
    page.goto(f"{base}/dashboard/kiosks/HD-001")
    assert page.locator("#sessions-chart rect.bar").count() == 24
    page.screenshot(path=str(shots / "4-kiosk-chart-en.png"), full_page=True)
    context.close()


def test_a_viewer_sees_no_command_buttons_and_is_refused_a_command(served, browser, shots):
    base, fleet = served
    context, page = _log_in(browser, base, "li.view")
    page.goto(f"{base}/dashboard/kiosks/HD-002")
    assert page.locator("button.command").count() == 0
    assert page.is_visible("#no-commands")
    page.screenshot(path=str(shots / "5-kiosk-viewer-zh.png"), full_page=True)
    before = _command_count(fleet)
    csrf = page.get_attribute("form[action='/dashboard/logout'] input[name=csrf_token]", "value")
    status = page.evaluate(
        """async (csrf) => (await fetch('/dashboard/kiosks/HD-002/commands', {
             method: 'POST', body: new URLSearchParams({csrf_token: csrf, action: 'restart'})
           })).status""",
        csrf,
    )
    assert status == 403
    assert _command_count(fleet) == before
    context.close()


def _command_count(fleet: Fleet) -> int:
    with fleet.sessions() as session:
        return len(session.scalars(select(CommandRow)).all())

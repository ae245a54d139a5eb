"""A whole resident journey through the state machine, headless, with an injected clock, against
the reference central service in-process."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from drivers.idcard.sim_cards import FOREIGN_2017, FOREIGN_2023, HK_RESIDENCE_PERMIT, WANG_JIANGUO
from drivers.printer import PaperOut, Qr, Text
from kiosk.config import parse_config
from kiosk.core import KioskCore, Services
from kiosk.events import CardRead, Intent, Tick
from kiosk.ids import StateId
from tests.support.fakes import FakePrinter
from tests.support.journey import ID_NUMBER, NAME, place_card, step, walk_to_guide


def test_whole_journey_prints_rates_and_returns_to_attract(kiosk, clock, store, tmp_path):
    """GIVEN a resident with a known ID card WHEN they print a certificate and rate the service
    THEN a receipt is printed, the rating is durable in the outbox, and the session is wiped."""
    walk_to_guide(kiosk)
    assert kiosk.session.identity.person_ref
    view = kiosk.view()
    assert view.title == "社会保险个人参保证明打印"
    assert [s.heading for s in view.sections][:3] == ["受理条件", "申报材料", "办理流程"]
    assert view.options[0].label == "打印证明"

    assert step(kiosk, Intent.ACT) == StateId.RATE
    receipt = kiosk.services.printer.receipts[0]
    texts = [e.text for e in receipt.elements if isinstance(e, Text)]
    assert "社会保险个人参保证明" in texts
    (qr,) = [e.data for e in receipt.elements if isinstance(e, Qr)]
    assert qr.startswith("https://zwfw.example.gov.cn/")
    assert [o.label for o in kiosk.view().options] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]

    assert step(kiosk, Intent.RATE, "5") == StateId.THANKS
    assert kiosk.services.outbox.backlog() == 1
    clock.advance(kiosk.config.ui.timeouts.thanks_s + 0.1)
    kiosk.post(Tick())
    kiosk.pump()
    assert kiosk.state == StateId.ATTRACT
    assert kiosk.session.identity is None and kiosk.session.certificate is None

    path = [(e.source, e.target) for e in store.journal() if e.kind == "transition"]
    assert path[0] == ("attract", "identify") and path[-1] == ("thanks", "attract")
    raw = b"".join(p.read_bytes() for p in Path(tmp_path).glob("kiosk.db*"))
    assert ID_NUMBER.encode() not in raw and NAME.encode() not in raw


@pytest.mark.parametrize("state_path", [["start"], ["start", "card"], ["start", "card", "cat"]])
def test_inactivity_timeout_returns_to_start_and_wipes(kiosk, clock, state_path):
    """GIVEN a resident who walks away mid-journey WHEN the timeout passes THEN attract, wiped."""
    step(kiosk, Intent.START)
    if "card" in state_path:
        place_card(kiosk)
    if "cat" in state_path:
        step(kiosk, Intent.PICK_CATEGORY, "shebao")
    before = kiosk.session.id
    t = kiosk.config.ui.timeouts
    limit = t.await_card_s if kiosk.state == StateId.AWAIT_IDENTITY else t.default_s
    clock.advance(limit - 1)
    kiosk.post(Tick())
    kiosk.pump()
    assert kiosk.state != StateId.ATTRACT, "must not time out early"
    clock.advance(2)
    kiosk.post(Tick())
    kiosk.pump()
    assert kiosk.state == StateId.ATTRACT
    assert kiosk.session.identity is None
    assert kiosk.session.id != before


def test_countdown_warns_before_timeout_and_a_touch_gives_more_time(kiosk, clock):
    walk_to_guide(kiosk)
    assert kiosk.view().seconds_left is None
    clock.advance(kiosk.config.ui.timeouts.guide_s - 10)
    kiosk.post(Tick())
    kiosk.pump()
    view = kiosk.view()
    assert view.seconds_left == 10 and view.countdown_text == "10 秒后返回首页"
    assert view.countdown_action.label == "继续办理"
    step(kiosk, Intent.MORE_TIME)
    assert kiosk.view().seconds_left is None and kiosk.state == StateId.GUIDE


def test_unknown_person_goes_back_to_card_with_a_notice(kiosk):
    step(kiosk, Intent.START)
    stranger = dataclasses.replace(WANG_JIANGUO, name="张三")
    assert place_card(kiosk, stranger) == StateId.AWAIT_IDENTITY
    assert kiosk.session.identity is None
    assert kiosk.view().notice == "身份核验未通过，请到人工窗口办理。"


@pytest.mark.parametrize(
    "record", [HK_RESIDENCE_PERMIT, FOREIGN_2017, FOREIGN_2023], ids=lambda r: r.card_type.value
)
def test_other_card_types_are_verified_with_their_card_type(kiosk, record):
    """GIVEN a Hong Kong resident's permit or a foreigner's permanent residence card (valid)
    WHEN it is read THEN the central service verifies that card type and the resident prints."""
    record = dataclasses.replace(record, valid_to=date(2030, 1, 1))
    assert step(kiosk, Intent.START) == StateId.AWAIT_IDENTITY
    kiosk.post(CardRead(record))
    kiosk.pump()
    assert kiosk.state == StateId.CATEGORIES, kiosk.view().notice
    assert kiosk.session.identity.card_type == record.card_type.value
    assert kiosk.session.identity.person_ref
    assert step(kiosk, Intent.PICK_CATEGORY, "shebao") == StateId.ITEMS
    assert step(kiosk, Intent.PICK_ITEM, "shebao.insured-cert") == StateId.GUIDE
    assert step(kiosk, Intent.ACT) == StateId.RATE, kiosk.view().notice


def test_paper_out_returns_to_guide_with_a_notice_and_prints_nothing(kiosk):
    walk_to_guide(kiosk)
    kiosk.services.printer.fail_with = PaperOut("paper out")
    assert step(kiosk, Intent.ACT) == StateId.GUIDE
    assert kiosk.view().notice == "打印机缺纸，请联系工作人员。"
    kiosk.services.printer.fail_with = None
    assert step(kiosk, Intent.ACT) == StateId.RATE, "the resident can try again"


def test_a_second_tap_on_print_prints_once(kiosk, clock):
    walk_to_guide(kiosk)
    kiosk.touch(Intent.ACT)
    kiosk.touch(Intent.ACT)
    kiosk.pump()
    assert len(kiosk.services.printer.receipts) == 1


def test_a_card_mid_journey_does_not_replace_the_resident(kiosk):
    walk_to_guide(kiosk)
    place_card(kiosk, WANG_JIANGUO)
    assert kiosk.state == StateId.GUIDE and kiosk.session.identity.name == NAME


def test_late_results_of_a_wiped_session_are_dropped(store, clock, central):
    """GIVEN a verify call still in flight WHEN the session times out THEN its result is dropped."""
    queued = []

    class DeferredRunner:
        def __init__(self, post):
            self.post = post

        def submit(self, task, token, work):
            queued.append((task, token, work))

        def shutdown(self):
            pass

    core = KioskCore(
        parse_config({}),
        Services(central=central, printer=FakePrinter(), journal=store),
        clock,
        runner_factory=DeferredRunner,
    )
    core.touch(Intent.START)
    place_card(core)
    assert core.state == StateId.VERIFYING
    clock.advance(1000)
    core.post(Tick())
    core.pump()
    assert core.state == StateId.ATTRACT
    from kiosk.tasks import run_task

    for task, token, work in queued:
        core.post(run_task(task, token, work))
    core.pump()
    assert core.state == StateId.ATTRACT and core.session.identity is None


def test_views_never_show_the_name_or_id_number(kiosk):
    seen = []
    kiosk.add_listener(seen.append)
    walk_to_guide(kiosk)
    step(kiosk, Intent.ACT)
    text = repr(seen)
    assert ID_NUMBER not in text and NAME not in text
    assert "您好，李**" in text


def test_english_and_large_text_are_per_resident(kiosk, clock):
    step(kiosk, Intent.TOGGLE_LANGUAGE)
    step(kiosk, Intent.TOGGLE_LARGE_TEXT)
    view = kiosk.view()
    assert view.language == "en" and view.large_text and view.title == "Self-service"
    step(kiosk, Intent.START)
    step(kiosk, Intent.HOME)
    view = kiosk.view()
    assert view.language == "zh_CN" and not view.large_text


def test_the_machine_diagram_in_docs_is_current():
    from kiosk.config import PROJECT_ROOT
    from kiosk.machine import mermaid

    assert (PROJECT_ROOT / "docs" / "machine.md").read_text(encoding="utf-8") == mermaid()


def test_every_ui_text_has_a_chinese_translation():
    """Chinese first: a message without zh_CN would show English to a resident."""
    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import read_po

    from kiosk.config import PROJECT_ROOT

    with open(PROJECT_ROOT / "kiosk/locale/zh_CN/LC_MESSAGES/kiosk.po", "rb") as fh:
        catalog = read_po(fh)
    sources = [
        *sorted((PROJECT_ROOT / "kiosk").glob("views*.py")),
        PROJECT_ROOT / "kiosk/view_parts.py",
        PROJECT_ROOT / "kiosk/capture_prompts.py",
        *sorted((PROJECT_ROOT / "kiosk/flows").glob("*.py")),
        # the maintenance menu shows its own words and the self-tests' results (kiosk/diag)
        *sorted((PROJECT_ROOT / "kiosk/maintenance").glob("*.py")),
        *[PROJECT_ROOT / "kiosk/diag" / name for name in ("selftest.py", "checks.py")],
    ]
    sources = [source for source in sources if source.exists()]
    messages = {
        msg
        for source in sources
        for _, msg, _, _ in extract_from_file("python", source, keywords={"_": None, "N_": None})
    }
    missing = sorted(m for m in messages if not (catalog.get(m) and catalog.get(m).string))
    assert messages and missing == []


def test_times_shown_and_printed_are_in_the_kiosk_time_zone(kiosk, clock):
    """The machine's clock may run in UTC; residents read Beijing time."""
    assert kiosk.local_now().utcoffset().total_seconds() == 8 * 3600
    assert kiosk.local_now() == clock.now()

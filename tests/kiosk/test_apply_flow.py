"""申请 through the statechart, headless, against the reference service in-process.

The keyboards run on the real librime and zinnia engines, the outbox on real SQLite, and the
service is the real one: an application the kiosk says it received is found by its number.
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest

from drivers.idcard.sim_cards import LI_XIUYING, WANG_JIANGUO
from drivers.ime.rare import extended_candidates
from drivers.printer import Qr
from kiosk.catalogue_cache import CatalogueCache
from kiosk.config import parse_config
from kiosk.core import KioskCore, Services
from kiosk.delivery import central_sender
from kiosk.events import CardRead, Intent, QrScanned, Tick
from kiosk.ids import StateId
from kiosk.offline import OfflineCatalogue
from kiosk.outbox import Outbox, load_or_create_key
from kiosk.store import open_store
from kiosk.tasks import InlineTaskRunner
from tests.kiosk.test_store_durability import _another_writer
from tests.support.fakes import FakePrinter
from tests.support.ime_engines import handwriting_engine, pinyin_engine, recorded_strokes

CARD_LOSS = ("shebao", "shebao.card-loss")


def touch(core, intent, arg=None):
    core.touch(intent, arg)
    core.pump()
    return core.state


def place(core, record=LI_XIUYING):
    core.post(CardRead(record))
    core.pump()
    return core.state


def engines():
    return SimpleNamespace(
        pinyin=pinyin_engine(), handwriting=handwriting_engine(), extended=extended_candidates
    )


@pytest.fixture
def applying(make_kiosk):
    """A kiosk with the real keyboard engines."""

    def build(**config):
        core = make_kiosk(**config)
        core.services.input_methods = engines()
        return core

    return build


def open_item(core, category, code):
    assert place(core) == StateId.CATEGORIES
    touch(core, Intent.PICK_CATEGORY, category)
    assert touch(core, Intent.PICK_ITEM, code) == StateId.GUIDE
    assert core.view().options[0].label == "立即申请"
    return touch(core, Intent.ACT)


def fill_digits(core, field, digits):
    assert touch(core, Intent.EDIT_FIELD, field) == StateId.EDITING
    assert core.view().keyboard.layout == "digits"
    for d in digits:
        touch(core, Intent.KEY, d)
    return touch(core, Intent.FIELD_DONE)


def choose(core, field, value):
    assert touch(core, Intent.EDIT_FIELD, field) == StateId.EDITING
    assert value in [o.arg for o in core.view().options]
    return touch(core, Intent.CHOOSE, value)


def fill_card_loss(core):
    assert fill_digits(core, "phone", "13800138000") == StateId.FORM
    assert choose(core, "loss_reason", "lost") == StateId.FORM
    assert choose(core, "reissue", "no") == StateId.FORM


def test_a_resident_reports_a_lost_card_and_the_service_finds_it_by_its_number(applying, central):
    """GIVEN a resident with their ID card WHEN they apply for 社会保障卡挂失 for themselves
    THEN the service has it, the receipt carries the tracking number as a CASE: code, and
    the outbox holds nothing more to send."""
    kiosk = applying()
    assert open_item(kiosk, *CARD_LOSS) == StateId.APPLY_START
    assert touch(kiosk, Intent.FOR_SELF) == StateId.FORM
    fill_card_loss(kiosk)
    assert touch(kiosk, Intent.NEXT) == StateId.REVIEW
    review = kiosk.view()
    assert {f.name: f.value for f in review.fields}["loss_reason"] == "丢失"
    assert touch(kiosk, Intent.SUBMIT_APPLICATION) == StateId.SUBMITTED

    number = kiosk.session.draft.receipt.tracking_no
    assert len(number) == 16 and kiosk.view().qr == f"CASE:{number}"
    case = central.case(number)
    assert case.item_code == "shebao.card-loss"
    receipt = kiosk.services.printer.receipts[-1]
    assert Qr(f"CASE:{number}", size=6) in receipt.elements
    assert kiosk.services.outbox.backlog() == 0
    assert touch(kiosk, Intent.DONE) == StateId.RATE


def test_the_form_will_not_go_on_with_a_wrong_or_missing_answer(applying):
    kiosk = applying()
    open_item(kiosk, *CARD_LOSS)
    touch(kiosk, Intent.FOR_SELF)
    assert touch(kiosk, Intent.NEXT) == StateId.FORM
    assert kiosk.session.notice == "form_has_problems"
    assert fill_digits(kiosk, "phone", "1380013") == StateId.EDITING  # too short: stays
    assert kiosk.session.notice == "field_bad_phone"
    assert "11" in kiosk.view().notice
    touch(kiosk, Intent.BACKSPACE)
    for d in "38000":
        touch(kiosk, Intent.KEY, d)
    assert kiosk.session.draft.keyboard.text == "13800138000"
    assert touch(kiosk, Intent.FIELD_DONE) == StateId.FORM


def test_an_applicant_who_walks_away_mid_form_is_forgotten(applying, clock):
    kiosk = applying()
    open_item(kiosk, *CARD_LOSS)
    touch(kiosk, Intent.FOR_SELF)
    fill_digits(kiosk, "phone", "13800138000")
    assert kiosk.session.draft.values
    clock.advance(kiosk.config.ui.timeouts.guide_s + 1)
    kiosk.post(Tick())
    kiosk.pump()
    assert kiosk.state == StateId.ATTRACT
    assert kiosk.session.draft is None and kiosk.session.identity is None


def test_elder_mode_gives_twice_the_time(applying, clock):
    kiosk = applying()
    touch(kiosk, Intent.TOGGLE_ELDER)
    open_item(kiosk, *CARD_LOSS)
    touch(kiosk, Intent.FOR_SELF)
    clock.advance(kiosk.config.ui.timeouts.guide_s + 1)
    kiosk.post(Tick())
    kiosk.pump()
    assert kiosk.state == StateId.FORM
    assert len(kiosk.view().options) == 1  # one question at a time
    clock.advance(kiosk.config.ui.timeouts.guide_s)
    kiosk.post(Tick())
    kiosk.pump()
    assert kiosk.state == StateId.ATTRACT
    assert not kiosk.session.prefs.elder  # the next resident starts in the standard mode


def test_a_locked_database_means_not_received_and_the_resident_can_retry(central, clock, tmp_path):
    """GIVEN a database another writer holds WHEN the resident submits THEN they stay on the
    review screen and are told it was NOT received; once free, the same tap goes through."""
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}", clock.now, busy_timeout_s=0.2)
    outbox = Outbox(store, load_or_create_key(tmp_path / "outbox.key"))
    services = Services(
        central=central,
        printer=FakePrinter(),
        outbox=outbox,
        catalogue_cache=OfflineCatalogue(CatalogueCache(store)),
        input_methods=engines(),
    )
    kiosk = KioskCore(
        parse_config({"kiosk_id": "KIOSK-T-1"}), services, clock, runner_factory=InlineTaskRunner
    )
    kiosk.start()
    kiosk.pump()
    open_item(kiosk, *CARD_LOSS)
    touch(kiosk, Intent.FOR_SELF)
    fill_card_loss(kiosk)
    touch(kiosk, Intent.NEXT)
    with _another_writer(tmp_path / "k.db"):
        started = time.monotonic()
        assert touch(kiosk, Intent.SUBMIT_APPLICATION) == StateId.REVIEW
        assert time.monotonic() - started < 3
    assert kiosk.session.notice == "application_not_saved"
    assert "NOT" in kiosk.view().notice or "未" in kiosk.view().notice
    assert outbox.backlog() == 0
    assert touch(kiosk, Intent.SUBMIT_APPLICATION) == StateId.SUBMITTED
    assert kiosk.session.draft.receipt is not None
    store.close()


def test_offline_the_application_is_queued_and_sent_when_the_service_returns(applying, central):
    """GIVEN a kiosk that has seen the form once WHEN the service is unreachable THEN a card
    still lets the resident apply, the receipt says queued with an APP: code, and once the
    service is back the outbox delivers it and that code finds the tracking number."""
    kiosk = applying()
    open_item(kiosk, *CARD_LOSS)  # the form is fetched (and cached) once online
    touch(kiosk, Intent.HOME)

    central.outage.down = True
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "shebao")
    touch(kiosk, Intent.PICK_ITEM, "shebao.card-loss")
    assert kiosk.view().options[0].enabled
    assert touch(kiosk, Intent.ACT) == StateId.AWAIT_IDENTITY
    assert place(kiosk) == StateId.APPLY_START
    touch(kiosk, Intent.FOR_SELF)
    fill_card_loss(kiosk)
    touch(kiosk, Intent.NEXT)
    assert touch(kiosk, Intent.SUBMIT_APPLICATION) == StateId.SUBMITTED
    draft = kiosk.session.draft
    assert draft.queued and draft.receipt is None
    key = draft.idempotency_key
    assert kiosk.view().qr == f"APP:{key}"
    assert Qr(f"APP:{key}", size=6) in kiosk.services.printer.receipts[-1].elements
    outbox = kiosk.services.outbox
    assert outbox.backlog() == 1
    payload = kiosk.apply.application().payload()
    assert touch(kiosk, Intent.HOME) == StateId.ATTRACT

    central.outage.down = False
    kiosk.post(QrScanned(f"APP:{key}", "scanner"))  # scanned before the outbox sent it
    kiosk.pump()
    assert kiosk.session.notice == "application_not_arrived"
    assert outbox.deliver_due({"application": central_sender(central)}) == 1
    kiosk.post(QrScanned(f"APP:{key}\r\n", "scanner"))
    kiosk.pump()
    assert kiosk.state == StateId.LOOKUP_RESULT
    found = central.application(key)
    assert kiosk.session.lookup_result.cases[0].receipt_no == found.tracking_no
    assert central.case(found.tracking_no).item_code == "shebao.card-loss"
    # delivered again (an answer lost on the way): applied once, the same number
    again = central.submit_application(payload, key)
    assert again.tracking_no == found.tracking_no


def test_an_agent_applies_for_someone_whose_card_they_bring(applying, central):
    """代办 with the principal's card: the application names the principal as applicant and
    the agent with the relation; the service records both."""
    kiosk = applying()
    open_item(kiosk, *CARD_LOSS)
    assert touch(kiosk, Intent.FOR_OTHER) == StateId.PRINCIPAL
    assert place(kiosk, LI_XIUYING) == StateId.PRINCIPAL  # one's own card is not a principal
    assert kiosk.session.notice == "principal_is_agent"
    assert place(kiosk, WANG_JIANGUO) == StateId.FORM
    names = [f.name for f in kiosk.session.draft.fields]
    assert names[0] == "agent_relation" and "principal_name" not in names
    assert choose(kiosk, "agent_relation", "child") == StateId.FORM
    fill_card_loss(kiosk)
    app = kiosk.apply.application()
    assert app.applicant.name == WANG_JIANGUO.name and app.agent.relation == "child"
    assert app.agent.person.name == LI_XIUYING.name
    assert [m.code for m in kiosk.session.draft.materials] == ["authorisation"]


def test_a_name_is_typed_in_pinyin_one_character_at_a_time(applying):
    """The principal's name typed on the pinyin keyboard, and 䶮 from the extended set."""
    kiosk = applying()
    open_item(kiosk, *CARD_LOSS)
    touch(kiosk, Intent.FOR_OTHER)
    assert touch(kiosk, Intent.ENTER_PRINCIPAL) == StateId.FORM
    touch(kiosk, Intent.EDIT_FIELD, "principal_name")
    keyboard = kiosk.view().keyboard
    assert keyboard.layout == "handwriting" or "pinyin" in keyboard.layouts
    touch(kiosk, Intent.LAYOUT, "pinyin")
    for letter in "liu":
        touch(kiosk, Intent.KEY, letter)
    view = kiosk.view()
    assert view.keyboard.composition == "liu" and "刘" in view.keyboard.candidates
    touch(kiosk, Intent.CANDIDATE, str(view.keyboard.candidates.index("刘")))
    for letter in "yan":
        touch(kiosk, Intent.KEY, letter)
    for _ in range(40):
        if "䶮" in kiosk.view().keyboard.candidates or not kiosk.view().keyboard.has_more:
            break
        touch(kiosk, Intent.CANDIDATE_PAGE, "next")
    candidates = kiosk.view().keyboard.candidates
    assert "䶮" in candidates
    touch(kiosk, Intent.CANDIDATE, str(candidates.index("䶮")))
    assert kiosk.view().keyboard.text == "刘䶮"
    assert touch(kiosk, Intent.FIELD_DONE) == StateId.FORM
    assert kiosk.session.draft.values["principal_name"] == "刘䶮"


def handwriting_pad(kiosk):
    """The principal's name field of a 代办, on the handwriting layout."""
    open_item(kiosk, *CARD_LOSS)
    touch(kiosk, Intent.FOR_OTHER)
    touch(kiosk, Intent.ENTER_PRINCIPAL)
    touch(kiosk, Intent.EDIT_FIELD, "principal_name")
    touch(kiosk, Intent.LAYOUT, "handwriting")
    return kiosk


def test_a_rare_character_is_handwritten(applying):
    kiosk = handwriting_pad(applying())
    pad, chars = recorded_strokes()
    for stroke in chars["䶮"]:
        scaled = [[x * 1000 / pad, y * 1000 / pad] for x, y in stroke]
        touch(kiosk, Intent.STROKE, json.dumps(scaled))
    candidates = kiosk.view().keyboard.candidates
    assert "䶮" in candidates[:5]
    touch(kiosk, Intent.CANDIDATE, str(candidates.index("䶮")))
    assert kiosk.view().keyboard.text == "䶮"
    touch(kiosk, Intent.BACKSPACE)
    assert kiosk.view().keyboard.text == ""


def test_a_malformed_stroke_is_refused_plainly(applying):
    kiosk = handwriting_pad(applying())
    for bad in ("", "[", "[[1]]", '[["a", 2]]', "[[5000, 1]]", "{}", "null"):
        assert touch(kiosk, Intent.STROKE, bad) == StateId.EDITING
        assert kiosk.session.notice == "input_not_understood"


@pytest.mark.parametrize(
    "text",
    [
        "APP:",
        "APP:123",
        "APP:zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
        "app:0b5f7a64-93c6-4d55-a1f3-2a4e7c9e1d20",
        "APP:0b5f7a64-93c6-4d55-a1f3-2a4e7c9e1d20\nX",
        "APP:0b5f7a64-93c6-4d55-a1f3-2a4e7c9e1d2０",
    ],
)
def test_a_malformed_application_code_is_refused_plainly(applying, text):
    kiosk = applying()
    kiosk.post(QrScanned(text, "scanner"))
    kiosk.pump()
    assert kiosk.state == StateId.ATTRACT and kiosk.session.notice == "code_not_recognised"


def _wavs(folder, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(folder.glob("*.wav"))
        if len(found) >= count:
            return found
        time.sleep(0.05)
    return sorted(folder.glob("*.wav"))


def test_elder_mode_speaks_each_step_and_can_be_muted_or_repeated(applying, tmp_path):
    """长辈模式 says each step aloud (espeak-ng, Mandarin from pinyin with tone numbers); the WAV
    of each prompt has speech in it; mute silences it and "say it again" repeats."""
    from drivers.speech import open_speaker
    from drivers.speech.wavcheck import analyse

    out = tmp_path / "speech"
    speaker = open_speaker(f"dir://{out}", cache_dir=tmp_path / "cache")
    kiosk = applying()
    kiosk.services.speaker = speaker
    try:
        place(kiosk)
        assert not _wavs(out, 1, timeout=0.5)  # standard mode is silent
        assert touch(kiosk, Intent.TOGGLE_ELDER) == StateId.CATEGORIES
        assert kiosk.view().elder and kiosk.view().large_text
        assert len(_wavs(out, 1)) == 1  # (a prompt cut short by the next one is not written)
        touch(kiosk, Intent.PICK_CATEGORY, "shebao")
        spoken = _wavs(out, 2)
        assert len(spoken) == 2
        for wav in spoken:
            stats = analyse(wav)
            assert 0.5 < stats.duration_s < 12 and not stats.silent
        touch(kiosk, Intent.MUTE)
        touch(kiosk, Intent.PAGE, "next")
        touch(kiosk, Intent.BACK)
        assert len(_wavs(out, 3, timeout=1.0)) == 2
        touch(kiosk, Intent.SAY_AGAIN)
        assert len(_wavs(out, 3)) == 3
    finally:
        speaker.close()


def test_date_bounds_follow_the_kiosks_local_date_not_the_pcs():
    """A "today" bound is the kiosk's local day (Asia/Shanghai, as the service's), so a PC clock
    kept in UTC does not refuse what the service accepts, or the reverse."""
    from datetime import date

    from kiosk.flows.form import FieldSpec, check_value

    since = FieldSpec("since", "起始日期", "Since", "date", min_date="today", max_date="today+1y")
    assert check_value(since, "2026-12-05", today=date(2026, 12, 5)) is None
    assert check_value(since, "2026-12-05", today=date(2026, 12, 6)) == "date_out_of_range"

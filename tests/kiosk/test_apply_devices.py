"""申请 steps that need devices: documents and faces through a real synthetic camera, and a
staff card through the real pcscd (帮办). The service is the reference one, in-process."""

from __future__ import annotations

import contextlib
import json
import uuid
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from drivers.camera import open_camera
from drivers.camera.synthetic import scene_control
from drivers.smartcard import open_smartcard
from drivers.smartcard.simulator import SocialSecurityCardSim, TechnicianCardSim
from drivers.smartcard.technician import encode_public_key
from kiosk.events import Intent, SmartCardInserted
from kiosk.ids import StateId
from kiosk.staff import StaffCards
from tests.kiosk.test_apply_flow import choose, engines, fill_digits, open_item, place, touch
from tests.support.pcsc import shared_pcscd


@pytest.fixture
def camera():
    name = f"t-{uuid.uuid4().hex[:8]}"
    device = open_camera(f"sim://camera?name={name}&scene=pattern&width=640&height=480&fps=15")
    device.open()
    yield device, scene_control(name)
    device.close()


@pytest.fixture
def applying(make_kiosk, camera):
    def build(**config):
        config.setdefault("devices", {"camera": {"url": "sim://camera", "enabled": True}})
        core = make_kiosk(**config)
        core.services.input_methods = engines()
        core.services.camera = camera[0]
        return core

    return build


def test_a_document_is_photographed_and_travels_with_the_application(applying, camera, central):
    """失业登记 needs 解除劳动关系证明: a glare is refused with a retake prompt, a good page
    is taken with a thumbnail for the review, and the service receives it."""
    kiosk = applying()
    _, scenes = camera
    assert open_item(kiosk, "shebao", "shebao.unemployment-registration") == StateId.APPLY_START
    touch(kiosk, Intent.FOR_SELF)
    draft = kiosk.session.draft
    for spec in draft.fields:
        if spec.type == "phone":
            fill_digits(kiosk, spec.name, "13800138000")
        elif spec.type == "choice":
            choose(kiosk, spec.name, spec.choices[0].value)
        elif spec.type == "date":
            fill_digits(kiosk, spec.name, "20250102")
        elif spec.required:
            touch(kiosk, Intent.EDIT_FIELD, spec.name)
            touch(kiosk, Intent.LAYOUT, "digits")
            for d in "12345":
                touch(kiosk, Intent.KEY, d)
            assert touch(kiosk, Intent.FIELD_DONE) == StateId.FORM, kiosk.session.notice
    assert touch(kiosk, Intent.NEXT) == StateId.DOCUMENTS
    assert kiosk.view().camera == "document"
    assert touch(kiosk, Intent.NEXT) == StateId.DOCUMENTS
    assert kiosk.session.notice == "material_needed"

    scenes.show("document_glare")
    touch(kiosk, Intent.CAPTURE)
    assert kiosk.session.notice == "page_glare" and "反光" in kiosk.view().notice
    scenes.show("document")
    touch(kiosk, Intent.CAPTURE)
    assert kiosk.session.notice is None
    thumbs = kiosk.view().thumbnails
    assert thumbs[0].jpeg.startswith(b"\xff\xd8") and len(thumbs[0].jpeg) < 20_000
    assert touch(kiosk, Intent.NEXT) == StateId.REVIEW
    assert touch(kiosk, Intent.SUBMIT_APPLICATION) == StateId.SUBMITTED
    number = kiosk.session.draft.receipt.tracking_no
    assert central.case(number).item_code == "shebao.unemployment-registration"


def _to_face_check(kiosk):
    state = open_item(kiosk, "shebao", "shebao.pension-qualification")
    return state


def test_the_face_check_passes_for_the_card_holder(applying, camera):
    kiosk = applying()
    camera[1].show("face")
    assert _to_face_check(kiosk) == StateId.FORM
    assert kiosk.session.draft.face_check_id
    assert kiosk.apply.application().face_check_id == kiosk.session.draft.face_check_id


def test_a_photo_held_up_fails_three_times_and_the_resident_is_sent_to_a_window(applying, camera):
    kiosk = applying()
    camera[1].show("face_still")
    assert _to_face_check(kiosk) == StateId.FACE_CHECK
    assert kiosk.session.notice == "face_not_live"
    assert [o.intent for o in kiosk.view().options] == [Intent.RETRY]
    touch(kiosk, Intent.RETRY)
    touch(kiosk, Intent.RETRY)
    assert kiosk.session.notice == "face_go_to_window"
    assert [o.intent for o in kiosk.view().options] == [Intent.DONE]
    assert touch(kiosk, Intent.RETRY) == StateId.FACE_CHECK  # no fourth try
    assert kiosk.session.draft.face_attempts == 3
    assert touch(kiosk, Intent.DONE) == StateId.RATE


def test_no_camera_means_face_items_are_not_offered(make_kiosk):
    kiosk = make_kiosk(devices={"camera": {"url": "sim://camera", "enabled": False}})
    place(kiosk)
    touch(kiosk, Intent.PICK_CATEGORY, "shebao")
    touch(kiosk, Intent.PICK_ITEM, "shebao.pension-qualification")
    option = kiosk.view().options[0]
    assert not option.enabled and "摄像头" in kiosk.view().hint


@contextlib.contextmanager
def _reader(url):
    device = open_smartcard(url)
    with device:
        yield device


def test_a_staff_member_signs_in_to_help_and_the_case_records_it(applying, tmp_path, central):
    daemon = shared_pcscd()
    try:
        key = ed25519.Ed25519PrivateKey.generate()
        entry = {"id": "S0042", "name": "张敏", "public_key": encode_public_key(key.public_key())}
        registry = tmp_path / "staff.json"
        registry.write_text(
            json.dumps({"technicians": [{**entry, "valid_until": "2999-12-31"}]}), "utf-8"
        )
        staff = StaffCards(registry, lambda: _reader(daemon.url(1)))
        kiosk = applying()
        kiosk.services.smartcard = SimpleNamespace(read_staff_id=staff.read_staff_id)
        open_item(kiosk, "shebao", "shebao.card-loss")
        touch(kiosk, Intent.FOR_SELF)

        daemon.insert(SocialSecurityCardSim(), 1)  # not a staff card
        kiosk.post(SmartCardInserted(daemon.readers[1].name))
        kiosk.pump()
        assert kiosk.session.notice == "staff_card_not_accepted"
        assert kiosk.session.assisted_by is None
        daemon.remove_all()
        daemon.wait_card(daemon.readers[1].name, present=False)

        daemon.insert(TechnicianCardSim(key, "S0042"), 1)
        kiosk.post(SmartCardInserted(daemon.readers[1].name))
        kiosk.pump()
        assert kiosk.session.assisted_by == "S0042"
        fill_digits(kiosk, "phone", "13800138000")
        choose(kiosk, "loss_reason", "lost")
        choose(kiosk, "reissue", "no")
        touch(kiosk, Intent.NEXT)
        assert any("S0042" in line for s in kiosk.view().sections for line in s.lines)
        assert touch(kiosk, Intent.SUBMIT_APPLICATION) == StateId.SUBMITTED
        case = central.case(kiosk.session.draft.receipt.tracking_no)
        assert "帮办" in json.dumps(case.model_dump(mode="json"), ensure_ascii=False)
    finally:
        daemon.remove_all()


def _pinyin(kiosk, syllable, char):
    for letter in syllable:
        touch(kiosk, Intent.KEY, letter)
    for _ in range(60):
        candidates = kiosk.view().keyboard.candidates
        if char in candidates:
            return touch(kiosk, Intent.CANDIDATE, str(candidates.index(char)))
        touch(kiosk, Intent.CANDIDATE_PAGE, "next")
    raise AssertionError(f"{char} not offered for {syllable}")


def test_an_agent_types_a_rare_name_and_photographs_the_authorisation(applying, camera, central):
    """代办 without the principal's card: 龚䶮 typed in pinyin (䶮 from the extended set), the
    number on the digit layout, the signed authorisation photographed. The service verifies the
    principal, and the receipt names them, rare character and all (GB18030 on the printer)."""
    from drivers.printer import Text
    from drivers.printer.escpos_printer import encode_line

    kiosk = applying()
    open_item(kiosk, "shebao", "shebao.card-loss")
    touch(kiosk, Intent.FOR_OTHER)
    touch(kiosk, Intent.ENTER_PRINCIPAL)
    touch(kiosk, Intent.EDIT_FIELD, "principal_name")
    touch(kiosk, Intent.LAYOUT, "pinyin")
    _pinyin(kiosk, "gong", "龚")
    _pinyin(kiosk, "yan", "䶮")
    assert touch(kiosk, Intent.FIELD_DONE) == StateId.FORM
    fill_digits(kiosk, "principal_id_number", "640104198005090014")
    choose(kiosk, "agent_relation", "entrusted")
    fill_digits(kiosk, "phone", "13800138000")
    choose(kiosk, "loss_reason", "lost")
    choose(kiosk, "reissue", "no")
    assert touch(kiosk, Intent.NEXT) == StateId.DOCUMENTS
    assert "授权委托书" in kiosk.view().title
    camera[1].show("document")
    touch(kiosk, Intent.CAPTURE)
    assert touch(kiosk, Intent.NEXT) == StateId.REVIEW
    assert "龚䶮" in [f.value for f in kiosk.view().fields]
    assert touch(kiosk, Intent.SUBMIT_APPLICATION) == StateId.SUBMITTED, kiosk.session.notice
    case = central.case(kiosk.session.draft.receipt.tracking_no)
    assert "代办" in json.dumps(case.model_dump(mode="json"), ensure_ascii=False)
    lines = [e.text for e in kiosk.services.printer.receipts[-1].elements if isinstance(e, Text)]
    named = next(line for line in lines if "龚䶮" in line)
    assert encode_line(named)  # the printer's GB18030 encoding takes it


SUBMIT_ITEMS = [
    ("shebao", "shebao.pension-qualification"),
    ("shebao", "shebao.unemployment-registration"),
    ("shebao", "shebao.card-loss"),
    ("yibao", "yibao.out-of-area"),
    ("huji", "huji.residence-permit"),
    ("huji", "huji.no-criminal-record"),
    ("gongjijin", "gjj.withdraw-rent"),
    ("minzheng", "mz.elderly-allowance"),
    ("churujing", "crj.hk-macau-endorsement"),
]


def _valid_digits(spec) -> str:
    from datetime import date

    from rules.forms import resolve_bound

    if spec.type == "phone":
        return "13800138000"
    today = date.today()  # the service's clock is real; the kiosk's fake one is near it
    high = resolve_bound(spec.max_date, today) if spec.max_date else today
    low = resolve_bound(spec.min_date, today) if spec.min_date else date(1950, 1, 1)
    return (low + (high - low) / 2).strftime("%Y%m%d")  # far from either bound


@pytest.mark.parametrize(("category", "code"), SUBMIT_ITEMS, ids=[c for _, c in SUBMIT_ITEMS])
def test_every_submit_item_can_be_applied_for(applying, camera, central, category, code):
    """Each of the nine 申请 items, from its guide to a tracking number the service knows."""
    kiosk = applying()
    camera[1].show("face")
    place(kiosk)  # 李秀英, born 1956: old enough for the 高龄津贴
    touch(kiosk, Intent.PICK_CATEGORY, category)
    assert touch(kiosk, Intent.PICK_ITEM, code) == StateId.GUIDE
    state = touch(kiosk, Intent.ACT)
    if state == StateId.APPLY_START:
        state = touch(kiosk, Intent.FOR_SELF)
    assert state == StateId.FORM, kiosk.session.notice
    draft = kiosk.session.draft
    for spec in draft.fields:
        if draft.values.get(spec.name) and spec.name not in draft.check_all():
            continue  # pre-filled from the card
        if spec.type == "choice":
            choose(kiosk, spec.name, spec.choices[0].value)
        elif spec.type in ("phone", "date"):
            assert fill_digits(kiosk, spec.name, _valid_digits(spec)) == StateId.FORM
        else:
            touch(kiosk, Intent.EDIT_FIELD, spec.name)
            touch(kiosk, Intent.LAYOUT, "pinyin")
            for syllable, char in (("dong", "东"), ("cheng", "城"), ("qu", "区")):
                for letter in syllable:
                    touch(kiosk, Intent.KEY, letter)
                touch(kiosk, Intent.CANDIDATE, str(kiosk.view().keyboard.candidates.index(char)))
            touch(kiosk, Intent.LAYOUT, "digits")
            for d in "12":
                touch(kiosk, Intent.KEY, d)
            assert touch(kiosk, Intent.FIELD_DONE) == StateId.FORM, kiosk.session.notice
    state = touch(kiosk, Intent.NEXT)
    camera[1].show("document")
    while state == StateId.DOCUMENTS:
        touch(kiosk, Intent.CAPTURE)
        state = touch(kiosk, Intent.NEXT)
    assert state == StateId.REVIEW, kiosk.session.notice
    assert touch(kiosk, Intent.SUBMIT_APPLICATION) == StateId.SUBMITTED, kiosk.session.notice
    assert central.case(kiosk.session.draft.receipt.tracking_no).item_code == code

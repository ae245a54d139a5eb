"""Every flow kind through the statechart, headless, against the reference service in-process."""

from __future__ import annotations

import dataclasses

from drivers.idcard.sim_cards import HK_RESIDENCE_PERMIT, LI_XIUYING, WANG_JIANGUO
from drivers.printer import Qr, Text
from kiosk.events import CardRead, Intent, QrScanned, Tick
from kiosk.ids import StateId
from rules.receipts import luhn_check_digit


def touch(core, intent, arg=None):
    core.touch(intent, arg)
    core.pump()
    return core.state


def place(core, record=LI_XIUYING):
    core.post(CardRead(record))
    core.pump()
    return core.state


def texts(receipt):
    return [e.text for e in receipt.elements if isinstance(e, Text)]


def test_print_a_receipt_certificate_in_three_touches_after_the_card(kiosk):
    """GIVEN a resident who lays their card on the attract screen WHEN they pick the category,
    the item and print THEN the certificate comes out: three touches to paper."""
    assert place(kiosk) == StateId.CATEGORIES
    assert touch(kiosk, Intent.PICK_CATEGORY, "shebao") == StateId.ITEMS
    assert touch(kiosk, Intent.PICK_ITEM, "shebao.insured-cert") == StateId.GUIDE
    assert kiosk.view().options[0].label == "打印证明"
    assert touch(kiosk, Intent.ACT) == StateId.RATE
    receipt = kiosk.services.printer.receipts[0]
    assert "社会保险个人参保证明" in texts(receipt)
    assert any(isinstance(e, Qr) for e in receipt.elements)
    assert touch(kiosk, Intent.RATE, "5") == StateId.THANKS
    assert kiosk.services.outbox.backlog() == 1


def test_browse_first_then_identify_continues_the_print(kiosk):
    """GIVEN a resident who browses without a card WHEN the item needs identity THEN the kiosk
    asks for it, and once the card is read the print goes on by itself (4 touches)."""
    assert touch(kiosk, Intent.BROWSE) == StateId.CATEGORIES
    touch(kiosk, Intent.PICK_CATEGORY, "shebao")
    touch(kiosk, Intent.PICK_ITEM, "shebao.insured-cert")
    assert kiosk.view().options[0].sublabel  # "you will be asked for your ID"
    assert touch(kiosk, Intent.ACT) == StateId.AWAIT_IDENTITY
    assert place(kiosk) == StateId.RATE
    assert len(kiosk.services.printer.receipts) == 1


def test_a_guide_needs_no_card_and_prints_the_checklist(kiosk):
    assert touch(kiosk, Intent.BROWSE) == StateId.CATEGORIES
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    assert touch(kiosk, Intent.PICK_ITEM, "huji.birth-registration") == StateId.GUIDE
    view = kiosk.view()
    assert [s.heading for s in view.sections][:2] == ["受理条件", "申报材料"]
    assert view.options[0].label == "打印材料清单"
    assert touch(kiosk, Intent.ACT) == StateId.RATE
    checklist = texts(kiosk.services.printer.receipts[0])
    assert "【申报材料】" in checklist and kiosk.session.identity is None


def test_back_from_a_guide_returns_to_its_list_and_home_wipes(kiosk):
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    touch(kiosk, Intent.PICK_ITEM, "huji.migration")
    assert touch(kiosk, Intent.BACK) == StateId.ITEMS
    assert touch(kiosk, Intent.BACK) == StateId.CATEGORIES
    assert touch(kiosk, Intent.HOME) == StateId.ATTRACT
    assert kiosk.session.item_code is None


def test_an_expired_card_is_refused_with_what_to_do(kiosk):
    """GIVEN an expired 港澳台 residence permit WHEN it is read THEN it is refused plainly."""
    assert HK_RESIDENCE_PERMIT.valid_to.year < 2026
    assert place(kiosk, HK_RESIDENCE_PERMIT) == StateId.ATTRACT
    assert kiosk.session.identity is None
    assert "居住证已过期" in kiosk.view().notice


def test_a_valid_hk_permit_gets_in_and_is_labelled_as_a_permit(kiosk):
    permit = dataclasses.replace(HK_RESIDENCE_PERMIT, valid_to=None)
    assert place(kiosk, permit) == StateId.CATEGORIES
    assert "港澳台居民居住证号码" in kiosk.view().subtitle


def test_the_greeting_masks_name_and_number(kiosk):
    place(kiosk, WANG_JIANGUO)
    subtitle = kiosk.view().subtitle
    assert "王**" in subtitle and "1101**********135X" in subtitle
    assert "王建国" not in subtitle


def test_low_ratings_ask_for_reasons_and_keep_them(kiosk):
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    touch(kiosk, Intent.PICK_ITEM, "huji.migration")
    assert touch(kiosk, Intent.DONE) == StateId.RATE
    assert touch(kiosk, Intent.RATE, "2") == StateId.REASONS
    touch(kiosk, Intent.TOGGLE_REASON, "long_wait")
    touch(kiosk, Intent.TOGGLE_REASON, "not_a_reason")
    assert kiosk.view().options[2].selected
    assert touch(kiosk, Intent.SUBMIT_RATING) == StateId.THANKS
    (pending,) = kiosk.services.outbox.due()
    assert pending.payload["reasons"] == ["long_wait"]
    assert pending.payload["flow"] == "guide" and pending.payload["item_code"] == "huji.migration"


def test_a_rating_that_cannot_be_saved_keeps_the_resident_on_the_rating(kiosk, monkeypatch):
    """GIVEN a store that refuses writes (locked, full) WHEN the resident rates THEN the machine
    stays on the rating with a plain notice; nothing escapes pump()."""
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    touch(kiosk, Intent.PICK_ITEM, "huji.migration")
    touch(kiosk, Intent.DONE)

    def refuse(*_a, **_k):
        raise OSError("database or disk is full")

    monkeypatch.setattr(kiosk.services.outbox, "put", refuse)
    assert touch(kiosk, Intent.RATE, "5") == StateId.RATE
    assert kiosk.view().notice == "评价未能保存，请重试或跳过。"
    monkeypatch.undo()
    assert touch(kiosk, Intent.RATE, "5") == StateId.THANKS


def test_pump_contains_a_failing_side_effect(kiosk, monkeypatch):
    """GIVEN a side effect that raises WHEN its event is handled THEN pump() returns, the machine
    is where it was and the resident is told something went wrong."""
    touch(kiosk, Intent.BROWSE)

    def boom(*_a, **_k):
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(kiosk, "_pick_item", boom)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    assert touch(kiosk, Intent.PICK_ITEM, "huji.migration") == StateId.ITEMS
    assert kiosk.view().notice


def test_boot_with_central_down_serves_guides_from_cache(make_kiosk, central, clock):
    """GIVEN a kiosk that cached the catalogue and a guide, then restarted while central is down
    WHEN a resident browses THEN guides come from the cache, printing says it is unreachable,
    and when central returns the kiosk fills in on its own."""
    first = make_kiosk()
    touch(first, Intent.BROWSE)
    touch(first, Intent.PICK_CATEGORY, "huji")
    touch(first, Intent.PICK_ITEM, "huji.birth-registration")
    touch(first, Intent.HOME)
    central.outage.down = True
    kiosk = make_kiosk()
    assert kiosk.catalogue is not None and not kiosk.central_up
    assert touch(kiosk, Intent.BROWSE) == StateId.CATEGORIES
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    assert touch(kiosk, Intent.PICK_ITEM, "huji.birth-registration") == StateId.GUIDE
    assert kiosk.session.item is not None  # from the cache
    touch(kiosk, Intent.BACK)
    touch(kiosk, Intent.PICK_ITEM, "huji.household-cert")
    view = kiosk.view()
    assert view.busy or not view.options or not view.options[0].enabled
    central.outage.down = False
    clock.advance(kiosk.config.central.retry_s + 1)
    kiosk.post(Tick())
    kiosk.pump()
    assert kiosk.central_up


def test_timeout_anywhere_returns_to_attract_and_wipes(kiosk, clock):
    place(kiosk)
    touch(kiosk, Intent.PICK_CATEGORY, "shebao")
    touch(kiosk, Intent.PICK_ITEM, "shebao.insured-cert")
    clock.advance(kiosk.config.ui.timeouts.guide_s + 1)
    kiosk.post(Tick())
    kiosk.pump()
    assert kiosk.state == StateId.ATTRACT and kiosk.session.identity is None


def test_take_a_queue_ticket_after_identifying(kiosk):
    """GIVEN a ticket item that needs identity WHEN the resident browses to it and takes a ticket
    THEN the card is asked for, the ticket is taken by itself after, shown and printed."""
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    assert touch(kiosk, Intent.PICK_ITEM, "huji.id-card-renewal") == StateId.GUIDE
    assert kiosk.view().options[0].label == "取号"
    assert touch(kiosk, Intent.ACT) == StateId.AWAIT_IDENTITY
    assert place(kiosk) == StateId.TICKET, kiosk.view().notice
    view = kiosk.view()
    assert view.title == kiosk.session.ticket.ticket_no
    printed = texts(kiosk.services.printer.receipts[0])
    assert kiosk.session.ticket.ticket_no in printed
    assert touch(kiosk, Intent.DONE) == StateId.RATE


def test_a_second_ticket_in_one_session_is_the_same_ticket(kiosk):
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    touch(kiosk, Intent.PICK_ITEM, "huji.id-card-renewal")
    touch(kiosk, Intent.ACT)
    place(kiosk)
    first = kiosk.session.ticket.ticket_no
    kiosk._take_ticket()  # a retry of the same request (e.g. after a lost answer)
    kiosk.pump()
    assert kiosk.session.ticket.ticket_no == first


def test_scanning_an_appointment_code_on_attract_checks_in(kiosk, central):
    response = central.test_http.post(
        "/api/v1/dev/appointments", json={"person": "李秀英", "item_code": "huji.id-card-renewal"}
    )
    assert response.status_code == 201, response.text
    kiosk.post(QrScanned(response.json()["qr_payload"], "qr_scanner"))
    kiosk.pump()
    assert kiosk.state == StateId.TICKET, kiosk.view().notice
    assert len(kiosk.services.printer.receipts) == 1


def test_an_unknown_appointment_code_says_so(kiosk):
    kiosk.post(QrScanned("APPT:ZZZZZZZZZZZZ", "qr_scanner"))
    kiosk.pump()
    assert kiosk.state == StateId.ATTRACT
    assert kiosk.view().notice == "未找到该预约，请到咨询台询问。"


def test_a_ticket_with_central_down_says_it_is_unreachable(kiosk, central):
    place(kiosk)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    touch(kiosk, Intent.PICK_ITEM, "huji.id-card-renewal")
    central.outage.down = True
    assert touch(kiosk, Intent.ACT) == StateId.GUIDE
    assert kiosk.view().notice
    assert kiosk.services.printer.receipts == []


def test_a_garbage_code_on_attract_is_refused_plainly(kiosk):
    kiosk.post(QrScanned("hello\r\nworld", "camera"))
    kiosk.pump()
    assert kiosk.state == StateId.ATTRACT
    assert kiosk.view().notice == "该二维码无法在此处使用。"


def _device(core, name, state):
    from drivers.state import DeviceState, DeviceStatus
    from kiosk.events import DeviceChanged

    core.post(DeviceChanged(name, DeviceStatus(DeviceState(state), "test")))
    core.pump()


def test_a_lost_id_reader_leaves_guides_e_id_and_tickets(kiosk):
    """GIVEN the ID reader offline and a QR scanner online WHEN a resident comes THEN they can
    still start (with an e-ID), browse guides and take tickets; nothing claims staff were told."""
    _device(kiosk, "idcard", "offline")
    _device(kiosk, "qr_scanner", "online")
    view = kiosk.view()
    start, browse = view.options
    assert start.enabled and browse.enabled
    assert "工作人员" not in view.hint and "已收到通知" not in view.hint
    assert view.hint == "请扫描电子身份证码或预约码"
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    touch(kiosk, Intent.PICK_ITEM, "huji.id-card-renewal")
    assert kiosk.view().options[0].enabled  # the ticket: identify by e-ID


def test_no_way_to_identify_greys_only_what_needs_identity(kiosk):
    _device(kiosk, "idcard", "offline")
    view = kiosk.view()
    assert not view.options[0].enabled and view.options[1].enabled
    assert "办事指南和取号仍可使用" in view.hint
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "shebao")
    touch(kiosk, Intent.PICK_ITEM, "shebao.insured-cert")
    guide_view = kiosk.view()
    assert not guide_view.options[0].enabled
    assert guide_view.hint == "本机暂时无法核验身份，请到人工窗口办理。"
    touch(kiosk, Intent.BACK)
    touch(kiosk, Intent.PICK_ITEM, "shebao.card-apply")  # a guide: still works
    assert kiosk.view().options[0].enabled


def test_a_notice_on_attract_fades_before_the_next_resident(kiosk, clock):
    place(kiosk, HK_RESIDENCE_PERMIT)  # expired
    assert kiosk.view().notice
    clock.advance(30)
    kiosk.post(Tick())
    kiosk.pump()
    assert kiosk.view().notice == ""


def _mint_eid(central, person="BJ1101000001"):
    response = central.test_http.post("/api/v1/dev/eid/mint", json={"person": person})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def test_identify_with_an_electronic_id_code(kiosk, central):
    """GIVEN a resident who shows the e-ID QR code of a government app WHEN it is scanned on the
    attract screen THEN the service vouches for them and the greeting shows the masked name."""
    kiosk.post(QrScanned(_mint_eid(central) + "\r\n", "qr_scanner"))
    kiosk.pump()
    assert kiosk.state == StateId.CATEGORIES, kiosk.view().notice
    identity = kiosk.session.identity
    assert identity.method == "eid" and identity.person_ref and identity.id_number == ""
    assert kiosk.view().subtitle.startswith("您好，李**")
    touch(kiosk, Intent.PICK_CATEGORY, "shebao")
    touch(kiosk, Intent.PICK_ITEM, "shebao.insured-cert")
    assert touch(kiosk, Intent.ACT) == StateId.RATE


def test_an_e_id_code_is_single_use(kiosk, central):
    token = _mint_eid(central)
    kiosk.post(QrScanned(token, "qr_scanner"))
    kiosk.pump()
    touch(kiosk, Intent.HOME)
    kiosk.post(QrScanned(token, "qr_scanner"))
    kiosk.pump()
    assert kiosk.state == StateId.AWAIT_IDENTITY
    assert kiosk.view().notice == "电子身份证码已过期，请在手机应用中刷新后重试。"


def test_a_forged_e_id_code_is_refused(kiosk, central):
    token = _mint_eid(central)
    head, body, signature = token.split(".")
    forged = ".".join([head, body, ("A" if signature[0] != "A" else "B") + signature[1:]])
    kiosk.post(QrScanned(forged, "qr_scanner"))
    kiosk.pump()
    assert kiosk.session.identity is None
    assert kiosk.view().notice == "电子身份证码无效，请在手机应用中刷新后重试。"


def _seeded_case(central):
    import json

    from central.seed import SEED_DIR

    cases = json.loads((SEED_DIR / "cases.json").read_text(encoding="utf-8"))
    return cases if isinstance(cases, list) else cases["cases"]


def test_look_up_a_case_by_receipt_number_on_the_pad(kiosk, central):
    """GIVEN a receipt number WHEN the resident types it on the digit pad (with one mistake
    corrected by backspace) THEN the case's status and history are shown and can be printed."""
    receipt_no = _seeded_case(central)[0]["receipt_no"]
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "zonghe")
    assert touch(kiosk, Intent.PICK_ITEM, "zonghe.case-progress") == StateId.GUIDE
    assert touch(kiosk, Intent.ACT) == StateId.LOOKUP_ENTRY
    touch(kiosk, Intent.DIGIT, "9")
    assert touch(kiosk, Intent.BACK) == StateId.LOOKUP_ENTRY  # backspace, not back
    for digit in receipt_no[:-1]:
        touch(kiosk, Intent.DIGIT, digit)
    assert touch(kiosk, Intent.SUBMIT_ENTRY) == StateId.LOOKUP_ENTRY
    assert kiosk.view().notice == "受理编号为16位数字，请核对后补全。"
    touch(kiosk, Intent.DIGIT, receipt_no[-1])
    assert kiosk.view().entry.replace(" ", "") == receipt_no
    assert touch(kiosk, Intent.SUBMIT_ENTRY) == StateId.LOOKUP_RESULT, kiosk.view().notice
    view = kiosk.view()
    assert view.sections and receipt_no in view.sections[0].lines[0]
    assert len(view.sections[0].lines) > 3  # the history
    assert touch(kiosk, Intent.PRINT) == StateId.RATE
    assert receipt_no in "".join(texts(kiosk.services.printer.receipts[0]))


UNKNOWN_RECEIPT = "123456789012345" + luhn_check_digit("123456789012345")


def test_an_unknown_receipt_number_says_so_and_keeps_the_pad(kiosk, central):
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "zonghe")
    touch(kiosk, Intent.PICK_ITEM, "zonghe.case-progress")
    touch(kiosk, Intent.ACT)
    for digit in UNKNOWN_RECEIPT:
        touch(kiosk, Intent.DIGIT, digit)
    assert touch(kiosk, Intent.SUBMIT_ENTRY) == StateId.LOOKUP_ENTRY
    assert kiosk.view().notice == "未查到该受理编号的办件，请核对编号。"


def test_a_mistyped_receipt_number_is_caught_without_asking_the_service(kiosk, central):
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "zonghe")
    touch(kiosk, Intent.PICK_ITEM, "zonghe.case-progress")
    touch(kiosk, Intent.ACT)
    typo = UNKNOWN_RECEIPT[:-1] + str((int(UNKNOWN_RECEIPT[-1]) + 1) % 10)
    for digit in typo:
        touch(kiosk, Intent.DIGIT, digit)
    asked = len(central.outage.requests)
    assert touch(kiosk, Intent.SUBMIT_ENTRY) == StateId.LOOKUP_ENTRY
    assert kiosk.view().notice == "受理编号有误，请对照回执逐位核对。"
    assert len(central.outage.requests) == asked


def test_scanning_a_case_receipt_on_attract_shows_its_progress(kiosk, central):
    receipt_no = _seeded_case(central)[0]["receipt_no"]
    kiosk.post(QrScanned(f"CASE:{receipt_no}", "camera"))
    kiosk.pump()
    assert kiosk.state == StateId.LOOKUP_RESULT, kiosk.view().notice


def test_records_lookup_by_identity_is_a_paged_table(kiosk):
    place(kiosk)
    touch(kiosk, Intent.PICK_CATEGORY, "shebao")
    touch(kiosk, Intent.PICK_ITEM, "shebao.rights-record")
    assert touch(kiosk, Intent.ACT) == StateId.LOOKUP_RESULT, kiosk.view().notice
    table = kiosk.view().table
    assert table is not None and table.columns and table.rows
    assert "第 1/" in table.caption
    page = kiosk.session.lookup_result.page
    if page.pages > 1:
        assert touch(kiosk, Intent.PAGE, "next") == StateId.LOOKUP_RESULT
        assert kiosk.session.lookup_result.page.page == 2
    assert touch(kiosk, Intent.DONE) == StateId.RATE


def test_lookups_with_central_down_say_it_is_unreachable(kiosk, central):
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "zonghe")
    touch(kiosk, Intent.PICK_ITEM, "zonghe.case-progress")
    touch(kiosk, Intent.ACT)
    for digit in UNKNOWN_RECEIPT:
        touch(kiosk, Intent.DIGIT, digit)
    central.outage.down = True
    assert touch(kiosk, Intent.SUBMIT_ENTRY) == StateId.LOOKUP_ENTRY
    assert kiosk.view().notice == "服务繁忙，请稍后再试。"
    assert not kiosk.central_up


class RecordingDocuments:
    """The A4 printer's face (`print_pdf`), recording jobs; told to fail, it fails like CUPS."""

    def __init__(self):
        self.jobs: list[tuple[bytes, str]] = []
        self.fail_with = None

    def print_pdf(self, pdf, title, on_progress=None):
        for step in ("sending", "printing"):
            if on_progress:
                on_progress(step)
        if self.fail_with is not None:
            raise self.fail_with
        self.jobs.append((pdf, title))
        if on_progress:
            on_progress("printed")


def test_an_a4_certificate_is_previewed_then_printed_and_a_retry_issues_no_second(kiosk):
    from drivers.docprinter.errors import PrinterNotReadyError
    from drivers.state import DeviceState, DeviceStatus, PaperState

    documents = kiosk.services.documents = RecordingDocuments()
    _device(kiosk, "document_printer", "online")
    place(kiosk)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    touch(kiosk, Intent.PICK_ITEM, "huji.household-cert")
    assert kiosk.view().options[0].label == "打印证明（A4）"
    assert touch(kiosk, Intent.ACT) == StateId.PREVIEW, kiosk.view().notice
    view = kiosk.view()
    first = kiosk.session.document.certificate
    assert view.qr == first.verify_url and view.options[0].label == "A4 打印"
    lines = view.sections[0].lines
    assert any(line.startswith("公民身份号码") for line in lines)
    address = next(line for line in lines if line.startswith("户籍地址"))
    assert address.endswith("****"), "the hall does not read the address over a shoulder"
    assert kiosk.session.document.pdf.startswith(b"%PDF")

    out = DeviceStatus(DeviceState.ONLINE, "media-empty", paper=PaperState.OUT)
    documents.fail_with = PrinterNotReadyError("out of paper", status=out)
    assert touch(kiosk, Intent.PRINT) == StateId.PREVIEW
    assert kiosk.view().notice == "打印机缺纸，请联系工作人员。"
    documents.fail_with = None
    assert touch(kiosk, Intent.PRINT) == StateId.RATE
    assert kiosk.session.certificate.certificate_no == first.certificate_no
    assert len(documents.jobs) == 1 and documents.jobs[0][1] == first.title


def test_a4_printing_shows_its_progress(kiosk):
    from kiosk.events import JobProgress
    from kiosk.ids import Task

    kiosk.services.documents = RecordingDocuments()
    _device(kiosk, "document_printer", "online")
    place(kiosk)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    touch(kiosk, Intent.PICK_ITEM, "huji.household-cert")
    touch(kiosk, Intent.ACT)
    kiosk.session.pending[Task.DOCUMENT] = 99  # a job under way
    kiosk.machine.send("print")
    kiosk.post(JobProgress(Task.DOCUMENT, 99, "printing"))
    kiosk.pump()
    assert kiosk.view().subtitle == "打印机正在打印…"
    kiosk.post(JobProgress(Task.DOCUMENT, 98, "sending"))  # another job's news: ignored
    kiosk.pump()
    assert kiosk.view().subtitle == "打印机正在打印…"


def test_in_english_the_guide_and_its_checklist_are_in_english(kiosk):
    import re

    # a law without an official English name keeps its Chinese title in parentheses
    title = re.compile(r"\(《[^()]*?》\)")
    cjk = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
    touch(kiosk, Intent.TOGGLE_LANGUAGE)
    touch(kiosk, Intent.BROWSE)
    touch(kiosk, Intent.PICK_CATEGORY, "huji")
    touch(kiosk, Intent.PICK_ITEM, "huji.birth-registration")
    view = kiosk.view()
    assert view.options[0].label == "Print the checklist of documents"
    assert not cjk.search(title.sub("", " ".join(line for s in view.sections for line in s.lines)))
    touch(kiosk, Intent.ACT)
    lines = texts(kiosk.services.printer.receipts[0])[1:]  # the site's name is the hall's own
    assert "[Documents to bring]" in lines
    assert not [line for line in lines if cjk.search(title.sub("", line))]

"""HTTP routes of case progress (办件进度) and record lookups (查询)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from central import cases, lookups, service
from central.api_common import SessionDep, StateDep, errors
from central.lookup_models import Case, CaseList, RecordPage
from central.models import KIOSK_ID_PATTERN

router = APIRouter(prefix="/api/v1")

# A person_ref is only good for the kiosk it was issued to, so lookups name the kiosk too.
PersonRef = Annotated[
    str, Query(min_length=1, max_length=128, description="From an identity check.")
]
KioskId = Annotated[str, Query(pattern=KIOSK_ID_PATTERN, description="The asking kiosk.")]


@router.get(
    "/cases/{receipt_no}",
    tags=["cases"],
    summary="Case progress by receipt number (办件进度查询)",
    description=(
        "For anyone holding the 16-digit receipt number (受理编号) of a case: its item, status "
        "and history. The holder's name is masked and nothing else personal is answered. A "
        "number that is not 16 digits or fails its Luhn check digit is 422 "
        "`invalid_receipt_no`; an unknown one 404 `case_not_found`."
    ),
    responses=errors(404, 422),
)
def get_case(receipt_no: str, session: SessionDep) -> Case:
    """One case by its receipt number."""
    return cases.case_by_receipt_no(session, receipt_no)


@router.get(
    "/cases",
    tags=["cases"],
    summary="The identified person's cases (我的办件)",
    description=(
        "Every case of the person a live `person_ref` of this kiosk names, most recently "
        "updated first. 404 `person_not_found` / `person_ref_expired`."
    ),
    responses=errors(404, 422),
)
def list_cases(
    session: SessionDep, state: StateDep, person_ref: PersonRef, kiosk_id: KioskId
) -> CaseList:
    """The cases of an identified person."""
    person = service.person_for_ref(session, person_ref, kiosk_id, state.settings.clock())
    return CaseList(cases=cases.cases_of(session, person))


@router.get(
    "/records/{item_code}",
    tags=["records"],
    summary="A person's records for a lookup item (个人记录查询)",
    description=(
        "One page of the identified person's records for a lookup item, newest first: "
        "`shebao.rights-record` (社保缴费记录, one row a month), `yibao.account-query` (医保个人"
        "账户), `gjj.account-query` (公积金缴存), `crj.progress` (出入境办件), "
        "`zonghe.case-progress` (all cases). Every cell is a string. 404 `item_not_found`, "
        "`records_not_available`, `person_not_found`, `person_ref_expired`; 422 "
        "`page_out_of_range` or a page or page size below 1 (page size at most 50)."
    ),
    responses=errors(404, 422),
)
def get_records(
    item_code: str,
    session: SessionDep,
    state: StateDep,
    person_ref: PersonRef,
    kiosk_id: KioskId,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=lookups.MAX_PAGE_SIZE)] = 12,
) -> RecordPage:
    """One page of records."""
    now = state.settings.clock()
    person = service.person_for_ref(session, person_ref, kiosk_id, now)
    return lookups.record_page(session, item_code, person, page, page_size, now)

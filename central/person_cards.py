"""Which card each registry person holds, and what its number is called (证件号码 labels).

The persons table keeps only a keyed hash of the number, so the card type is kept beside it, by
registry number, for the places that must name the number: certificates and the e-ID answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from central.db import Base, PersonRow
from central.idnumber import CARD_TYPES, CardType
from central.records import PersonSeed

# The statutory name of the number on each card, as printed on certificates and screens.
NUMBER_LABELS: dict[str, str] = {
    "resident": "公民身份号码",
    "hk_mo_tw_residence": "港澳台居民居住证号码",
    "foreign_permanent_2017": "外国人永久居留身份证号码",
    "foreign_permanent_2023": "外国人永久居留身份证号码",
}
NUMBER_LABELS_EN: dict[str, str] = {
    "resident": "Citizen ID number",
    "hk_mo_tw_residence": "Residence permit number (HK/Macao/Taiwan residents)",
    "foreign_permanent_2017": "Foreign permanent resident ID card number",
    "foreign_permanent_2023": "Foreign permanent resident ID card number",
}


def number_label(card_type: str) -> str:
    """The Chinese label of a card type's number; the citizen's for anything unknown."""
    return NUMBER_LABELS.get(card_type, NUMBER_LABELS["resident"])


class PersonCardRow(Base):
    """The card type of one registry person (by registry number)."""

    __tablename__ = "person_cards"

    person_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    card_type: Mapped[str] = mapped_column(String(32))


def sync_person_cards(session: Session, persons: Iterable[PersonSeed]) -> None:
    """Upsert each seed person's card type (run with the persons' own sync)."""
    for person in persons:
        row = session.get(PersonCardRow, person.person_no) or PersonCardRow(
            person_no=person.person_no
        )
        row.card_type = person.card_type
        session.add(row)


def card_type_of(session: Session, person: PersonRow) -> CardType:
    """The card type of a registry person; `resident` when none was recorded."""
    stored = session.scalars(
        select(PersonCardRow.card_type).where(PersonCardRow.person_no == person.person_no)
    ).one_or_none()
    for card_type in CARD_TYPES:
        if card_type == stored:
            return card_type
    return "resident"

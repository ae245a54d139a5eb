"""The 256-byte text block: the resident ID card (GA/T 490), and the decoder for every layout.

A resident card's block is UCS-2 little-endian, fixed fields padded with spaces:

=========  =====  ====================================================
field      bytes  content
=========  =====  ====================================================
name          30  15 characters
sex            2  GB/T 2261.1 code: 0 未知, 1 男, 2 女, 9 未说明
nation         4  GB 3304 two-digit code (01 汉 ... 56 基诺, 97, 98)
birth         16  YYYYMMDD
address       70  35 characters
id number     36  18 characters, GB 11643
issuer        30  15 characters
valid from    16  YYYYMMDD
valid to      16  YYYYMMDD, or 长期 (no expiry)
reserved      36  bytes 248-249 hold the card type flag
=========  =====  ====================================================

The flag is blank for a resident card, ``J`` for a Hong Kong/Macau/Taiwan residence permit
(`drivers.idcard.permit`), ``I`` for the 2017 foreigner's permanent residence card and ``Y`` for
its 2023 edition (`drivers.idcard.foreign`). `parse_text_block` decodes all four into typed
records (the `CardRecord` union); every record has `card_type`, `name`, `sex`, `birth_date`,
`id_number`, `valid_from`, `valid_to`, `photo_wlt`, `fingerprint`, a masked repr and
`as_dict()`.

``IdCardRecord.as_dict()`` keys (``kiosk diag idcard --json``): name, sex, nation, birth_date,
address, id_number, issuer, valid_from, valid_to (ISO date or 长期), card_type ("resident"),
photo_wlt_size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeAlias

from drivers.idcard.errors import CardDataError, InvalidFieldError
from drivers.idcard.fields import (
    FLAG_OFFSET,
    LONG_TERM,
    CardType,
    Layout,
    MaskedRecord,
    Sex,
    card_type_label,
    check_text,
    check_validity,
    detect_card_type,
    parse_valid_to,
    parse_yyyymmdd,
    valid_to_iso,
    valid_to_text,
    yyyymmdd,
)
from drivers.idcard.foreign import (
    ForeignResident2017Record,
    ForeignResident2023Record,
    build_foreign_2017_block,
    build_foreign_2023_block,
    parse_foreign_2017_block,
    parse_foreign_2023_block,
)
from drivers.idcard.numbers import check_birth_and_sex, gb11643_check_char, validate_id_number
from drivers.idcard.permit import ResidencePermitRecord, build_permit_block, parse_permit_block

__all__ = [
    "FIELDS",
    "FLAG_OFFSET",
    "LONG_TERM",
    "NATIONS",
    "NATION_CODES",
    "RESIDENT_LAYOUT",
    "CardRecord",
    "CardType",
    "IdCardRecord",
    "Sex",
    "build_text_block",
    "card_type_label",
    "detect_card_type",
    "encode_text_fields",
    "gb11643_check_char",
    "parse_text_block",
    "validate_id_number",
]

RESIDENT_LAYOUT = Layout(
    CardType.RESIDENT,
    (
        ("name", 30),
        ("sex", 2),
        ("nation", 4),
        ("birth", 16),
        ("address", 70),
        ("id_number", 36),
        ("issuer", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("reserved", 28),
        ("flag", 2),
        ("reserved_tail", 6),
    ),
)
# (name, offset, size) in card order, as before the layouts were tables; the reserved area
# runs from 220 to the end and holds the flag.
FIELDS: tuple[tuple[str, int, int], ...] = (
    *((name, *RESIDENT_LAYOUT.span(name)) for name, _ in RESIDENT_LAYOUT.fields[:9]),
    ("reserved", 220, 36),
)

# GB 3304 codes of the 56 ethnic groups, plus 97 and 98.
NATIONS: dict[str, str] = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝",
    "08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白",
    "15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤",
    "22": "畲", "23": "高山", "24": "拉祜", "25": "水", "26": "东乡", "27": "纳西", "28": "景颇",
    "29": "柯尔克孜", "30": "土", "31": "达斡尔", "32": "仫佬", "33": "羌", "34": "布朗",
    "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌", "40": "普米",
    "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂",
    "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春",
    "53": "赫哲", "54": "门巴", "55": "珞巴", "56": "基诺", "97": "其他",
    "98": "外国血统中国籍人士",
}  # fmt: skip
NATION_CODES: dict[str, str] = {name: code for code, name in NATIONS.items()}


@dataclass(frozen=True, repr=False)
class IdCardRecord(MaskedRecord):
    """One decoded resident ID card: validated on construction, masked in repr.

    `valid_to` None means 长期 (no expiry). `photo_wlt` is the card's WLT-compressed photo,
    kept as received; decoding it needs a vendor library. `fingerprint` holds the card's
    fingerprint data (two 512-byte templates) when it was read with 30 10, else empty: opaque
    bytes, never logged or shown.
    """

    name: str
    sex: Sex
    nation: str
    birth_date: date
    address: str
    id_number: str
    issuer: str
    valid_from: date
    valid_to: date | None
    card_type: CardType = CardType.RESIDENT
    photo_wlt: bytes = b""
    fingerprint: bytes = b""

    def __post_init__(self) -> None:
        self._normalise_common()
        if CardType(self.card_type) is not CardType.RESIDENT:
            raise InvalidFieldError(
                "an IdCardRecord is a resident card; other types have their own"
            )
        object.__setattr__(self, "card_type", CardType.RESIDENT)
        check_text("name", self.name, 15)
        check_text("address", self.address, 35)
        check_text("issuer", self.issuer, 15)
        if self.nation not in NATION_CODES:
            raise InvalidFieldError(f"nation {self.nation!r} is not in the GB 3304 table")
        number = validate_id_number(self.id_number)
        object.__setattr__(self, "id_number", number)
        check_birth_and_sex(number, self.birth_date, _odd_for_men(self.sex))
        check_validity(self.birth_date, self.valid_from, self.valid_to)

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values (the ``kiosk diag idcard --json`` keys), unmasked."""
        return {
            "name": self.name,
            "sex": self.sex.value,
            "nation": self.nation,
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
            "issuer": self.issuer,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": valid_to_iso(self.valid_to),
            "card_type": self.card_type.value,
            "photo_wlt_size": len(self.photo_wlt),
        }


def _odd_for_men(sex: Sex) -> bool | None:
    return {Sex.MALE: True, Sex.FEMALE: False}.get(sex)


CardRecord: TypeAlias = (
    IdCardRecord | ResidencePermitRecord | ForeignResident2017Record | ForeignResident2023Record
)


def parse_text_block(text: bytes, photo_wlt: bytes = b"", fingerprint: bytes = b"") -> CardRecord:
    """Decode and validate a text block of any card type (with its photo and fingerprints).

    The flag in bytes 248-249 picks the layout. Raises `InvalidFieldError` /
    `InvalidIdNumberError` (both `CardDataError`, a `ValueError`) for contents that fail
    validation; nothing else, whatever the bytes.
    """
    card_type = detect_card_type(bytes(text))
    if card_type is CardType.HK_MO_TW_RESIDENCE:
        return parse_permit_block(text, photo_wlt, fingerprint)
    if card_type is CardType.FOREIGN_PERMANENT_2017:
        return parse_foreign_2017_block(text, photo_wlt, fingerprint)
    if card_type is CardType.FOREIGN_PERMANENT_2023:
        return parse_foreign_2023_block(text, photo_wlt, fingerprint)
    return _parse_resident(bytes(text), photo_wlt, fingerprint)


def _parse_resident(text: bytes, photo_wlt: bytes, fingerprint: bytes) -> IdCardRecord:
    fields = RESIDENT_LAYOUT.decode(text)
    nation_code = fields["nation"]
    if nation_code not in NATIONS:
        raise InvalidFieldError(f"nation code {nation_code!r} is not in the GB 3304 table")
    try:
        return IdCardRecord(
            name=fields["name"],
            sex=Sex.from_code(fields["sex"]),
            nation=NATIONS[nation_code],
            birth_date=parse_yyyymmdd(fields["birth"], "birth"),
            address=fields["address"],
            id_number=fields["id_number"],
            issuer=fields["issuer"],
            valid_from=parse_yyyymmdd(fields["valid_from"], "valid_from"),
            valid_to=parse_valid_to(fields["valid_to"]),
            photo_wlt=photo_wlt,
            fingerprint=fingerprint,
        )
    except CardDataError:
        raise
    except (TypeError, ValueError) as exc:  # only CardDataError may leave a decoder
        raise InvalidFieldError(f"resident card: {type(exc).__name__}") from None


def encode_text_fields(
    *,
    name: str,
    sex_code: str,
    nation_code: str,
    birth: str,
    address: str,
    id_number: str,
    issuer: str,
    valid_from: str,
    valid_to: str,
    reserved: str = "",
    flag: str = " ",
) -> bytes:
    """Lay out raw resident field strings into a 256-byte block, without validating them.

    The low-level inverse of decoding, for tests that need invalid blocks. `reserved` fills the
    reserved area before the flag (14 characters); `flag` is one character.
    """
    if len(flag) != 1:
        raise ValueError("the card type flag is one character")
    block = bytearray(
        RESIDENT_LAYOUT.encode(
            {
                "name": name,
                "sex": sex_code,
                "nation": nation_code,
                "birth": birth,
                "address": address,
                "id_number": id_number,
                "issuer": issuer,
                "valid_from": valid_from,
                "valid_to": valid_to,
                "reserved": reserved,
            }
        )
    )
    block[FLAG_OFFSET : FLAG_OFFSET + 2] = flag.encode("utf-16-le")
    return bytes(block)


def build_text_block(record: CardRecord) -> bytes:
    """Encode a record as its 256-byte text block: the exact inverse of `parse_text_block`."""
    if isinstance(record, ResidencePermitRecord):
        return build_permit_block(record)
    if isinstance(record, ForeignResident2017Record):
        return build_foreign_2017_block(record)
    if isinstance(record, ForeignResident2023Record):
        return build_foreign_2023_block(record)
    return encode_text_fields(
        name=record.name,
        sex_code=record.sex.code,
        nation_code=NATION_CODES[record.nation],
        birth=yyyymmdd(record.birth_date),
        address=record.address,
        id_number=record.id_number,
        issuer=record.issuer,
        valid_from=yyyymmdd(record.valid_from),
        valid_to=valid_to_text(record.valid_to),
    )

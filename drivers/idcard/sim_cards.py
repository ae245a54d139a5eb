"""Demo cards for the simulator, tests and benchmarks. Invented people, valid check digits.

This is the one place where full test ID numbers are written out; tests and docs take them
from here rather than repeating them.
"""

from __future__ import annotations

import hashlib
from datetime import date

from drivers.idcard.codec import FINGERPRINT_SIZE, PHOTO_SIZE, CardPayload
from drivers.idcard.foreign import ForeignResident2017Record, ForeignResident2023Record
from drivers.idcard.permit import ResidencePermitRecord
from drivers.idcard.textblock import CardRecord, IdCardRecord, Sex


def _demo_bytes(seed: str, size: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def demo_photo(seed: str) -> bytes:
    """1024 deterministic bytes standing in for a WLT photo (not a decodable image)."""
    return _demo_bytes(seed, PHOTO_SIZE)


def demo_fingerprint(seed: str) -> bytes:
    """1024 deterministic bytes standing in for two fingerprint templates (opaque)."""
    return _demo_bytes("fingerprint:" + seed, FINGERPRINT_SIZE)


LI_XIUYING = IdCardRecord(
    name="李秀英",
    sex=Sex.FEMALE,
    nation="汉",
    birth_date=date(1956, 3, 12),
    address="北京市东城区景山前街4号",
    id_number="110101195603121240",
    issuer="北京市公安局东城分局",
    valid_from=date(2016, 5, 10),
    valid_to=None,
    photo_wlt=demo_photo("li_xiuying"),
)

WANG_JIANGUO = IdCardRecord(
    name="王建国",
    sex=Sex.MALE,
    nation="汉",
    birth_date=date(1985, 7, 21),
    address="北京市西城区西长安街1号",
    id_number="11010519850721135X",
    issuer="北京市公安局西城分局",
    valid_from=date(2015, 8, 1),
    valid_to=date(2035, 8, 1),
    photo_wlt=demo_photo("wang_jianguo"),
)

# 䶮 (U+4DAE, CJK Extension A) is missing from many fonts: a good test of rare characters.
GONG_YAN = IdCardRecord(
    name="龚䶮",
    sex=Sex.MALE,
    nation="回",
    birth_date=date(1980, 5, 9),
    address="宁夏回族自治区银川市兴庆区解放东街1号",
    id_number="640104198005090014",
    issuer="银川市公安局兴庆区分局",
    valid_from=date(2010, 6, 1),
    valid_to=date(2030, 6, 1),
    photo_wlt=demo_photo("gong_yan"),
)

# A woman whose card carries fingerprints (read with 30 10).
ZHAO_MIN = IdCardRecord(
    name="赵敏",
    sex=Sex.FEMALE,
    nation="汉",
    birth_date=date(1990, 2, 14),
    address="上海市黄浦区人民大道200号",
    id_number="31010119900214002X",
    issuer="上海市公安局黄浦分局",
    valid_from=date(2020, 3, 1),
    valid_to=date(2040, 3, 1),
    photo_wlt=demo_photo("zhao_min"),
    fingerprint=demo_fingerprint("zhao_min"),
)

# A Hong Kong resident's residence permit (flag J): pass number and issue count in what is
# the resident card's reserved area, no nation.
HK_RESIDENCE_PERMIT = ResidencePermitRecord(
    name="陈大文",
    sex=Sex.MALE,
    birth_date=date(1999, 1, 1),
    address="广东省深圳市福田区福华一路1号",
    id_number="810000199901011236",
    issuer="深圳市公安局",
    valid_from=date(2019, 9, 1),
    valid_to=date(2024, 9, 1),
    pass_number="H12345678",
    issue_count=1,
    photo_wlt=demo_photo("hk_permit"),
)

# One foreign resident with both editions of the permanent residence card: the 2023 card's
# link field points back to the 2017 number. The English name is longer than the 2023 card's
# first English name field (35 characters), so it runs on into the second.
FOREIGN_2017 = ForeignResident2017Record(
    english_name="MUELLER-LUDENSCHEIDT, ANNA MARIA THERESIA",
    chinese_name="穆安娜",
    sex=Sex.FEMALE,
    id_number="DEU310185041226",
    nationality="DEU",
    birth_date=date(1985, 4, 12),
    valid_from=date(2018, 6, 1),
    valid_to=date(2028, 6, 1),
    card_version="01",
    authority_code="3100",
    photo_wlt=demo_photo("foreign_2017"),
)

FOREIGN_2023 = ForeignResident2023Record(
    chinese_name="穆安娜",
    english_name="MUELLER-LUDENSCHEIDT, ANNA MARIA THERESIA",
    sex=Sex.FEMALE,
    id_number="931276198504120043",
    nationality="DEU",
    birth_date=date(1985, 4, 12),
    valid_from=date(2024, 1, 15),
    valid_to=date(2034, 1, 15),
    renewal_count=1,
    previous_number_link="012",
    photo_wlt=demo_photo("foreign_2023"),
)

# The card the demo kiosk places when a screen asks for one (a person in central's seed data).
DEMO_CARD = LI_XIUYING

CARDS: dict[str, CardRecord | CardPayload] = {
    "li_xiuying": LI_XIUYING,
    "wang_jianguo": WANG_JIANGUO,
    "gong_yan": GONG_YAN,
    "zhao_min": ZHAO_MIN,
    "hk_permit": HK_RESIDENCE_PERMIT,
    "foreign_2017": FOREIGN_2017,
    "foreign_2023": FOREIGN_2023,
}

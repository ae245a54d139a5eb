"""Demo cards for the simulator, tests and benchmarks. Invented people, valid check digits.

This is the one place where full test ID numbers are written out; tests and docs take them
from here rather than repeating them.
"""

from __future__ import annotations

import hashlib
from datetime import date

from drivers.idcard.codec import PHOTO_SIZE, CardPayload
from drivers.idcard.textblock import IdCardRecord, Sex, encode_text_fields


def demo_photo(seed: str) -> bytes:
    """1024 deterministic bytes standing in for a WLT photo (not a decodable image)."""
    out = bytearray()
    counter = 0
    while len(out) < PHOTO_SIZE:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:PHOTO_SIZE])


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

# A Hong Kong resident's residence permit (flag J): the pass number and issue count sit in
# the reserved area, the nation field is empty. Decoding this layout is a later issue.
HK_RESIDENCE_PERMIT = CardPayload(
    text=encode_text_fields(
        name="陈大文",
        sex_code="1",
        nation_code="",
        birth="19990101",
        address="广东省深圳市福田区福华一路1号",
        id_number="810000199901011236",
        issuer="深圳市公安局",
        valid_from="20190901",
        valid_to="20240901",
        reserved="H12345678" + "01",
        flag="J",
    ),
    photo=demo_photo("hk_permit"),
)

# The card the demo kiosk places when a screen asks for one (a person in central's seed data).
DEMO_CARD = LI_XIUYING

CARDS: dict[str, IdCardRecord | CardPayload] = {
    "li_xiuying": LI_XIUYING,
    "wang_jianguo": WANG_JIANGUO,
    "gong_yan": GONG_YAN,
    "hk_permit": HK_RESIDENCE_PERMIT,
}

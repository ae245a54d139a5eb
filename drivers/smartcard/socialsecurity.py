"""Social security cards (中华人民共和国社会保障卡): the SSSE basic-information files.

What the kiosk reads, after public descriptions of the 人社部 card structure and public reader
code (drivers/smartcard/README.md lists the sources and what could not be verified):

- SELECT the SSSE DDF by name: ASCII ``sx1.sh.`` followed by GBK ``社会保障``
  (``7378312E73682E C9E7BBE1B1A3D5CF``).
- EF05 (SFI 05), 发卡机构数据, readable without authentication. READ RECORD n with P2 = 2C;
  each record is ``tag(=n) length value``: 1 卡的识别码 (16 bytes: issuing region as 3 BCD
  bytes, then the RID D156000005 and a serial), 2 卡的类别, 3 规范版本 ("2.00", "3.00"),
  4 初始化机构编号 (12 bytes), 5 发卡日期 and 6 卡有效期 (BCD YYYYMMDD), 7 卡号 (9 characters).
- EF06 (SFI 06), 持卡人基本信息, P2 = 34, for 2.x and 3.x cards: 1 社会保障号码 (18 ASCII),
  2 姓名 (30 bytes GBK, zero padded), 3 姓名扩展, 4 性别 (GB/T 2261.1 code), 5 民族 (GB 3304,
  one BCD byte), 6 出生地, 7 出生日期 (BCD).

Real cards protect EF06 (and in some provinces more) behind external authentication computed by
a PSAM, the secure module in the terminal that holds the issuer's keys. `Psam` is that seam:
GET CHALLENGE from the card, the PSAM turns it into a cryptogram, EXTERNAL AUTHENTICATE. A real
PSAM (a second card in the reader's SAM slot, or the 人社 key service) plugs in by implementing
`Psam.external_auth_cryptogram`; `SoftPsam` computes the same thing in software for development
and tests, with a key diversified per card by SM4 as the national card schemes do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from drivers.idcard import NATIONS  # GB 3304 codes, shared with the ID card driver
from drivers.smartcard.channel import (
    ApduTransport,
    external_authenticate,
    get_challenge,
    read_record,
    select_by_name,
)
from drivers.smartcard.errors import (
    CardDataError,
    CardFileNotFoundError,
    CardProtocolError,
    RecordNotFoundError,
    UnsupportedCardError,
)
from drivers.smartcard.tlv import parse_tlvs
from rules.masking import mask_document_number, mask_id_number, mask_name

SSSE_DF_NAME = b"sx1.sh." + "社会保障".encode("gbk")
EF05_SFI = 0x05  # 发卡机构数据 (issuer data, public)
EF06_SFI = 0x06  # 持卡人基本信息 (holder data, behind external authentication)
EF05_FID = 0xEF05
EF06_FID = 0xEF06
EXTERNAL_AUTH_KEY_ID = 0x0A  # an assumption: the key number differs between issuers
CHALLENGE_LENGTH = 8


class Ef05:
    """Record numbers of EF05, 发卡机构数据."""

    CARD_ID = 1  # 卡的识别码
    CARD_TYPE = 2  # 卡的类别
    SPEC_VERSION = 3  # 规范版本
    INIT_ORG = 4  # 初始化机构编号
    ISSUE_DATE = 5  # 发卡日期
    EXPIRY_DATE = 6  # 卡有效期
    CARD_NUMBER = 7  # 卡号


class Ef06:
    """Record numbers of EF06, 持卡人基本信息, for 2.x and 3.x cards."""

    SSN = 1  # 社会保障号码
    NAME = 2  # 姓名
    NAME_EXTENSION = 3  # 姓名扩展
    SEX = 4  # 性别
    NATION = 5  # 民族
    BIRTHPLACE = 6  # 出生地
    BIRTH_DATE = 7  # 出生日期


# Fixed value sizes, used to build records (simulator) and to check what a card returns.
EF05_SIZES = {1: 16, 2: 1, 3: 4, 4: 12, 5: 4, 6: 4, 7: 9}
EF06_SIZES = {1: 18, 2: 30, 3: 20, 4: 1, 5: 1, 6: 3, 7: 4}

SEXES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}  # GB/T 2261.1


@dataclass(frozen=True, repr=False)
class SocialSecurityCardInfo:
    """EF05, the issuer data every terminal may read."""

    card_id: bytes  # 卡的识别码
    card_type: str  # 卡的类别, as the card stores it
    spec_version: str  # 规范版本, e.g. "3.00"
    init_org: bytes  # 初始化机构编号
    issue_date: date | None  # 发卡日期
    expiry_date: date | None  # 卡有效期
    card_number: str  # 卡号

    @property
    def region_code(self) -> str:
        """The issuing region's administrative code (GB/T 2260), from the card id."""
        return self.card_id[:3].hex().upper()

    @property
    def generation(self) -> int | None:
        """1, 2 or 3 (第三代社保卡) from the spec version; None if it says something else."""
        head = self.spec_version[:1]
        return int(head) if head in ("1", "2", "3") else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready and unmasked; callers mask with `masked_dict` before showing."""
        return {
            "card_id": self.card_id.hex().upper(),
            "region_code": self.region_code,
            "card_type": self.card_type,
            "spec_version": self.spec_version,
            "init_org": self.init_org.hex().upper(),
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
            "card_number": self.card_number,
        }

    def __repr__(self) -> str:
        return (
            f"SocialSecurityCardInfo(region={self.region_code}, spec={self.spec_version!r},"
            f" card_number={mask_document_number(self.card_number)!r})"
        )


@dataclass(frozen=True, repr=False)
class SocialSecurityHolder:
    """EF06, the cardholder's basic information (personal data)."""

    social_security_number: str  # 社会保障号码, the citizen ID number for residents
    name: str
    sex: str  # GB/T 2261.1 code
    nation: str  # GB 3304 code, "01" .. "56"
    birth_date: date | None

    @property
    def sex_label(self) -> str:
        """男 / 女 / 未知 / 未说明, or the raw code if unknown."""
        return SEXES.get(self.sex, self.sex)

    @property
    def nation_label(self) -> str:
        """汉, 蒙古, ... or the raw code if not in GB 3304."""
        return NATIONS.get(self.nation, self.nation)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready and unmasked."""
        return {
            "social_security_number": self.social_security_number,
            "name": self.name,
            "sex": self.sex_label,
            "nation": self.nation_label,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
        }

    def __repr__(self) -> str:
        return (
            f"SocialSecurityHolder(name={mask_name(self.name)!r},"
            f" social_security_number={mask_id_number(self.social_security_number)!r})"
        )


@dataclass(frozen=True, repr=False)
class SocialSecurityCard:
    """What the kiosk read from a social security card; `holder` needs PSAM authentication."""

    info: SocialSecurityCardInfo
    holder: SocialSecurityHolder | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready and unmasked: ``{"info": {...}, "holder": {...} | None}``."""
        return {
            "info": self.info.as_dict(),
            "holder": self.holder.as_dict() if self.holder else None,
        }

    def __repr__(self) -> str:
        return f"SocialSecurityCard({self.info!r}, holder={self.holder!r})"


# -- PSAM seam ---------------------------------------------------------------------------------


class Psam(Protocol):
    """The terminal's secure module: turns a card challenge into an authentication cryptogram."""

    key_id: int

    def external_auth_cryptogram(self, card_id: bytes, challenge: bytes) -> bytes:
        """The EXTERNAL AUTHENTICATE data for this card (identified by 卡识别码) and challenge."""
        ...


def _sm4_ecb(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def diversify_key(master_key: bytes, card_id: bytes) -> bytes:
    """The card's own key: SM4 of its 16-byte identifier under the issuer's master key."""
    if len(master_key) != 16 or len(card_id) != 16:
        raise ValueError("SM4 needs a 16-byte master key and a 16-byte card id")
    return _sm4_ecb(master_key, card_id)


def auth_cryptogram(card_key: bytes, challenge: bytes) -> bytes:
    """SM4 of the challenge, zero-padded to one block: the EXTERNAL AUTHENTICATE data."""
    if not 1 <= len(challenge) <= 16:
        raise ValueError("a challenge is 1 to 16 bytes")
    return _sm4_ecb(card_key, challenge.ljust(16, b"\x00"))


class SoftPsam:
    """A software PSAM for development and tests: holds the master key in memory.

    A production kiosk never has the issuer's key in software; it uses a real PSAM behind the
    same `Psam` protocol.
    """

    def __init__(self, master_key: bytes, key_id: int = EXTERNAL_AUTH_KEY_ID) -> None:
        if len(master_key) != 16:
            raise ValueError("the master key is 16 bytes (SM4)")
        self._master_key = bytes(master_key)
        self.key_id = key_id

    def external_auth_cryptogram(self, card_id: bytes, challenge: bytes) -> bytes:
        """SM4(diversified key, challenge || zero padding)."""
        return auth_cryptogram(diversify_key(self._master_key, card_id), challenge)

    def __repr__(self) -> str:
        return f"SoftPsam(key_id={self.key_id:#04x})"  # never the key


# -- field codecs ------------------------------------------------------------------------------


def decode_bcd_date(value: bytes, field: str) -> date | None:
    """YYYYMMDD in four BCD bytes; None for an unset (all 00 or all FF) field."""
    if not value or set(value) <= {0x00} or set(value) <= {0xFF}:
        return None
    digits = value.hex()
    if len(digits) != 8 or not digits.isdigit():
        raise CardDataError(f"{field}: not a BCD date")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise CardDataError(f"{field}: impossible date") from None


def encode_bcd_date(value: date | None) -> bytes:
    """Four BCD bytes for a date; zeros for None."""
    return bytes.fromhex(value.strftime("%Y%m%d")) if value else bytes(4)


def decode_text(value: bytes, field: str) -> str:
    """GB 18030 (a superset of GBK) text, padding (00, FF, spaces) removed."""
    trimmed = value.rstrip(b"\x00\xff ").lstrip(b"\x00")
    try:
        return trimmed.decode("gb18030")
    except UnicodeDecodeError:
        raise CardDataError(f"{field}: not GBK/GB 18030 text") from None


def encode_text(value: str, size: int, field: str) -> bytes:
    """GB 18030 text zero-padded to `size` bytes (for the virtual card)."""
    raw = value.encode("gb18030")
    if len(raw) > size:
        raise ValueError(f"{field} takes at most {size} bytes")
    return raw.ljust(size, b"\x00")


def record_value(data: bytes, record: int, field: str) -> bytes:
    """The value of a ``tag(=record) length value`` record; `CardDataError` if it is not one."""
    try:
        items = parse_tlvs(data)
    except CardProtocolError as exc:
        raise CardDataError(f"{field}: {exc}") from None
    if not items or items[0].tag != record:
        raise CardDataError(f"{field}: record {record} does not carry tag {record:02X}")
    return items[0].value


# -- reading ------------------------------------------------------------------------------------


def select_ssse(transport: ApduTransport) -> None:
    """SELECT the SSSE DDF; `UnsupportedCardError` if the card has none."""
    try:
        select_by_name(transport, SSSE_DF_NAME)
    except CardFileNotFoundError:
        raise UnsupportedCardError("not a social security card (no SSSE application)") from None


def _read(transport: ApduTransport, sfi: int, record: int, field: str) -> bytes:
    return record_value(read_record(transport, record, sfi=sfi), record, field)


def read_card_info(transport: ApduTransport) -> SocialSecurityCardInfo:
    """Read and decode EF05 (the SSSE DDF must be selected)."""

    def text(record: int, field: str) -> str:
        return decode_text(_read(transport, EF05_SFI, record, field), field)

    card_id = _read(transport, EF05_SFI, Ef05.CARD_ID, "card id")
    if len(card_id) != EF05_SIZES[Ef05.CARD_ID]:
        raise CardDataError(f"card id: {len(card_id)} bytes, expected 16")
    return SocialSecurityCardInfo(
        card_id=card_id,
        card_type=text(Ef05.CARD_TYPE, "card type"),
        spec_version=text(Ef05.SPEC_VERSION, "spec version"),
        init_org=_read(transport, EF05_SFI, Ef05.INIT_ORG, "init org"),
        issue_date=decode_bcd_date(
            _read(transport, EF05_SFI, Ef05.ISSUE_DATE, "issue date"), "issue date"
        ),
        expiry_date=decode_bcd_date(
            _read(transport, EF05_SFI, Ef05.EXPIRY_DATE, "expiry date"), "expiry date"
        ),
        card_number=text(Ef05.CARD_NUMBER, "card number"),
    )


def authenticate(transport: ApduTransport, psam: Psam, card_id: bytes) -> None:
    """GET CHALLENGE, have the PSAM answer it, EXTERNAL AUTHENTICATE; raises if refused."""
    challenge = get_challenge(transport, CHALLENGE_LENGTH)
    cryptogram = psam.external_auth_cryptogram(card_id, challenge)
    external_authenticate(transport, psam.key_id, cryptogram)


def read_holder(transport: ApduTransport, spec_version: str) -> SocialSecurityHolder:
    """Read and decode EF06 (after `authenticate`); 2.x and 3.x layouts only."""
    if spec_version[:1] not in ("2", "3"):
        raise UnsupportedCardError(f"holder data of spec version {spec_version!r} not supported")

    def raw(record: int, field: str) -> bytes:
        return _read(transport, EF06_SFI, record, field)

    ssn = decode_text(raw(Ef06.SSN, "social security number"), "social security number")
    name = decode_text(raw(Ef06.NAME, "name"), "name")
    try:
        extension = decode_text(raw(Ef06.NAME_EXTENSION, "name extension"), "name extension")
    except RecordNotFoundError:
        extension = ""  # cards issued without one
    nation = raw(Ef06.NATION, "nation")
    return SocialSecurityHolder(
        social_security_number=ssn,
        name=name + extension,
        sex=decode_text(raw(Ef06.SEX, "sex"), "sex"),
        nation=nation.hex() if len(nation) == 1 else decode_text(nation, "nation"),
        birth_date=decode_bcd_date(raw(Ef06.BIRTH_DATE, "birth date"), "birth date"),
    )


def read_social_security_card(
    transport: ApduTransport, *, psam: Psam | None = None
) -> SocialSecurityCard:
    """Read a social security card: EF05 always, EF06 too when a `psam` is given.

    Raises `UnsupportedCardError` for other cards, `SecurityStatusError` /
    `AuthenticationFailedError` when the card refuses the PSAM, `CardDataError` for contents
    that cannot be decoded, and the transport's errors (`CardRemovedError`, ...).
    """
    select_ssse(transport)
    info = read_card_info(transport)
    holder = None
    if psam is not None:
        authenticate(transport, psam, info.card_id)
        holder = read_holder(transport, info.spec_version)
    return SocialSecurityCard(info, holder)

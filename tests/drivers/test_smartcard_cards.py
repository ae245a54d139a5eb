"""The card applications against virtual cards in-process: social security files and PSAM
authentication, technician challenge-response and its registry. No pcscd here; the same code
runs through the real PC/SC stack in test_smartcard_pcsc.py."""

from __future__ import annotations

import contextlib
import json
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given
from hypothesis import strategies as st

from drivers.smartcard.channel import DirectChannel, read_record, select_by_name
from drivers.smartcard.errors import (
    AuthenticationBlockedError,
    AuthenticationFailedError,
    CardDataError,
    CardProtocolError,
    NotTechnicianCardError,
    SecurityStatusError,
    TechnicianExpiredError,
    TechnicianRegistryError,
    TechnicianRevokedError,
    TechnicianSignatureError,
    UnknownTechnicianError,
    UnsupportedCardError,
)
from drivers.smartcard.sim_cards import (
    BlankCard,
    ReplayingTechnicianCard,
    SocialSecurityCardSim,
    TechnicianCardSim,
    make_atr,
)
from drivers.smartcard.socialsecurity import (
    EF06_SFI,
    SSSE_DF_NAME,
    SoftPsam,
    decode_bcd_date,
    decode_text,
    read_social_security_card,
    record_value,
)
from drivers.smartcard.technician import (
    TechnicianRegistry,
    encode_public_key,
    internal_authenticate_command,
    parse_auth_response,
    read_technician_id,
    verify_technician,
)

MASTER_KEY = bytes(range(16))
TODAY = date(2026, 1, 15)


def channel(card: object) -> DirectChannel:
    return DirectChannel(card.process)  # type: ignore[attr-defined]


# -- social security ---------------------------------------------------------------------------


def test_ssse_name_is_sx1_sh_and_gbk_shehuibaozhang() -> None:
    assert SSSE_DF_NAME.hex().upper() == "7378312E73682EC9E7BBE1B1A3D5CF"


def test_public_data_is_read_without_authentication() -> None:
    card = read_social_security_card(channel(SocialSecurityCardSim()))
    info = card.info
    assert card.holder is None
    assert info.card_id.hex().upper() == "330300D15600000599110145FFFFFFFF"
    assert info.region_code == "330300" and info.generation == 3
    assert (info.card_type, info.spec_version, info.card_number) == ("3", "3.00", "A12345678")
    assert (info.issue_date, info.expiry_date) == (date(2021, 7, 1), date(2031, 7, 1))


def test_personal_data_after_psam_authentication() -> None:
    sim = SocialSecurityCardSim(name="欧阳䶮", sex="1", nation="03", birth_date=date(1956, 3, 12))
    card = read_social_security_card(channel(sim), psam=SoftPsam(MASTER_KEY))
    assert card.holder is not None
    assert card.holder.as_dict() == {
        "social_security_number": "330302199001011234",
        "name": "欧阳䶮",  # a GB 18030 four-byte character survives
        "sex": "男",
        "nation": "回",
        "birth_date": "1956-03-12",
    }


def test_repr_masks_personal_data() -> None:
    card = read_social_security_card(channel(SocialSecurityCardSim()), psam=SoftPsam(MASTER_KEY))
    text = repr(card)
    for secret in ("李秀英", "330302199001011234", "A12345678", "1990"):
        assert secret not in text
    assert "李**" in text and "3303**********1234" in text
    assert repr(SoftPsam(MASTER_KEY)) == "SoftPsam(key_id=0x0a)"


def test_personal_file_is_refused_without_authentication() -> None:
    ch = channel(SocialSecurityCardSim())
    select_by_name(ch, SSSE_DF_NAME)
    with pytest.raises(SecurityStatusError):
        read_record(ch, 1, sfi=EF06_SFI)


def test_wrong_psam_key_fails_then_blocks() -> None:
    sim = SocialSecurityCardSim()
    wrong = SoftPsam(bytes(16))
    with pytest.raises(AuthenticationFailedError) as first:
        read_social_security_card(channel(sim), psam=wrong)
    assert first.value.tries_left == 2
    with pytest.raises(AuthenticationFailedError):
        read_social_security_card(channel(sim), psam=wrong)
    with pytest.raises(AuthenticationBlockedError):
        read_social_security_card(channel(sim), psam=wrong)
    with pytest.raises(AuthenticationBlockedError):  # even the right key, once blocked
        read_social_security_card(channel(sim), psam=SoftPsam(MASTER_KEY))


def test_other_cards_are_not_social_security_cards() -> None:
    with pytest.raises(UnsupportedCardError):
        read_social_security_card(channel(BlankCard()))


def test_undecodable_records_raise_card_data_errors() -> None:
    sim = SocialSecurityCardSim()
    sim.ef05[5] = bytes.fromhex("2021139A")  # month 13, and not even BCD
    with pytest.raises(CardDataError):
        read_social_security_card(channel(sim))
    sim = SocialSecurityCardSim()
    sim.ef05[7] = b"\x81\x30\x81AAAAA"  # a GB 18030 four-byte sequence broken off
    with pytest.raises(CardDataError):
        read_social_security_card(channel(sim))


def test_t0_style_select_and_exact_le_are_followed() -> None:
    sim = SocialSecurityCardSim()
    read_social_security_card(channel(sim))
    instructions = [(c.ins, c.p1) for c in sim.commands][:3]
    assert instructions == [(0xA4, 0x04), (0xC0, 0x00), (0xB2, 0x01)]  # 61xx -> GET RESPONSE
    ch = channel(sim)
    select_by_name(ch, SSSE_DF_NAME)
    assert len(read_record(ch, 1, sfi=5, le=4)) == 18  # 6C12, sent again with Le=18


@given(st.binary(max_size=40))
def test_field_decoders_raise_only_card_data_errors(raw: bytes) -> None:
    for decode in (
        lambda: decode_bcd_date(raw, "date"),
        lambda: decode_text(raw, "text"),
        lambda: record_value(raw, 1, "record"),
    ):
        with contextlib.suppress(CardDataError):
            decode()


@given(st.binary(max_size=300))
def test_virtual_cards_answer_anything_with_a_status_word(raw: bytes) -> None:
    for card in (
        SocialSecurityCardSim(),
        TechnicianCardSim(ed25519.Ed25519PrivateKey.generate(), "T1"),
    ):
        answer = card.process(raw)
        assert len(answer) >= 2


@given(st.binary(max_size=120))
def test_technician_answer_parser_raises_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(CardProtocolError):
        parse_auth_response(raw)


# -- technician cards --------------------------------------------------------------------------


def registry_for(*entries: tuple[str, object, str, bool]) -> TechnicianRegistry:
    return TechnicianRegistry.from_dict(
        {
            "technicians": [
                {
                    "id": tech_id,
                    "name": "王工",
                    "public_key": encode_public_key(key.public_key()),  # type: ignore[attr-defined]
                    "valid_until": valid_until,
                    "revoked": revoked,
                }
                for tech_id, key, valid_until, revoked in entries
            ]
        }
    )


@pytest.fixture
def key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.mark.parametrize("algorithm", ["ed25519", "p256"])
def test_technician_challenge_response_succeeds(algorithm: str) -> None:
    private = (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == "ed25519"
        else ec.generate_private_key(ec.SECP256R1())
    )
    registry = registry_for(("T0001", private, "2026-12-31", False))
    who = verify_technician(
        channel(TechnicianCardSim(private, "T0001")), registry, "K-0042", today=TODAY
    )
    assert (who.tech_id, who.name, who.kiosk_id) == ("T0001", "王工", "K-0042")


def test_every_challenge_is_fresh(key: ed25519.Ed25519PrivateKey) -> None:
    card = TechnicianCardSim(key, "T0001")
    registry = registry_for(("T0001", key, "2026-12-31", False))
    for _ in range(2):
        verify_technician(channel(card), registry, "K-0042", today=TODAY)
    challenges = [c.data[:32] for c in card.commands if c.ins == 0x88]
    assert len(challenges) == 2 and challenges[0] != challenges[1]


def test_replayed_answer_is_rejected(key: ed25519.Ed25519PrivateKey) -> None:
    genuine = TechnicianCardSim(key, "T0001")
    ch = channel(genuine)
    select_by_name(ch, b"\xf0KIOSKMNT")
    recorded = ch.transmit(internal_authenticate_command(bytes(32), b"K-0042")).check()
    registry = registry_for(("T0001", key, "2026-12-31", False))
    with pytest.raises(TechnicianSignatureError):
        verify_technician(
            channel(ReplayingTechnicianCard(recorded)), registry, "K-0042", today=TODAY
        )


def test_answer_for_another_kiosk_is_rejected(key: ed25519.Ed25519PrivateKey) -> None:
    class OtherKioskCard(TechnicianCardSim):
        """A relay that swaps in another kiosk's id before the card signs."""

        def handle(self, command):  # type: ignore[no-untyped-def]
            if command.ins == 0x88:
                command = internal_authenticate_command(command.data[:32], b"K-9999")
            return super().handle(command)

    registry = registry_for(("T0001", key, "2026-12-31", False))
    with pytest.raises(TechnicianSignatureError):
        verify_technician(channel(OtherKioskCard(key, "T0001")), registry, "K-0042", today=TODAY)


def test_wrong_key_unknown_revoked_and_expired(key: ed25519.Ed25519PrivateKey) -> None:
    impostor = ed25519.Ed25519PrivateKey.generate()
    registry = registry_for(
        ("T0001", key, "2026-12-31", False),
        ("T0002", key, "2026-12-31", True),
        ("T0003", key, "2025-12-31", False),
    )
    cases = [
        (TechnicianCardSim(impostor, "T0001"), TechnicianSignatureError),
        (TechnicianCardSim(key, "T9999"), UnknownTechnicianError),
        (TechnicianCardSim(key, "T0002"), TechnicianRevokedError),
        (TechnicianCardSim(key, "T0003"), TechnicianExpiredError),
        (SocialSecurityCardSim(), NotTechnicianCardError),
    ]
    for card, error in cases:
        with pytest.raises(error):
            verify_technician(channel(card), registry, "K-0042", today=TODAY)
    # the last valid day still works
    verify_technician(
        channel(TechnicianCardSim(key, "T0001")), registry, "K-0042", today=date(2026, 12, 31)
    )


def test_revoked_impostor_fails_on_the_signature_first(key: ed25519.Ed25519PrivateKey) -> None:
    registry = registry_for(("T0002", key, "2026-12-31", True))
    impostor = TechnicianCardSim(ed25519.Ed25519PrivateKey.generate(), "T0002")
    with pytest.raises(TechnicianSignatureError):
        verify_technician(channel(impostor), registry, "K-0042", today=TODAY)


@pytest.mark.parametrize(
    "answer",
    ["", "8000", "8001FF9E0100", "80025430", "9E0100", "8005543030", "80"],
)
def test_malformed_technician_answers_are_protocol_errors(answer: str) -> None:
    with pytest.raises(CardProtocolError):
        parse_auth_response(bytes.fromhex(answer))


def test_read_technician_id_without_registry(key: ed25519.Ed25519PrivateKey) -> None:
    assert read_technician_id(channel(TechnicianCardSim(key, "T0007"))) == "T0007"


def test_kiosk_id_must_fit(key: ed25519.Ed25519PrivateKey) -> None:
    registry = registry_for(("T0001", key, "2026-12-31", False))
    with pytest.raises(ValueError):
        verify_technician(channel(TechnicianCardSim(key, "T0001")), registry, "K" * 65)


# -- the registry file -------------------------------------------------------------------------


def test_registry_loads_json_and_yaml(tmp_path, key: ed25519.Ed25519PrivateKey) -> None:
    entry = {
        "id": "T0001",
        "name": "王工",
        "public_key": encode_public_key(key.public_key()),
        "valid_until": "2026-12-31",
    }
    (tmp_path / "r.json").write_text(json.dumps({"technicians": [entry]}), encoding="utf-8")
    pem = encode_public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
    (tmp_path / "r.yaml").write_text(
        "technicians:\n"
        "  - id: T0002\n"
        "    valid_until: 2027-01-31\n"
        "    revoked: true\n"
        "    public_key: |\n" + "".join(f"      {line}\n" for line in pem.splitlines()),
        encoding="utf-8",
    )
    json_registry = TechnicianRegistry.load(tmp_path / "r.json")
    yaml_registry = TechnicianRegistry.load(tmp_path / "r.yaml")
    assert json_registry.get("T0001").valid_until == date(2026, 12, 31)  # type: ignore[union-attr]
    assert yaml_registry.get("T0002").revoked  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid"),
        ('{"technicians": {}}', "'technicians' list"),
        ('{"technicians": [{"id": "T1", "valid_until": "2026-01-01"}]}', "no 'public_key'"),
        (
            '{"technicians": [{"id": "T1", "public_key": "AAAA", "valid_until": "2026-01-01"}]}',
            "unreadable public key",
        ),
        (
            '{"technicians": [{"id": "T1", "public_key": "%s", "valid_until": "soon"}]}',
            "YYYY-MM-DD",
        ),
    ],
)
def test_registry_errors_name_the_problem(tmp_path, key, content: str, message: str) -> None:
    if "%s" in content:
        content = content % encode_public_key(key.public_key())
    path = tmp_path / "registry.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TechnicianRegistryError) as caught:
        TechnicianRegistry.load(path)
    assert message in str(caught.value) and "registry.json" in str(caught.value)


def test_registry_rejects_duplicates_and_missing_files(tmp_path, key) -> None:
    with pytest.raises(TechnicianRegistryError, match="twice"):
        registry_for(("T1", key, "2026-01-01", False), ("T1", key, "2026-01-01", False))
    with pytest.raises(TechnicianRegistryError):
        TechnicianRegistry.load(tmp_path / "missing.json")


def test_atr_check_byte() -> None:
    atr = make_atr(b"KIOSK")
    check = 0
    for byte in atr[1:]:
        check ^= byte
    assert atr[:4] == bytes.fromhex("3B858001") and check == 0

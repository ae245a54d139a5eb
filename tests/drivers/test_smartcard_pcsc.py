"""The smart card driver through the real PC/SC stack: our pcscd, its vpcd readers, our cards.

pcscd polls card presence every 0.4 s, so every insertion and removal takes a moment; tests
share one daemon (tests/support/pcsc.py) and wait on events rather than sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from drivers.smartcard import (
    ApduError,
    CardInserted,
    CardProtocolError,
    CardRemoved,
    CardRemovedError,
    CommandApdu,
    NoCardError,
    NotTechnicianCardError,
    ReaderAdded,
    ReaderRemoved,
    SmartCardDevice,
    SmartCardUnavailableError,
    SoftPsam,
    TechnicianExpiredError,
    TechnicianRegistry,
    TechnicianRevokedError,
    TechnicianSignatureError,
    UnknownTechnicianError,
    UnsupportedCardError,
    open_smartcard,
    read_social_security_card,
    verify_technician,
)
from drivers.smartcard.pcsc import PcscCard
from drivers.smartcard.simulator import (
    BlankCard,
    ReplayingTechnicianCard,
    SocialSecurityCardSim,
    TechnicianCardSim,
)
from drivers.smartcard.technician import encode_public_key, internal_authenticate_command
from drivers.state import DeviceState
from tests.support.pcsc import PcscDaemon, shared_pcscd

# "thread": a hang inside a PC/SC call never returns to Python, so signals cannot end it.
pytestmark = pytest.mark.timeout(60, method="thread")

PSAM = SoftPsam(bytes(range(16)))
TODAY = date(2026, 1, 15)


@pytest.fixture(scope="module")
def pcscd() -> PcscDaemon:
    return shared_pcscd()


@pytest.fixture
def daemon(pcscd: PcscDaemon) -> Iterator[PcscDaemon]:
    yield pcscd
    pcscd.remove_all()
    if not pcscd.running:
        pcscd.start()
    for reader in pcscd.readers:  # the next test starts with empty readers
        pcscd.wait_card(reader.name, present=False)


@pytest.fixture
def device(daemon: PcscDaemon) -> Iterator[SmartCardDevice]:
    dev = open_smartcard(daemon.url(0))
    dev.open()
    yield dev
    dev.close()


def poll_until(
    device: SmartCardDevice, done: Callable[[list[object]], bool], timeout: float = 5.0
) -> list[object]:
    """Poll until `done(events so far)`; fail with what arrived if it never is."""
    events: list[object] = []
    deadline = time.monotonic() + timeout
    while not done(events):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"events so far: {events}"
        events += device.poll(min(remaining, 1.0))
    return events


def has(*wanted: object) -> Callable[[list[object]], bool]:
    return lambda events: all(event in events for event in wanted)


# -- readers -----------------------------------------------------------------------------------


def test_readers_are_listed_and_selected_by_name(daemon: PcscDaemon) -> None:
    first, second = (reader.name for reader in daemon.readers)
    with open_smartcard("pcsc://") as any_reader:
        assert {first, second} <= set(any_reader.readers())
    with open_smartcard(f"pcsc://{second}") as exact:
        assert exact.readers() == [second]
    with open_smartcard("pcsc://kiosk test pcd") as substring:
        assert substring.readers() == [first, second]
    missing = open_smartcard("pcsc://No Such Reader")
    with pytest.raises(SmartCardUnavailableError, match="No Such Reader"):
        missing.open()
    assert missing.status().state is DeviceState.OFFLINE
    missing.close()


def test_insert_remove_events_and_status(daemon: PcscDaemon, device: SmartCardDevice) -> None:
    reader = daemon.readers[0].name
    assert device.poll(0.2) == []
    assert device.status().media_present is False
    card = SocialSecurityCardSim()
    client = daemon.insert(card)
    assert poll_until(device, has(CardInserted(reader, card.atr))) == [
        CardInserted(reader, card.atr)
    ]
    status = device.status()
    assert (status.state, status.media_present) == (DeviceState.ONLINE, True)
    assert status.details["atr"] == card.atr.hex(" ").upper()
    client.remove()
    assert poll_until(device, has(CardRemoved(reader))) == [CardRemoved(reader)]
    assert device.status().media_present is False
    with pytest.raises(NoCardError):
        device.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x00, b"\xa0\x00", le=256))


def test_card_present_at_open_is_reported_by_the_first_poll(daemon: PcscDaemon) -> None:
    card = TechnicianCardSim(ed25519.Ed25519PrivateKey.generate(), "T0001")
    daemon.insert(card, 1)
    with open_smartcard(daemon.url(1)) as dev:
        assert dev.poll(1.0) == [CardInserted(daemon.readers[1].name, card.atr)]


def test_close_from_another_thread_ends_a_wait(device: SmartCardDevice) -> None:
    started = time.monotonic()
    timer = threading.Timer(0.3, device.close)
    timer.start()
    assert device.poll(10.0) == []
    timer.join()
    assert time.monotonic() - started < 3.0
    with pytest.raises(SmartCardUnavailableError):
        device.poll(0.1)


# -- the card applications over pcscd ----------------------------------------------------------


def test_social_security_card_public_and_personal_data(
    daemon: PcscDaemon, device: SmartCardDevice
) -> None:
    daemon.insert(SocialSecurityCardSim(name="张三丰"))
    public = read_social_security_card(device)
    assert public.holder is None and public.info.card_number == "A12345678"
    full = read_social_security_card(device, psam=PSAM)
    assert full.holder is not None and full.holder.name == "张三丰"
    assert full.holder.birth_date == date(1990, 1, 1)


def registry(
    key: ed25519.Ed25519PrivateKey, *, tech_id: str = "T0001", **entry: object
) -> TechnicianRegistry:
    return TechnicianRegistry.from_dict(
        {
            "technicians": [
                {
                    "id": tech_id,
                    "name": "王工",
                    "public_key": encode_public_key(key.public_key()),
                    "valid_until": "2026-12-31",
                    **entry,
                }
            ]
        }
    )


def test_technician_challenge_response_and_its_failures(
    daemon: PcscDaemon, device: SmartCardDevice
) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    daemon.insert(TechnicianCardSim(key, "T0001"))
    who = verify_technician(device, registry(key), "K-0042", today=TODAY)
    assert (who.tech_id, who.kiosk_id) == ("T0001", "K-0042")
    other_key = ed25519.Ed25519PrivateKey.generate()
    failures = [
        (registry(key, tech_id="T0002"), UnknownTechnicianError),
        (registry(key, revoked=True), TechnicianRevokedError),
        (registry(key, valid_until="2025-12-31"), TechnicianExpiredError),
        (registry(other_key), TechnicianSignatureError),
    ]
    for registry_, error in failures:
        with pytest.raises(error):
            verify_technician(device, registry_, "K-0042", today=TODAY)
    # a recording of a genuine answer, replayed by another card in the second reader
    device.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x00, b"\xf0KIOSKMNT", le=256))
    recorded = device.transmit(internal_authenticate_command(bytes(32), b"K-0042")).check()
    daemon.insert(ReplayingTechnicianCard(recorded), 1)
    with open_smartcard(daemon.url(1)) as replay, pytest.raises(TechnicianSignatureError):
        verify_technician(replay, registry(key), "K-0042", today=TODAY)


def test_other_cards_are_told_apart(daemon: PcscDaemon, device: SmartCardDevice) -> None:
    daemon.insert(BlankCard())
    with pytest.raises(UnsupportedCardError):
        read_social_security_card(device)
    with pytest.raises(NotTechnicianCardError):
        verify_technician(device, registry(ed25519.Ed25519PrivateKey.generate()), "K-0042")


# -- faults ------------------------------------------------------------------------------------


@pytest.fixture
def patient_removal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded machine may run pcscd's 0.4 s presence poll late: give removals more time."""
    monkeypatch.setattr(PcscCard, "removal_grace_s", 3.0)


@pytest.mark.usefixtures("patient_removal")
def test_unplug_mid_transaction_then_reinsert(daemon: PcscDaemon, device: SmartCardDevice) -> None:
    reader = daemon.readers[0].name
    client = daemon.insert(SocialSecurityCardSim())
    poll_until(device, has(CardInserted(reader, SocialSecurityCardSim.atr)))
    device.connect()
    arrived = client.hold_next_apdu()
    outcome: list[BaseException | object] = []

    def read() -> None:
        try:
            outcome.append(read_social_security_card(device, psam=PSAM))
        except BaseException as exc:  # noqa: BLE001 - the test inspects whatever it was
            outcome.append(exc)

    worker = threading.Thread(target=read)
    worker.start()
    assert arrived.wait(5), "the command never reached the card"
    client.remove()  # pulled while the card holds the command
    worker.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], CardRemovedError), outcome
    poll_until(device, has(CardRemoved(reader)))
    assert device.status().media_present is False
    client.insert()
    poll_until(device, has(CardInserted(reader, SocialSecurityCardSim.atr)))
    assert read_social_security_card(device, psam=PSAM).holder is not None


MALFORMED = [
    (b"\x90", CardProtocolError),  # truncated: half a status word
    (b"\xde\xad\xbe\xef\x12\x34", ApduError),  # garbage: an unknown status word
    (b"\x6a\x82", UnsupportedCardError),  # the wrong status word for a good card
    (b"\x61\x05", ApduError),  # announces data, then has none (GET RESPONSE fails)
]


def test_malformed_answers_become_typed_errors(daemon: PcscDaemon, device: SmartCardDevice) -> None:
    card = SocialSecurityCardSim()
    daemon.insert(card)
    for answer, error in MALFORMED:
        card.inject(answer)
        with pytest.raises(error):
            read_social_security_card(device)
        # the card, the reader and the driver are all still fine
        assert read_social_security_card(device).info.card_number == "A12345678"


@pytest.mark.usefixtures("patient_removal")
def test_card_losing_contact_mid_read(daemon: PcscDaemon, device: SmartCardDevice) -> None:
    reader = daemon.readers[0].name
    card = SocialSecurityCardSim()
    client = daemon.insert(card)
    poll_until(device, has(CardInserted(reader, card.atr)))
    card.inject(b"")  # the card drops out instead of answering
    with pytest.raises(CardRemovedError):
        read_social_security_card(device)
    poll_until(device, has(CardRemoved(reader)))
    client.insert()
    poll_until(device, has(CardInserted(reader, card.atr)))
    assert read_social_security_card(device).info.spec_version == "3.00"


def test_pcscd_restart_is_reported_and_survived(daemon: PcscDaemon) -> None:
    first, second = (reader.name for reader in daemon.readers)
    card = SocialSecurityCardSim()
    daemon.insert(card)
    with open_smartcard("pcsc://Kiosk Test") as dev:
        poll_until(dev, has(CardInserted(first, card.atr)))
        daemon.stop()
        lost = poll_until(dev, has(ReaderRemoved(first), ReaderRemoved(second)))
        assert lost.index(CardRemoved(first)) < lost.index(ReaderRemoved(first))
        with pytest.raises(SmartCardUnavailableError):
            dev.poll(0.2)
        assert dev.status().state is DeviceState.OFFLINE
        daemon.start()  # the virtual card reconnects to the new vpcd by itself
        back = poll_until(
            dev, has(ReaderAdded(first), ReaderAdded(second), CardInserted(first, card.atr))
        )
        assert not any(isinstance(event, ReaderRemoved) for event in back)
        assert read_social_security_card(dev, psam=PSAM).holder is not None
        assert dev.status().state is DeviceState.ONLINE

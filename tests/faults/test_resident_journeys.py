"""Whole resident journeys through the real core while the network misbehaves.

Each trial: a resident identifies with a card and applies for 社会保障卡挂失 while the fault proxy
drops, delays, resets and answers 5xx (at a rate drawn from the seed), then walks away. The
kiosk must return to the attract screen on its own, and once the network is healthy every
application the resident was told was received (or queued) reaches the service exactly once,
counted by content (each trial's phone number), not by key.
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from drivers.idcard.sim_cards import LI_XIUYING
from kiosk.catalogue_cache import CatalogueCache
from kiosk.central import CentralClient
from kiosk.clock import FakeClock
from kiosk.config import parse_config
from kiosk.core import KioskCore, Services
from kiosk.delivery import central_sender
from kiosk.events import CardRead, Intent, Tick
from kiosk.ids import StateId
from kiosk.offline import OfflineCatalogue
from kiosk.outbox import Outbox, load_or_create_key
from kiosk.store import open_store
from kiosk.tasks import InlineTaskRunner
from tests.faults.harness import Lab
from tests.faults.proxy import PASS_ONLY, FaultMix
from tests.support.fakes import FakePrinter
from tests.support.kiosk_keys import TEST_KIOSKS

TRIALS = 24
ITEM = "shebao.card-loss"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab(tmp_path_factory.mktemp("journeys")) as running:
        yield running


def _touch(core, intent, arg=None):
    core.touch(intent, arg)
    core.pump()
    return core.state


def _applied_with_phone(lab: Lab, phone: str) -> int:
    from central.applications import ApplicationRow

    query = select(func.count()).where(func.json_extract(ApplicationRow.fields, "$.phone") == phone)
    with lab.server.app.state.central.sessions() as s:
        return int(s.scalar(query) or 0)


def _open_and_identify(core) -> None:
    """The item's guide, 立即申请, then the card (each step may fail under faults)."""
    _touch(core, Intent.BROWSE)
    _touch(core, Intent.PICK_CATEGORY, "shebao")
    _touch(core, Intent.PICK_ITEM, ITEM)
    _touch(core, Intent.ACT)
    core.post(CardRead(LI_XIUYING))
    core.pump()


def _fill(core, phone: str) -> None:
    """Fill the card-loss form; a step the network broke is simply not reached."""
    steps = [
        (Intent.EDIT_FIELD, "phone"),
        *[(Intent.KEY, d) for d in phone],
        (Intent.FIELD_DONE, None),
        (Intent.EDIT_FIELD, "loss_reason"),
        (Intent.CHOOSE, "stolen"),
        (Intent.EDIT_FIELD, "reissue"),
        (Intent.CHOOSE, "yes"),
        (Intent.NEXT, None),
        (Intent.SUBMIT_APPLICATION, None),
    ]
    for intent, arg in steps:
        _touch(core, intent, arg)


@pytest.mark.parametrize("seed", range(TRIALS), ids=lambda s: f"seed-{s}")
def test_a_walked_away_resident_leaves_nothing_lost_or_doubled(lab, tmp_path, seed):
    rng = random.Random(seed)
    clock = FakeClock()
    store = open_store(f"sqlite:///{tmp_path / 'kiosk.db'}", clock.now)
    outbox = Outbox(store, load_or_create_key(tmp_path / "outbox.key"))
    client = CentralClient(lab.proxy.base_url, timeout=2.0, kiosk_id="KIOSK-F-1", auth=TEST_KIOSKS)
    core = KioskCore(
        parse_config({"kiosk_id": "KIOSK-F-1"}),
        Services(
            central=client,
            printer=FakePrinter(),
            outbox=outbox,
            catalogue_cache=OfflineCatalogue(CatalogueCache(store)),
        ),
        clock,
        runner_factory=InlineTaskRunner,
    )
    try:
        lab.proxy.configure(seed=seed, mix=PASS_ONLY)
        core.start()
        core.pump()
        # the catalogue and the form were seen once while the network was healthy
        _open_and_identify(core)
        _touch(core, Intent.HOME)

        lab.proxy.configure(mix=FaultMix(rate=rng.choice((0.3, 0.6, 0.9))))
        phone = f"1390{seed:07d}"
        _open_and_identify(core)
        _touch(core, Intent.FOR_SELF)
        _fill(core, phone)
        told = core.state == StateId.SUBMITTED
        if told:  # durable before it was said: the row is in the outbox, sent or waiting
            key = core.session.draft.idempotency_key
            assert key is not None

        for _ in range(3):  # the resident walks away; nobody touches the screen again
            clock.advance(600)
            core.post(Tick())
            core.pump()
        assert core.state == StateId.ATTRACT, f"seed {seed}: stuck in {core.state}"
        assert core.session.draft is None and core.session.identity is None

        lab.proxy.configure(mix=PASS_ONLY)
        senders = {"application": central_sender(client), "rating": central_sender(client)}
        for _ in range(40):
            if outbox.backlog() == 0:
                break
            outbox.deliver_due(senders)
            clock.advance(700)
        assert outbox.backlog() == 0 and outbox.parked() == 0, f"seed {seed}"
        applied = _applied_with_phone(lab, phone)
        if told:
            assert applied == 1, f"seed {seed}: told received, applied {applied} times"
        else:
            assert applied <= 1, f"seed {seed}: applied {applied} times"
    finally:
        client.close()
        store.close()

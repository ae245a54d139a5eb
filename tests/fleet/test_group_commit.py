"""GroupCommit on its own: batching, a failed commit fails its beats only, shutdown drains."""

from __future__ import annotations

import asyncio

import pytest

from fleet.ingest import CommitFailed, GroupCommit, ReceivedBeat
from fleet.metrics import FleetMetrics
from fleet.models import Heartbeat
from tests.fleet.helpers import T0, beat


def _rb(kiosk_id: str, seq: int = 1) -> ReceivedBeat:
    return ReceivedBeat(Heartbeat.model_validate(beat(kiosk_id, seq)), T0, "ok")


class RecordingWriter:
    def __init__(self, fail_on: str = "", delay: float = 0.01) -> None:
        self.batches: list[list[str]] = []
        self.fail_on, self.delay = fail_on, delay

    async def commit(self, beats, resend_before):
        await asyncio.sleep(self.delay)
        ids = [rb.beat.kiosk_id for rb in beats]
        if self.fail_on in ids:
            raise OSError("database went away")
        self.batches.append(ids)
        return {"K-1": [{"id": 7, "action": "restart", "reason": ""}]}

    async def close(self) -> None:
        pass


def test_waiting_beats_share_a_commit_and_commands_go_once():
    async def scenario():
        writer = RecordingWriter()
        gc = GroupCommit(writer, FleetMetrics(), workers=1)
        gc.start()
        answers = await asyncio.gather(*(gc.submit(_rb(f"K-{i % 3}", i)) for i in range(30)))
        await gc.close()
        return writer, answers

    writer, answers = asyncio.run(scenario())
    assert sum(len(b) for b in writer.batches) == 30
    assert len(writer.batches) < 30
    assert sum(1 for a in answers if a) == len(writer.batches)  # K-1's newest beat of each batch


def test_a_failed_commit_fails_only_its_own_beats():
    async def scenario():
        writer = RecordingWriter(fail_on="BAD")
        gc = GroupCommit(writer, FleetMetrics(), workers=1)
        gc.start()
        bad = asyncio.ensure_future(gc.submit(_rb("BAD")))
        await asyncio.sleep(0.05)
        good = await gc.submit(_rb("K-1"))
        with pytest.raises(CommitFailed):
            await bad
        await gc.close()
        return good

    assert asyncio.run(scenario()) == [{"id": 7, "action": "restart", "reason": ""}]


def test_shutdown_does_not_wait_forever_on_a_stuck_database():
    async def scenario():
        gc = GroupCommit(RecordingWriter(delay=3600), FleetMetrics(), workers=1)
        gc.start()
        first = asyncio.ensure_future(gc.submit(_rb("K-1")))
        await asyncio.sleep(0.01)
        second = asyncio.ensure_future(gc.submit(_rb("K-2")))
        await asyncio.sleep(0.01)
        await gc.close(drain_timeout_s=0.1)
        for waiting in (first, second):  # the one mid-commit and the one still queued
            with pytest.raises(CommitFailed):
                await waiting

    asyncio.run(asyncio.wait_for(scenario(), 5))

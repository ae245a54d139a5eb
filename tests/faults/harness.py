"""One fault trial, and the lab it runs in: the central service, the proxy, kiosks that get killed.

A trial is a plan drawn from its seed: how many messages, how faulty the network is, and for a
process trial how many times the kiosk is killed (-9) and when (while a submission is being made
or while the outbox is delivering). The kiosk runs until the last kill, then starts again on the
same files with the faults off and drains. The verdict, from the central service's database:

- every key the kiosk answered RECEIVED for is applied exactly once (lost / duplicated otherwise);
- a key whose answer was cut off by the kill is applied at most once;
- after every kill, every RECEIVED key is already in the outbox on disk (durable before told);
- the outbox ends empty: nothing waiting, nothing parked.

The seed replays the plan (counts, faults, kill points); thread timing makes each run differ a little.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from central.db import RatingRow
from central.server import RunningServer, start_background
from kiosk.store import OutboxMessage, open_store
from tests.faults.kiosk_child import KIOSK_ID, Kiosk, Tuning, employer_marker, run_forked
from tests.faults.proxy import PASS_ONLY, FaultMix, FaultProxy
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0
REPLY_TIMEOUT_S = 15.0
DRAIN_TIMEOUT_S = 20.0
FAULT_RATES = (0.3, 0.6, 0.9)


# ---- what the central service applied ---------------------------------------------------------


def _ratings_applied(server: RunningServer, keys: list[str]) -> Counter[str]:
    # By content (the session id travels as 办件编号), not by key: a re-keyed copy counts too.
    sessions = {key.removeprefix("rating-"): key for key in keys}
    query = (
        select(RatingRow.case_no, func.count())
        .where(RatingRow.case_no.in_(list(sessions)))
        .group_by(RatingRow.case_no)
    )
    with server.app.state.central.sessions() as s:
        return Counter({sessions[case_no]: int(n) for case_no, n in s.execute(query)})


def _applications_applied(server: RunningServer, keys: list[str]) -> Counter[str]:
    # By content too (the key is written into a field); one application row is one case.
    from central.applications import ApplicationRow

    markers = {employer_marker(key): key for key in keys}
    employer = func.json_extract(ApplicationRow.fields, "$.last_employer")
    query = (
        select(employer, func.count(func.distinct(ApplicationRow.receipt_no)))
        .where(employer.in_(list(markers)))
        .group_by(employer)
    )
    with server.app.state.central.sessions() as s:
        return Counter({markers[marker]: int(n) for marker, n in s.execute(query)})


APPLIED: dict[str, Callable[[RunningServer, list[str]], Counter[str]]] = {
    "rating": _ratings_applied,
    "application": _applications_applied,
}


# ---- a kiosk process ---------------------------------------------------------------------------


class ChildKiosk:
    """A kiosk process: send command lines, read answer lines, kill it."""

    def __init__(self, pid: int, send: Callable[[str], None], wait: Callable[[], None]) -> None:
        self.pid = pid
        self._send = send
        self._wait = wait
        self.lines: queue.Queue[str | None] = queue.Queue()

    def say(self, line: str) -> None:
        self._send(line)

    def next_line(self, timeout: float = REPLY_TIMEOUT_S) -> str:
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise EOFError("the kiosk process ended")
        return line

    def kill(self) -> list[str]:
        """kill -9 at once, then every line it had already written (they were on screen)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self._wait()
        rest = []
        while (line := self.lines.get(timeout=REPLY_TIMEOUT_S)) is not None:
            rest.append(line)
        return rest


def _pump(read: Callable[[], str | None], into: queue.Queue[str | None]) -> None:
    while (line := read()) is not None:
        into.put(line)
    into.put(None)


class ForkedKiosks:
    """Kiosk processes forked from a server that imported the kiosk once (a start costs ms, not 1 s)."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["tests.faults.kiosk_child"])

    def start(self, db: Path, key_file: Path, central_url: str, tuning: Tuning) -> ChildKiosk:
        commands_r, commands_w = self._context.Pipe(duplex=False)
        replies_r, replies_w = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=run_forked,
            args=(str(db), str(key_file), central_url, tuning, commands_r, replies_w),
            daemon=True,
        )
        with _main_hidden():
            process.start()
        commands_r.close()
        replies_w.close()  # so the kiosk's death is an EOF here
        assert process.pid is not None

        def send(line: str) -> None:
            with contextlib.suppress(OSError):
                commands_w.send_bytes(line.encode())

        def wait() -> None:
            process.join()
            commands_w.close()

        child = ChildKiosk(process.pid, send, wait)
        threading.Thread(target=_pump, args=(_reader(replies_r), child.lines), daemon=True).start()
        return child


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """Start a process without it running the main script again (pytest's, or a bench's).

    A forkserver child re-imports `__main__` by path (CPython 3.11 cannot preload it: the fork
    server is never told the path), which costs a second of imports per kiosk; the kiosk needs
    nothing from it.
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _reader(connection: Connection) -> Callable[[], str | None]:
    def read() -> str | None:
        try:
            return connection.recv_bytes().decode()
        except (EOFError, OSError):
            connection.close()
            return None

    return read


def start_script_kiosk(db: Path, key_file: Path, central_url: str, tuning: Tuning) -> ChildKiosk:
    """`python -m tests.faults.kiosk_child`: a whole new interpreter, over stdin and stdout."""
    command = [sys.executable, "-m", "tests.faults.kiosk_child", str(db), str(key_file)]
    command += [central_url, "--document-bytes", str(tuning.document_bytes)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def send(line: str) -> None:
        with contextlib.suppress(OSError):
            stdin.write(line + "\n")
            stdin.flush()

    def wait() -> None:
        process.wait()
        with contextlib.suppress(OSError):
            stdin.close()

    child = ChildKiosk(process.pid, send, wait)
    threading.Thread(
        target=_pump,
        args=(lambda: stdout.readline().rstrip("\n") or None, child.lines),
        daemon=True,
    ).start()
    return child


# ---- the lab -----------------------------------------------------------------------------------


@dataclass
class TrialResult:
    seed: int
    kind: str
    mode: str  # inprocess | forked | script
    told: list[str] = field(default_factory=list)  # answered RECEIVED
    refused: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)  # the kill came before the answer
    kills: int = 0
    not_durable: list[str] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)
    waiting: int = 0
    parked: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    @property
    def lost(self) -> list[str]:
        return [key for key in self.told if self.applied[key] == 0]

    @property
    def duplicated(self) -> list[str]:
        return [key for key, n in self.applied.items() if n > 1]

    @property
    def delivered_once(self) -> list[str]:
        return [key for key in self.told if self.applied[key] == 1]

    @property
    def refused_but_applied(self) -> list[str]:
        return [key for key in self.refused if self.applied[key] > 0]

    def problems(self) -> list[str]:
        """What broke the promise, in words; empty when the trial held."""
        found = []
        for what, keys in (
            ("lost", self.lost),
            ("duplicated", self.duplicated),
            ("told received but not durable", self.not_durable),
            ("refused but applied", self.refused_but_applied),
        ):
            if keys:
                found.append(f"{what}: {keys}")
        if self.waiting or self.parked:
            found.append(f"outbox not empty: {self.waiting} waiting, {self.parked} parked")
        return found

    def describe(self) -> str:
        return (
            f"trial seed={self.seed} kind={self.kind} mode={self.mode}: told {len(self.told)}, "
            f"unanswered {len(self.unanswered)}, refused {len(self.refused)}, kills {self.kills}, "
            f"faults {dict(self.faults)}"
        )


class Lab:
    """One central service (file SQLite, kept across kiosk kills) behind one fault proxy."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        TEST_KIOSKS.signer(KIOSK_ID)  # enrolled here; the kiosk processes derive the same key
        self.server = start_background(
            db_url=f"sqlite:///{workdir / 'central.db'}",
            kiosk_registry=TEST_KIOSKS.registry,
            auth_settings=UNLIMITED,
        )
        self.proxy = FaultProxy(self.server.base_url).start()
        self._forked: ForkedKiosks | None = None

    @property
    def forked(self) -> ForkedKiosks:
        if self._forked is None:
            self._forked = ForkedKiosks()
        return self._forked

    def close(self) -> None:
        self.proxy.stop()
        self.server.stop()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def applied(self, kind: str, keys: list[str]) -> Counter[str]:
        return APPLIED[kind](self.server, keys)

    @contextlib.contextmanager
    def trial_files(self, seed: int) -> Iterator[tuple[Path, Path]]:
        where = self.workdir / f"trial-{seed}"
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
        try:
            yield where / "kiosk.db", where / "outbox.key"
        finally:
            shutil.rmtree(where, ignore_errors=True)


def keys_for(kind: str, seed: int, count: int, run: str) -> list[str]:
    prefix = "rating-" if kind == "rating" else "app-"
    return [f"{prefix}{run}-s{seed}-{i}" for i in range(count)]


def outbox_keys(db: Path) -> set[str]:
    """Every key in the outbox on disk, delivered or not, as a restarted kiosk would find it."""
    store = open_store(f"sqlite:///{db}", lambda: datetime.now(UTC))
    try:
        with store.session() as s:
            return set(s.scalars(select(OutboxMessage.idempotency_key)))
    finally:
        store.close()


def drain(kiosk: Kiosk, timeout: float = DRAIN_TIMEOUT_S) -> None:
    """Wait until nothing waits in the outbox (or something is parked, or time is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if kiosk.outbox.backlog() == 0 or kiosk.outbox.parked():
            return
        time.sleep(0.02)


def _drain_and_judge(lab: Lab, kiosk: Kiosk, result: TrialResult) -> None:
    """With the network healthy: drain the outbox, then ask the central service what it applied."""
    result.faults = lab.proxy.snapshot() - result.faults
    lab.proxy.configure(mix=PASS_ONLY)
    drain(kiosk)
    result.waiting, result.parked = kiosk.outbox.backlog(), kiosk.outbox.parked()
    everything = result.told + result.unanswered + result.refused
    result.applied = lab.applied(result.kind, everything)


def restart_and_judge(
    lab: Lab, result: TrialResult, db: Path, key_file: Path, tuning: Tuning
) -> None:
    """Start again on the same files (after the last kill), drain and judge."""
    kiosk = Kiosk(db, key_file, lab.proxy.base_url, tuning).start()
    try:
        _drain_and_judge(lab, kiosk, result)
    finally:
        kiosk.close()


def run_trial(
    lab: Lab,
    seed: int,
    *,
    kind: str,
    mode: str = "inprocess",
    run: str = "r",
    tuning: Tuning | None = None,
) -> TrialResult:
    """One seeded trial; `mode` is inprocess (proxy faults only), forked or script (with kills)."""
    rng = random.Random(seed)
    tuning = tuning or Tuning()
    result = TrialResult(seed, kind, mode)
    result.faults = lab.proxy.snapshot()  # the counts before; the difference once faults stop
    lab.proxy.configure(seed=seed, mix=FaultMix(rate=rng.choice(FAULT_RATES)))
    with lab.trial_files(seed) as (db, key_file):
        if mode == "inprocess":
            _inprocess(lab, rng, result, db, key_file, tuning, run)
        else:
            _with_kills(lab, rng, result, db, key_file, tuning, run)
            restart_and_judge(lab, result, db, key_file, tuning)
    return result


def _inprocess(
    lab: Lab,
    rng: random.Random,
    result: TrialResult,
    db: Path,
    key_file: Path,
    tuning: Tuning,
    run: str,
) -> None:
    kiosk = Kiosk(db, key_file, lab.proxy.base_url, tuning).start()
    try:
        for key in keys_for(result.kind, result.seed, rng.randint(1, 5), run):
            answer = kiosk.submit(result.kind, key)
            (result.told if answer.startswith("RECEIVED") else result.refused).append(key)
            time.sleep(rng.uniform(0, 0.03))
        time.sleep(rng.uniform(0, 0.15))  # delivery goes on under faults
        _drain_and_judge(lab, kiosk, result)
    finally:
        kiosk.close()


def _with_kills(
    lab: Lab,
    rng: random.Random,
    result: TrialResult,
    db: Path,
    key_file: Path,
    tuning: Tuning,
    run: str,
) -> None:
    lives = rng.randint(1, 2)
    keys = iter(keys_for(result.kind, result.seed, 3 * lives, run))
    for _life in range(lives):
        if result.mode == "script":
            child = start_script_kiosk(db, key_file, lab.proxy.base_url, tuning)
        else:
            child = lab.forked.start(db, key_file, lab.proxy.base_url, tuning)
        try:
            assert child.next_line(START_TIMEOUT_S) == "READY"
            pending = _live(child, rng, result, [next(keys) for _ in range(rng.randint(1, 3))])
        finally:
            rest = child.kill()
        result.kills += 1
        for line in rest:
            _note(line, result, pending)
        result.unanswered += pending
        on_disk = outbox_keys(db)
        result.not_durable += [key for key in result.told if key not in on_disk]


def _live(child: ChildKiosk, rng: random.Random, result: TrialResult, keys: list[str]) -> list[str]:
    """Submit `keys`; return the ones still unanswered when it is time to kill."""
    during_submission = rng.random() < 0.5
    pending = list(keys)
    for i, key in enumerate(keys):
        child.say(f"submit {result.kind} {key}")
        if during_submission and i == len(keys) - 1:
            time.sleep(rng.uniform(0, 0.02))  # kill while the last one is being saved
            return pending
        _note(child.next_line(), result, pending)
    time.sleep(rng.uniform(0, 0.3))  # kill while the outbox delivers under faults
    return pending


def _note(line: str, result: TrialResult, pending: list[str]) -> None:
    verdict, _, rest = line.partition(" ")
    key = rest.split(" ", 1)[0]
    if key not in pending:
        return
    pending.remove(key)
    if verdict == "RECEIVED":
        result.told.append(key)
    elif verdict == "REFUSED":
        result.refused.append(key)


@dataclass
class Totals:
    trials: int = 0
    told: int = 0
    delivered_once: int = 0
    duplicated: int = 0
    lost: int = 0
    refused: int = 0
    unanswered: int = 0
    not_durable: int = 0
    kills: int = 0
    failed_trials: list[int] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)

    def add(self, result: TrialResult) -> None:
        self.trials += 1
        self.told += len(result.told)
        self.delivered_once += len(result.delivered_once)
        self.duplicated += len(result.duplicated)
        self.lost += len(result.lost)
        self.refused += len(result.refused)
        self.unanswered += len(result.unanswered)
        self.not_durable += len(result.not_durable)
        self.kills += result.kills
        self.faults.update(result.faults)
        if result.problems():
            self.failed_trials.append(result.seed)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items()}

"""Dashboard page times with 10,000 kiosks and 1,000,000 stored beats, on PostgreSQL and SQLite.

The fleet is bulk-loaded straight into the tables (COPY on PostgreSQL, executemany on SQLite):
each kiosk beats every 30 s up to now, so "sessions today" sums every stored beat (the worst
case; the dashboard caches that figure for 15 s, and the bench measures it uncached). Events:
`--events` per kiosk. Pages are fetched in-process (Starlette TestClient) as a logged-in
operator; the baseline is an empty HTML page of the same app (no login check, no query).
Printed: median and p95 per page in milliseconds and the ratio to the baseline, per backend,
and the query plans of the kiosk page's history reads on PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi import Request  # noqa: E402
from fastapi.responses import HTMLResponse  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, insert, text  # noqa: E402

from fleet.db import EventRow, HeartbeatRow, KioskRow  # noqa: E402
from tests.fleet.dashboard_rows import NOW, PASSWORD, make_fleet  # noqa: E402
from tests.support import postgres  # noqa: E402

SITES = 40
STATUSES = ["ok"] * 80 + ["warning"] * 12 + ["fault"] * 5 + ["offline"] * 3
DEVICES = {"receipt_printer": "online", "idcard": "online", "qr_scanner": "online"}


def kiosk_ids(n: int) -> list[str]:
    return [f"K{i:05d}" for i in range(n)]


def kiosk_rows(n: int) -> list[dict]:
    rows = []
    for i, kiosk_id in enumerate(kiosk_ids(n)):
        status = STATUSES[i % len(STATUSES)]
        devices = dict(DEVICES, receipt_printer="hardware_error") if status == "fault" else DEVICES
        rows.append(
            {
                "kiosk_id": kiosk_id,
                "site": f"site-{i % SITES:02d}",
                "version": "1.4.0",
                "first_seen": NOW - timedelta(days=90),
                "last_seen": NOW - timedelta(seconds=20 if status != "offline" else 3600),
                "uptime_s": 86_400,
                "status": status,
                "in_service": True,
                "devices": devices,
                "paper": {"receipt_printer": "low" if status == "warning" else "full"},
                "outbox_backlog": i % 7,
                "last_error": "",
            }
        )
    return rows


def beat_tuples(kiosks: int, beats: int) -> Iterator[tuple]:
    """(kiosk_id, received_at, seq, sessions, completions): `beats` in all, 30 s apart per kiosk."""
    per_kiosk, extra = divmod(beats, kiosks)
    for k, kiosk_id in enumerate(kiosk_ids(kiosks)):
        count = per_kiosk + (1 if k < extra else 0)
        for i in range(count):
            yield (kiosk_id, NOW - timedelta(seconds=30 * i), count - i, i % 3 == 0, i % 6 == 0)


def event_tuples(kiosks: int, per_kiosk: int) -> Iterator[tuple]:
    kinds = ("fault", "recovery", "maintenance", "service_state")
    for kiosk_id in kiosk_ids(kiosks):
        for i in range(per_kiosk):
            at = NOW - timedelta(minutes=7 * i)
            yield (kiosk_id, f"ev-{i}", kinds[i % 4], at, at, "receipt_printer", '{"n": 1}')


def load_sqlite(engine: Engine, kiosks: int, beats: int, events: int) -> None:
    with engine.begin() as conn:
        conn.execute(insert(KioskRow), kiosk_rows(kiosks))
        batch: list[dict] = []
        for kiosk_id, at, seq, sessions, completions in beat_tuples(kiosks, beats):
            batch.append(
                {
                    "kiosk_id": kiosk_id,
                    "received_at": at,
                    "sent_at": at,
                    "seq": seq,
                    "sessions": int(sessions),
                    "completions": int(completions),
                    "devices": DEVICES,
                    "paper": {},
                }
            )
            if len(batch) == 50_000:
                conn.execute(insert(HeartbeatRow), batch)
                batch.clear()
        if batch:
            conn.execute(insert(HeartbeatRow), batch)
        conn.execute(
            insert(EventRow),
            [
                {
                    "kiosk_id": k,
                    "event_id": e,
                    "kind": kind,
                    "occurred_at": o,
                    "received_at": r,
                    "device": d,
                    "detail": {"n": 1},
                }
                for k, e, kind, o, r, d, _ in event_tuples(kiosks, events)
            ],
        )


def load_postgres(engine: Engine, kiosks: int, beats: int, events: int) -> None:
    with engine.begin() as conn:
        conn.execute(insert(KioskRow), kiosk_rows(kiosks))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        devices = json.dumps(DEVICES)
        columns = "kiosk_id, received_at, sent_at, seq, site, version, uptime_s, in_service, "
        columns += "devices, paper, outbox_backlog, sessions, completions, last_error"
        with cursor.copy(f"COPY fleet_heartbeats ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for kiosk_id, at, seq, sessions, completions in beat_tuples(kiosks, beats):
                copy.write_row(
                    (
                        kiosk_id,
                        at,
                        at,
                        seq,
                        "",
                        "1.4.0",
                        86_400,
                        True,
                        devices,
                        "{}",
                        0,
                        int(sessions),
                        int(completions),
                        "",
                    )
                )
        event_columns = "kiosk_id, event_id, kind, occurred_at, received_at, device, detail"
        with cursor.copy(f"COPY fleet_events ({event_columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in event_tuples(kiosks, events):
                copy.write_row(row)
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def time_pages(client: TestClient, pages: dict[str, str], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in pages}
    for path in pages.values():  # warm-up: templates compiled, connections opened
        assert client.get(path).status_code == 200, path
    for _ in range(runs):
        for name, path in pages.items():
            start = time.perf_counter()
            response = client.get(path)
            times[name].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
    return times


def bench_backend(name: str, db_url: str, args: argparse.Namespace) -> None:
    fleet = make_fleet(db_url, dashboard_summary_cache_s=0.0)
    load = load_postgres if db_url.startswith("postgresql") else load_sqlite
    start = time.perf_counter()
    load(fleet.sessions.kw["bind"], args.kiosks, args.beats, args.events)
    print(
        f"\n[{name}] loaded {args.kiosks} kiosks, {args.beats} beats, "
        f"{args.kiosks * args.events} events in {time.perf_counter() - start:.1f} s"
    )

    @fleet.app.get("/bench/empty", include_in_schema=False)
    def empty(request: Request) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>empty</title>")

    client = logged_in(TestClient(fleet.app))
    middle = kiosk_ids(args.kiosks)[args.kiosks // 2]
    pages = {
        "empty page (baseline)": "/bench/empty",
        "summary, uncached today": "/dashboard",
        "kiosk table, site+status": "/dashboard/kiosks?site=site-07&status=warning",
        "kiosk table, page 20": "/dashboard/kiosks?page=20",
        "kiosk page": f"/dashboard/kiosks/{middle}",
        "kiosk page, events p3": f"/dashboard/kiosks/{middle}?events_page=3",
    }
    times = time_pages(client, pages, args.runs)
    # The same page as operators see it when several refresh within 15 s of each other.
    cached = make_fleet(db_url, dashboard_summary_cache_s=3600.0)
    times.update(
        time_pages(
            logged_in(TestClient(cached.app)), {"summary, cached today": "/dashboard"}, args.runs
        )
    )
    base = statistics.median(times["empty page (baseline)"])
    print(f"{'page':<28}{'median ms':>11}{'p95 ms':>9}{'x baseline':>12}")
    for page, samples in times.items():
        median = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
        print(f"{page:<28}{median:>11.1f}{p95:>9.1f}{median / base:>12.1f}")
    if load is load_postgres and args.explain:
        explain(fleet.sessions.kw["bind"], middle)


def logged_in(client: TestClient) -> TestClient:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/dashboard/login").text)
    assert token is not None
    answer = client.post(
        "/dashboard/login",
        data={"username": "li.view", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 200 and answer.url.path == "/dashboard"
    return client


def explain(engine: Engine, kiosk_id: str) -> None:
    """The plans of the kiosk page's history reads: index scans, not sequential ones."""
    queries = {
        "events page": "SELECT * FROM fleet_events WHERE kiosk_id = :k "
        "ORDER BY received_at DESC, id DESC LIMIT 21 OFFSET 40",
        "beats 24 h": "SELECT received_at, sessions FROM fleet_heartbeats WHERE kiosk_id = :k "
        "AND received_at >= :since AND sessions > 0",
    }
    with engine.connect() as conn:
        for name, sql in queries.items():
            plan = conn.execute(
                text("EXPLAIN " + sql), {"k": kiosk_id, "since": NOW - timedelta(hours=24)}
            ).scalars()
            scans = [line.strip() for line in plan if "Scan" in line]
            print(f"plan, {name}: {' / '.join(scans)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=10_000)
    parser.add_argument("--beats", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10, help="events per kiosk")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--no-explain", dest="explain", action="store_false")
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    with contextlib.ExitStack() as stack:
        for backend in backends:
            if backend == "sqlite":
                where = stack.enter_context(_tempdir())
                bench_backend("SQLite", f"sqlite:///{where}/fleet.db", args)
            elif backend == "postgresql":
                reason = postgres.available()
                if reason is not None:
                    print(f"\n[PostgreSQL] skipped: {reason}")
                    continue
                url = stack.enter_context(postgres.running_postgres())
                bench_backend("PostgreSQL", url, args)
            else:
                parser.error(f"unknown backend {backend!r}")
    return 0


@contextlib.contextmanager
def _tempdir() -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fleet-dash-bench-") as where:
        yield Path(where)


if __name__ == "__main__":
    sys.exit(main())

"""Heartbeats per second committed to PostgreSQL, beside a no-op endpoint of the same server.

    python bench/fleet_heartbeats.py [--seconds 5] [--connections 64] [--kiosks 500]
                                     [--client wrk|python] [--insert copy|executemany|both]

One run on this machine: a throwaway PostgreSQL cluster with fsync ON (synchronous_commit on),
the fleet server in its own process (one uvicorn worker), and one load generator at
`--connections` keep-alive connections against, in turn:

  noop-unsigned   POST /api/v1/bench/noop-heartbeats-unsigned: validates the same body, no auth
  noop-signed     POST /api/v1/bench/noop-heartbeats: + the kiosk signature check, no database
  heartbeats      POST /api/v1/heartbeats: signature, validation, group commit, answered after it

Every request is a distinct, pre-signed heartbeat of one of `--kiosks` enrolled kiosks, and the
server's replay check stays ON: the pools are signed before the clock starts and each request is
sent once (a request sent twice would be a 401, and is counted as a failure). The load generator is
wrk with bench/fleet_heartbeats.lua when Debian's `wrk` is installed, else a raw-socket asyncio
client in its own process. The committed count is checked against the database afterwards.
Reported: each rate, heartbeats / noop-signed (target >= 0.9), and what authentication costs per
request (signed vs unsigned no-op, and Ed25519 verification timed on its own).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import yaml  # noqa: E402

from fleet.settings import FleetSettings  # noqa: E402
from tests.support import postgres  # noqa: E402
from tests.support.kiosk_keys import test_registry, test_signer  # noqa: E402
from trust.signing import KioskSigner, SignatureVerifier  # noqa: E402

TARGET_RATIO = 0.9
BEAT_INTERVAL_S = 20  # the figure: kiosks beating every 20 s
ENDPOINTS = {
    "noop-unsigned": "/api/v1/bench/noop-heartbeats-unsigned",
    "noop-signed": "/api/v1/bench/noop-heartbeats",
    "heartbeats": "/api/v1/heartbeats",
}


@dataclass
class RunResult:
    ok: int
    bad: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def beat_body(kiosk_id: str, seq: int) -> bytes:
    return json.dumps(
        {
            "kiosk_id": kiosk_id,
            "site": "SITE-001",
            "version": "1.4.0",
            "seq": seq,
            "sent_at": "2026-12-01T09:00:00+00:00",
            "uptime_s": 3600 + seq,
            "in_service": True,
            "devices": {
                "receipt_printer": "online",
                "document_printer": "online",
                "idcard": "online",
                "qr_scanner": "online",
                "camera": "busy",
            },
            "paper": {"receipt_printer": "full", "document_printer": "low"},
            "outbox_backlog": seq % 3,
            "sessions": 2,
            "completions": 1,
            "last_error": "",
        },
        separators=(",", ":"),
    ).encode()


def write_pool(
    path: Path, url: str, signers: list[KioskSigner], count: int, *, signed: bool, seq0: int
) -> None:
    """`count` distinct requests, one per line: digest, signature-input, signature, body."""
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            signer = signers[n % len(signers)]
            body = beat_body(signer.kiosk_id, seq0 + n)
            if signed:
                h = signer.headers_for("POST", url, body)
                head = f"{h['Content-Digest']}\t{h['Signature-Input']}\t{h['Signature']}"
            else:
                head = "\t\t"
            out.write(f"{head}\t{body.decode()}\n")


# -- load generators ---------------------------------------------------------------------------


def run_wrk(base_url: str, path: str, pool: Path, connections: int, seconds: float) -> RunResult:
    # One wrk thread saturates the single server process and leaves the second core of this
    # 2-core machine to PostgreSQL; two threads take CPU from both and measure wrk instead.
    threads = int(os.environ.get("WRK_THREADS", "1"))
    script = Path(__file__).with_name("fleet_heartbeats.lua")
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(script), base_url, "--", str(pool), str(threads), path,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120).stdout
    m = re.search(
        r"RESULT ok=(\d+) bad=(\d+) wrapped=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+)", out
    )
    if m is None:
        raise RuntimeError(f"wrk gave no result:\n{out}")
    ok, bad, _wrapped, dur, p50, p99 = (int(g) for g in m.groups())
    return RunResult(ok, bad, dur / 1e6, p50 / 1e3, p99 / 1e3)


async def _python_load(
    host: str, port: int, path: str, pool: Path, connections: int, seconds: float
) -> dict[str, float]:
    requests: list[bytes] = []
    for line in pool.read_text(encoding="utf-8").splitlines():
        digest, sig_input, signature, body = line.split("\t", 3)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body.encode())}\r\n"
        )
        if digest:
            head += f"Content-Digest: {digest}\r\nSignature-Input: {sig_input}\r\nSignature: {signature}\r\n"
        requests.append((head + "\r\n" + body).encode())
    next_index = 0
    ok = bad = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal next_index, ok, bad
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < deadline and next_index < len(requests):
            request = requests[next_index]
            next_index += 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status == 200:
                ok += 1
            else:
                bad += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pick(q: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3 if latencies else 0.0
        )

    return {"ok": ok, "bad": bad, "seconds": elapsed, "p50_ms": pick(0.5), "p99_ms": pick(0.99)}


def run_python(base_url: str, path: str, pool: Path, connections: int, seconds: float) -> RunResult:
    """The asyncio client in its own process, so it does not share the server's or our GIL."""
    cmd = [
        sys.executable,
        __file__,
        "--load",
        base_url,
        path,
        str(pool),
        str(connections),
        str(seconds),
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 120, check=True
    ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return RunResult(int(r["ok"]), int(r["bad"]), r["seconds"], r["p50_ms"], r["p99_ms"])


# -- the server under test ---------------------------------------------------------------------


def start_server(
    db_url: str, registry: Path, port: int, insert: str, workers: int
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        __file__,
        "--serve",
        db_url,
        str(registry),
        str(port),
        insert,
        str(workers),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("the fleet server did not start")


def serve_for_bench(db_url: str, registry: str, port: int, insert: str, workers: int) -> None:
    from fleet.server import serve
    from fleet.settings import FleetSettings

    settings = FleetSettings(
        bench_routes=True, run_sweeper=False, pg_insert=insert, commit_workers=workers
    )
    serve("127.0.0.1", port, db_url, registry, settings)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_figures(base_url: str) -> dict[str, float]:
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    figures = {}
    for name in (
        "fleet_commit_batch_size_sum",
        "fleet_commit_batch_size_count",
        "fleet_commit_seconds_sum",
        "fleet_commit_seconds_count",
        "fleet_heartbeats_committed_total",
    ):
        m = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
        figures[name] = float(m.group(1)) if m else 0.0
    return figures


def count_beats(db_url: str) -> int:
    import psycopg
    from sqlalchemy import make_url

    url = make_url(db_url)
    conninfo = f"dbname={url.database} user={url.username} host={url.query['host']} port={url.query['port']}"
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM fleet_heartbeats").fetchone()
        return int(row[0]) if row else 0


def verify_cost_us(signer: KioskSigner, n: int = 2000) -> float:
    """Signature verification alone (parse, digest, Ed25519, replay cache), per request."""
    verifier = SignatureVerifier(test_registry(signer))
    url = "http://127.0.0.1:8900/api/v1/heartbeats"
    body = beat_body(signer.kiosk_id, 1)
    signed = [signer.headers_for("POST", url, body) for _ in range(n)]
    started = time.perf_counter()
    for headers in signed:
        verifier.verify("POST", url, headers, body)
    return (time.perf_counter() - started) / n * 1e6


# -- the run -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per endpoint")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--kiosks", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="no-op/heartbeat pairs (median)")
    parser.add_argument("--commit-workers", type=int, default=FleetSettings().commit_workers)
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--insert", choices=["statement", "copy", "executemany", "all"], default="all"
    )
    parser.add_argument(
        "--max-rate", type=float, default=0, help="pool sizing guess (req/s); 0: measure"
    )
    args = parser.parse_args(argv)

    if (reason := postgres.available()) is not None:
        print(f"skipped: {reason}")
        return 0
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    load = run_wrk if client == "wrk" else run_python
    signers = [test_signer(f"BENCH-{i:05d}") for i in range(args.kiosks)]
    work = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    registry = work / "kiosks.yaml"
    registry.write_text(
        yaml.safe_dump(
            {
                "kiosks": {
                    s.kiosk_id: {"public_key": s.public_key, "site": "SITE-001", "revoked": False}
                    for s in signers
                }
            }
        ),
        encoding="utf-8",
    )
    inserts = ["statement", "copy", "executemany"] if args.insert == "all" else [args.insert]
    runs: dict[str, list[RunResult]] = {}
    warm_beats = 0
    figures: dict[str, dict[str, float]] = {}
    seq = 0
    print(f"client: {client}, {args.connections} connections, {args.seconds:g} s per endpoint, "
          f"{args.kiosks} kiosks; PostgreSQL fsync=on, synchronous_commit=on; replay check on")  # fmt: skip
    try:
        with postgres.running_postgres(fsync=True) as db_url:
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            for round_no, insert in enumerate(inserts):
                server = start_server(db_url, registry, port, insert, args.commit_workers)
                try:
                    # The first (default) mode alternates with the no-op `--rounds` times, so
                    # that a change in the machine's load hits both sides of each ratio.
                    plan = (
                        ["noop-unsigned"] + ["noop-signed", "heartbeats"] * args.rounds
                        if round_no == 0
                        else ["heartbeats"]
                    )
                    for name in plan:
                        path = ENDPOINTS[name]
                        signed = name != "noop-unsigned"
                        # Size the signed pools from the unsigned rate: enough never to wrap.
                        guess = args.max_rate or (
                            runs["noop-unsigned"][0].rate * 1.5 + 500 if signed else 20_000
                        )
                        count = (
                            int(guess * (args.seconds + args.warmup) + 1000) if signed else 20_000
                        )
                        pool = work / f"{name}.pool"
                        write_pool(pool, base + path, signers, count, signed=signed, seq0=seq)
                        seq += count
                        if args.warmup > 0:
                            warm = work / f"{name}.warm"
                            write_pool(
                                warm,
                                base + path,
                                signers,
                                int(2000 * args.warmup) + 200,
                                signed=signed,
                                seq0=seq,
                            )
                            seq += int(2000 * args.warmup) + 200
                            warm_beats += (int(2000 * args.warmup) + 200) * (name == "heartbeats")
                            load(base, path, warm, args.connections, args.warmup)
                        before = server_figures(base)
                        result = load(base, path, pool, args.connections, args.seconds)
                        key = name if name != "heartbeats" else f"heartbeats ({insert})"
                        runs.setdefault(key, []).append(result)
                        if name == "heartbeats":
                            after = server_figures(base)
                            total = figures.setdefault(insert, dict.fromkeys(after, 0.0))
                            for k in after:
                                total[k] += after[k] - before[k]
                finally:
                    stop_server(server)
            stored = count_beats(db_url)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    results = {k: sorted(v, key=lambda r: r.rate)[len(v) // 2] for k, v in runs.items()}
    print(f"{'endpoint (median run)':<26}{'ok/s':>10}{'failed':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for name, r in results.items():
        print(f"{name:<26}{r.rate:>10.0f}{r.bad:>8}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}")
    for insert, f in figures.items():
        batches = f["fleet_commit_batch_size_count"] or 1
        print(f"group commit ({insert}): mean batch {f['fleet_commit_batch_size_sum'] / batches:.1f} beats, "
              f"mean commit {f['fleet_commit_seconds_sum'] / batches * 1e3:.2f} ms")  # fmt: skip
    committed_ok = sum(r.ok for k, v in runs.items() if k.startswith("heartbeats") for r in v)
    print(f"beats in the database: {stored} (acknowledged in measured runs: {committed_ok}, "
          f"plus warm-ups of at most {warm_beats})")  # fmt: skip
    noop = results["noop-signed"]
    unsigned = results["noop-unsigned"]
    default = f"heartbeats ({inserts[0]})"
    for name, r in results.items():
        if name.startswith("heartbeats"):
            print(f"{name} / noop-signed: {r.rate / noop.rate:.2f}")
    pairs = [h.rate / n.rate for h, n in zip(runs[default], runs["noop-signed"], strict=True)]
    ratio = sorted(pairs)[len(pairs) // 2]
    best = results[default]
    print(f"{default} / noop-signed, back to back: {', '.join(f'{p:.2f}' for p in pairs)}")
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"ratio (median pair): {ratio:.2f} (target >= {TARGET_RATIO}): {verdict}")
    print(
        f"= {best.rate * BEAT_INTERVAL_S:,.0f} kiosks beating every {BEAT_INTERVAL_S} s on this node"
    )
    auth_us = (
        (1 / noop.rate - 1 / unsigned.rate) * 1e6 if noop.rate and unsigned.rate else float("nan")
    )
    print(f"authentication: {auth_us:.0f} us per request at saturation (signed vs unsigned no-op: "
          f"{noop.rate:.0f} vs {unsigned.rate:.0f}/s); verify() alone {verify_cost_us(signers[0]):.0f} us")  # fmt: skip
    failures = sum(r.bad for v in runs.values() for r in v)
    if failures or stored < committed_ok:
        print(f"FAILED: {failures} failed requests; {stored} stored < {committed_ok} acknowledged?")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve_for_bench(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--load":
        url = httpx.URL(sys.argv[2])
        result = asyncio.run(
            _python_load(
                url.host,
                url.port or 80,
                sys.argv[3],
                Path(sys.argv[4]),
                int(sys.argv[5]),
                float(sys.argv[6]),
            )
        )
        print(json.dumps(result))
    else:
        sys.exit(main())

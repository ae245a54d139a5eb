"""Many kiosks at once against the reference central service: throughput, latency, no 5xx.

    python bench/central_load.py [--clients 500] [--seconds 10]

The service runs in a process of its own (as `kiosk central` does: uvicorn, SQLite in WAL mode,
the hardened limits of central.limits) and admits one enrolled kiosk per client; every request
is signed (trust.signing.KioskSigner), so the cost of authentication is in the figures. Each
client holds one keep-alive connection (raw asyncio sockets: the load generator must not be
the bottleneck) and sends its next request as soon as the last is answered.

Two phases in the same run: the baseline is `GET /health` (no signature; one `SELECT 1`), then
the kiosks' mix: catalogue reads, item reads and identity checks in turn. Printed: requests/s,
p50 and p99 per phase, the ratio of the two rates, and the 5xx count, which must be 0 (exit 1
otherwise). Per-kiosk rate limits are raised for the run: they are a policy, not a capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from trust.signing import KioskSigner  # noqa: E402

SEED = Path(__file__).resolve().parent.parent / "central" / "seed"
ITEM_CODES = ("tax.invoice", "huji.household-cert", "shebao.insured-cert")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


@dataclass
class Phase:
    """What one phase saw."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def line(self) -> str:
        p50 = percentile(self.latencies, 0.50) * 1000
        p99 = percentile(self.latencies, 0.99) * 1000
        statuses = " ".join(f"{status}:{n}" for status, n in sorted(self.statuses.items()))
        errors = " ".join(f"{name}:{n}" for name, n in sorted(self.errors.items()))
        return (
            f"{self.name:<9} {self.rate:8.0f} req/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
            f"[{statuses}]" + (f"  client errors [{errors}]" if errors else "")
        )


class Kiosk:
    """One client: a signer, a keep-alive connection, the requests it sends in turn."""

    def __init__(self, number: int, host: str, port: int, person: dict[str, str]) -> None:
        self.kiosk_id = f"KIOSK-LOAD-{number:04d}"
        self.signer = KioskSigner(self.kiosk_id, Ed25519PrivateKey.generate())
        self.host, self.port = host, port
        self.person = person
        self.turn = number
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def next_request(self, mix: bool) -> tuple[str, str, bytes]:
        if not mix:
            return "GET", "/api/v1/health", b""
        self.turn += 1
        kind = self.turn % 3
        if kind == 0:
            return "GET", "/api/v1/catalogue", b""
        if kind == 1:
            return "GET", f"/api/v1/items/{ITEM_CODES[self.turn % len(ITEM_CODES)]}", b""
        body = {
            "id_number": self.person["id_number"],
            "name": self.person["name"],
            "kiosk_id": self.kiosk_id,
            "method": "id_card",
        }
        return "POST", "/api/v1/identity/verify", json.dumps(body).encode()

    def encode(self, method: str, path: str, body: bytes) -> bytes:
        authority = f"{self.host}:{self.port}"
        headers = {"Host": authority, "Content-Length": str(len(body))}
        if body:
            headers["Content-Type"] = "application/json"
        if path != "/api/v1/health":
            headers |= self.signer.headers_for(method, f"http://{authority}{path}", body)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode() + body

    async def call(self, request: bytes) -> int:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"connection" and b"close" in value.lower():
                close = True
        await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _drive(kiosk: Kiosk, phase: Phase, mix: bool, until: float) -> None:
    while time.perf_counter() < until:
        request = kiosk.encode(*kiosk.next_request(mix))
        start = time.perf_counter()
        try:
            status = await kiosk.call(request)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            phase.errors[type(exc).__name__] += 1
            kiosk.close()
            await asyncio.sleep(0.05)
            continue
        phase.latencies.append(time.perf_counter() - start)
        phase.statuses[status] += 1


async def run_phase(kiosks: list[Kiosk], name: str, mix: bool, seconds: float) -> Phase:
    phase = Phase(name)
    start = time.perf_counter()
    await asyncio.gather(*(_drive(k, phase, mix, start + seconds) for k in kiosks))
    phase.seconds = time.perf_counter() - start
    return phase


def _serve(registry: str) -> None:
    """The service process: print its base URL, serve until stdin closes."""
    from central.app import create_app
    from central.auth import AuthSettings
    from central.server import start_background
    from trust.keys import KioskRegistry

    plenty = "1000000/second"
    settings = AuthSettings(identity_limits=plenty, rating_limits=plenty)
    app = create_app(
        "sqlite://", kiosk_registry=KioskRegistry.load(registry), auth_settings=settings
    )
    with start_background(app=app) as running:
        print(running.base_url, flush=True)
        sys.stdin.read()


def _start_service(kiosks: list[Kiosk], folder: Path) -> subprocess.Popen[str]:
    registry = folder / "kiosks.yaml"
    entries = {
        k.kiosk_id: {"public_key": k.signer.public_key, "site": "BENCH", "revoked": False}
        for k in kiosks
    }
    registry.write_text(yaml.safe_dump({"kiosks": entries}), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", str(registry)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def _bench(kiosks: list[Kiosk], seconds: float) -> tuple[Phase, Phase]:
    warm = max(0.2, seconds / 10)
    await run_phase(kiosks, "warm-up", True, warm)
    baseline = await run_phase(kiosks, "health", False, seconds)
    mix = await run_phase(kiosks, "kiosk mix", True, seconds)
    for kiosk in kiosks:
        kiosk.close()
    return baseline, mix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500, help="concurrent kiosks (500)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase (10)")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve)
        return 0
    persons = json.loads((SEED / "persons.json").read_text("utf-8"))["persons"]
    person = next(p for p in persons if "card_type" not in p)
    with tempfile.TemporaryDirectory() as tmp:
        kiosks = [Kiosk(n, "", 0, person) for n in range(args.clients)]
        service = _start_service(kiosks, Path(tmp))
        try:
            assert service.stdout is not None
            base_url = service.stdout.readline().strip()
            if not base_url.startswith("http://"):
                print("the central service did not start", file=sys.stderr)
                return 2
            host, port = base_url.removeprefix("http://").rsplit(":", 1)
            for kiosk in kiosks:
                kiosk.host, kiosk.port = host, int(port)
            baseline, mix = asyncio.run(_bench(kiosks, args.seconds))
        finally:
            if service.stdin is not None:
                service.stdin.close()
            service.wait(timeout=30)
    print(f"central service, {args.clients} concurrent kiosks, {args.seconds:g} s per phase")
    print(baseline.line())
    print(mix.line())
    ratio = mix.rate / baseline.rate if baseline.rate else 0.0
    print(f"kiosk mix / health rate: {ratio:.2f}")
    p99_mix = percentile(mix.latencies, 0.99) * 1000
    print(f"p99 kiosk mix: {p99_mix:.0f} ms")
    server_errors = baseline.server_errors + mix.server_errors
    print(f"5xx: {server_errors}")
    failed = server_errors or sum(baseline.errors.values()) + sum(mix.errors.values())
    non_ok = sum(n for status, n in mix.statuses.items() if status != 200)
    if non_ok:
        print(f"non-200 in the mix: {non_ok}")
    return 1 if failed or non_ok else 0


if __name__ == "__main__":
    sys.exit(main())

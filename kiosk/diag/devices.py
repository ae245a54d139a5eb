"""`kiosk diag devices`: every configured device, its transport, state and details."""

from __future__ import annotations

import argparse
import json
import queue
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any, TextIO

from drivers.state import DeviceState, DeviceStatus
from kiosk.config import ConfigError, KioskConfig, load_config
from kiosk.device_manager import DeviceManager, build_specs


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `devices` under `kiosk diag`."""
    parser = subparsers.add_parser("devices", help="设备状态 / state of every configured device")
    parser.add_argument("--config", help="YAML configuration (default: config/default.yaml)")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument(
        "--wait", type=float, default=3.0, help="seconds to let devices answer (default 3)"
    )
    parser.set_defaults(func=run)
    return parser


def collect(config: KioskConfig, wait_s: float) -> list[dict[str, Any]]:
    """Start every configured device under supervision for a moment and report what it says."""
    from kiosk.simulation import SimulatedHall

    enabled = config.devices.enabled()
    with tempfile.TemporaryDirectory(prefix="kiosk-diag-") as receipts:
        hall = SimulatedHall(config, receipts_dir=receipts)
        statuses, urls = _supervise_briefly(hall, enabled, wait_s)
    rows = []
    for name, cfg in config.devices:
        status = statuses.get(name) if cfg.enabled else None
        if status is None:
            status = DeviceStatus(DeviceState.NO_DEVICE, "disabled in configuration")
        row: dict[str, Any] = {"device": name, "transport": cfg.url, "enabled": cfg.enabled}
        if name in urls and urls[name] != cfg.url:
            row["simulated_at"] = urls[name]
        row.update(status.as_dict())
        rows.append(row)
    return rows


def _supervise_briefly(
    hall: Any, enabled: dict[str, Any], wait_s: float
) -> tuple[dict[str, DeviceStatus], dict[str, str]]:
    try:
        urls = hall.start_for(enabled)
        hall.wait_started()  # simulated pcscd and cupsd start in the background
        posted: queue.SimpleQueue[Any] = queue.SimpleQueue()
        manager = DeviceManager(build_specs(enabled, urls), posted.put)
        manager.start()
        try:
            _wait_for_answers(manager, wait_s)
            return manager.statuses(), urls
        finally:
            manager.stop()
    finally:
        hall.stop()


def _wait_for_answers(manager: DeviceManager, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if all(s.reason != "starting" for s in manager.statuses().values()):
            return
        time.sleep(0.05)


def _table(rows: list[dict[str, Any]], out: TextIO) -> None:
    out.write(f"{'设备 device':<20}{'状态 state':<18}{'地址 transport':<36}详情 details\n")
    for row in rows:
        extra = {
            k: v for k, v in row.items() if k not in ("device", "state", "transport", "enabled")
        }
        details = ", ".join(f"{k}={v}" for k, v in extra.items())
        out.write(f"{row['device']:<20}{row['state']:<18}{row['transport']:<36}{details}\n")


def run(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Print the devices; exit 1 when an enabled device is not usable, so scripts can alert."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=err)
        return 2
    rows = collect(config, args.wait)
    if args.json:
        out.write(json.dumps({"devices": rows}, ensure_ascii=False) + "\n")
    else:
        _table(rows, out)
    broken = [r for r in rows if r["enabled"] and r["state"] not in ("online", "busy")]
    return 1 if broken else 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m kiosk.diag.devices` for tests."""
    parser = argparse.ArgumentParser(prog="kiosk diag")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["devices", *(argv or [])])
    return int(args.func(args))

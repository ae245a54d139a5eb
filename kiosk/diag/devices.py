"""`kiosk diag devices`: every configured device, its transport, state and details; and
`kiosk diag selftest DEVICE`: the maintenance menu's self-test on a device opened from its URL."""

from __future__ import annotations

import argparse
import contextlib
import queue
import tempfile
import time
from pathlib import Path
from typing import Any

from drivers.state import DeviceState, DeviceStatus
from kiosk.config import ConfigError, KioskConfig, load_config
from kiosk.device_manager import DeviceManager, build_specs
from kiosk.diag.command import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    INVALID_OPTION,
    CommandFailed,
    DiagCommand,
    Failure,
    Output,
    Timeout,
)


def config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML configuration (default: config/default.yaml)")


COMMAND = DiagCommand(
    "devices",
    help="设备状态 / state of every configured device",
    epilog="exit codes: 0 every enabled device usable, 1 some not usable, 2 bad configuration",
    timeout=Timeout(3.0, help="seconds to let devices answer (default {default:g})", flag="--wait"),
    failures=(Failure(ConfigError, EXIT_USAGE, "配置错误 / configuration error"),),
    options=config_option,
)


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


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'设备 device':<20}{'状态 state':<18}{'地址 transport':<36}详情 details"]
    for row in rows:
        extra = {
            k: v for k, v in row.items() if k not in ("device", "state", "transport", "enabled")
        }
        details = ", ".join(f"{k}={v}" for k, v in extra.items())
        lines.append(f"{row['device']:<20}{row['state']:<18}{row['transport']:<36}{details}")
    return "\n".join(lines)


@COMMAND
def run(args: argparse.Namespace, output: Output) -> int:
    """Print the devices; exit 1 when an enabled device is not usable, so scripts can alert."""
    rows = collect(load_config(args.config), args.wait)
    if args.json:
        output.json({"devices": rows})
    else:
        output.line(_table(rows))
    broken = [r for r in rows if r["enabled"] and r["state"] not in ("online", "busy")]
    return EXIT_FAILED if broken else EXIT_OK


def _selftest_options(parser: argparse.ArgumentParser) -> None:
    from kiosk.diag.selftest import SELF_TESTS

    parser.add_argument("device", choices=list(SELF_TESTS), help="the device to test")
    config_option(parser)
    parser.add_argument("--preview", metavar="FILE", help="camera: save the preview PNG here")


SELFTEST = DiagCommand(
    "selftest",
    help="设备自检 / a device's self-test, as the maintenance menu runs it",
    epilog="exit codes: 0 passed, 1 failed, 2 the device cannot be opened or a bad option",
    url="--url",
    url_default="",
    url_help="the device's address (default: the one in the configuration)",
    timeout=Timeout(20.0, help="wait this long for a card, a scan or a job (default {default:g})"),
    failures=(Failure(ConfigError, EXIT_USAGE, "配置错误 / configuration error"),),
    options=_selftest_options,
)


@SELFTEST
def run_selftest(args: argparse.Namespace, output: Output) -> int:
    """Open the device from its URL, run the menu's self-test on it and print the result."""
    from kiosk.diag.selftest import render, run_self_test

    config = load_config(args.config)
    device_config = getattr(config.devices, args.device)
    url = args.url or device_config.url
    if url.startswith("sim://"):
        detail = f"{url} is started by `kiosk run`; give the simulator's address with --url"
        raise CommandFailed(EXIT_USAGE, INVALID_OPTION, detail)
    spec = build_specs({args.device: device_config}, {args.device: url})[0]
    try:
        driver = spec.factory(spec.url, **spec.options)
        driver.open()
    except Exception as exc:  # every driver family has its own errors; all mean "cannot open"
        summary = "无法打开设备 / cannot open the device"
        raise CommandFailed(EXIT_USAGE, summary, f"{type(exc).__name__}: {exc}") from exc
    try:
        result = run_self_test(args.device, driver, config=config, timeout_s=args.timeout)
    finally:
        with contextlib.suppress(Exception):
            driver.close()
    if args.preview and result.image_png:
        Path(args.preview).write_bytes(result.image_png)
    english = render(result, "en")
    if args.json:
        output.json(
            {
                "device": result.device,
                "ok": result.ok,
                "message": english,
                "msgid": result.message,
                "params": result.params,
                "details": list(result.details),
                "preview": args.preview if args.preview and result.image_png else None,
            }
        )
    else:
        chinese = render(result, "zh_CN")
        words = english if chinese == english else f"{chinese} / {english}"
        output.line(f"{'通过 PASS' if result.ok else '失败 FAIL'} {result.device}: {words}")
        for line in result.details:
            output.line(f"    {line}")
    return EXIT_OK if result.ok else EXIT_FAILED


COMMANDS = (COMMAND, SELFTEST)
add_parser, build_parser, main = COMMAND.add_parser, COMMAND.build_parser, COMMAND.main

"""`kiosk maintenance set-pin`: set the technician PIN (stored as an argon2 hash, mode 0600)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    maintenance = subparsers.add_parser("maintenance", help="the technicians' maintenance menu")
    sub = maintenance.add_subparsers(dest="maintenance_command", metavar="COMMAND", required=True)
    set_pin = sub.add_parser(
        "set-pin", help="set the technician PIN (6 to 12 digits; only its argon2 hash is kept)"
    )
    set_pin.add_argument("--config", help="YAML configuration (default: config/default.yaml)")
    set_pin.add_argument("--file", help="the PIN file (default: maintenance.pin_file)")
    set_pin.add_argument(
        "--stdin", action="store_true", help="read the PIN from standard input (scripts)"
    )
    set_pin.set_defaults(func=run_set_pin)


def _pin_path(args: argparse.Namespace) -> Path:
    if args.file:
        return Path(args.file)
    from kiosk.config import PROJECT_ROOT, load_config

    path = Path(load_config(args.config).maintenance.pin_file)
    home = Path(os.environ.get("KIOSK_HOME") or PROJECT_ROOT)
    return path if path.is_absolute() else home / path


def run_set_pin(args: argparse.Namespace) -> int:
    from kiosk.maintenance.auth import PinError, PinFile

    if args.stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("新维护密码 New PIN: ")
        if getpass.getpass("再输一次 Again: ") != pin:
            print("两次输入不一致 / the two entries differ", file=sys.stderr)
            return 1
    path = _pin_path(args)
    try:
        PinFile(path).set(pin)
    except PinError as exc:
        print(f"维护密码无效 / {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"维护密码已设置 / PIN set: {path} (argon2id, mode 0600)")
    return 0

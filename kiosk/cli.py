"""`kiosk run | central | diag ...`: the command line of the appliance."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kiosk.config import ConfigError, load_config
from kiosk.keys_cli import add_keys
from kiosk.privacy import RedactingFilter


def _cmd_run(args: argparse.Namespace) -> int:
    from kiosk.runtime import run_kiosk

    config = load_config(args.config)
    return run_kiosk(
        config,
        headless=args.headless,
        windowed=args.windowed,
        exit_after_first_frame=args.exit_after_first_frame,
    )


def _cmd_mint_eid(args: argparse.Namespace) -> int:
    from central.eid_dev import mint_cli

    return mint_cli(args.person, args.db, ttl_seconds=args.ttl, png=args.png)


def _add_mint_eid(central_sub: argparse._SubParsersAction) -> None:
    mint = central_sub.add_parser(
        "mint-eid", help="print an e-ID token for a test person (development only)"
    )
    mint.add_argument("person", help="position in persons.json (1-based), person_no or ID number")
    mint.add_argument("--png", help="also write the token as a QR code PNG to this file")
    mint.add_argument("--ttl", type=int, default=120, help="lifetime in seconds (default 120)")
    mint.add_argument("--db", default="sqlite:///var/central.db", help="the service's database")
    mint.set_defaults(func=_cmd_mint_eid)


def _cmd_central(args: argparse.Namespace) -> int:
    if args.listen_fd is not None:
        _serve_on_inherited_socket(args.listen_fd, args.db, args.kiosks)
        return 0
    from central.server import serve

    serve(args.host, args.port, args.db, args.public_url, args.kiosks)
    return 0


def _serve_on_inherited_socket(fd: int, db_url: str, kiosks: str | None) -> None:
    """The embedded default of `kiosk run`: serve on the listening socket it bound for us."""
    import socket

    import uvicorn

    from central.app import create_app
    from central.server import server_config

    sock = socket.socket(fileno=fd)
    host, port = sock.getsockname()[:2]
    # The registry the kiosk enrolls its key in (kiosk.credentials), beside the database.
    from kiosk.credentials import embedded_registry_path
    from trust.keys import KioskRegistry

    registry = KioskRegistry.load(kiosks or embedded_registry_path(db_url))
    app = create_app(db_url, public_base_url=f"http://{host}:{port}", kiosk_registry=registry)
    uvicorn.Server(server_config(app, log_level="warning")).run(sockets=[sock])


def _cmd_mint_appointment(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from central.appointments import mint_in_database
    from central.errors import ApiError

    try:
        booked = mint_in_database(
            args.db, args.person, args.item_code, args.date, datetime.now(UTC)
        )
    except ApiError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 1
    if args.png:
        import qrcode

        qrcode.make(booked.qr_payload).save(args.png)
    print(booked.qr_payload)
    print(f"{booked.item_name} {booked.date.isoformat()} {booked.slot}", file=sys.stderr)
    return 0


def _add_mint_appointment(central_sub: argparse._SubParsersAction) -> None:
    from datetime import date

    mint = central_sub.add_parser(
        "mint-appointment", help="book an appointment for a test person; prints its QR payload"
    )
    mint.add_argument("person", help="registry number (person_no) or unique name")
    mint.add_argument("item_code", help="a ticket item, e.g. huji.id-card-renewal")
    mint.add_argument("--date", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")
    mint.add_argument("--png", help="also write the QR code to this PNG file")
    mint.add_argument("--db", default="sqlite:///var/central.db", help="SQLAlchemy database URL")
    mint.set_defaults(func=_cmd_mint_appointment)


def _add_diag(subparsers: argparse._SubParsersAction) -> None:
    from kiosk.diag.command import add_all

    diag = subparsers.add_parser("diag", help="technician's diagnostics (devices, self-tests)")
    add_all(diag.add_subparsers(dest="diag_command", required=True, metavar="COMMAND"))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (tests and the Xvfb re-exec swap it)."""

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _quiet_library_chatter(record: logging.LogRecord) -> bool:
    """python-escpos logs every connection on the root logger at INFO: with a status poll every
    5 s that is a line pair every 5 s, forever. Its warnings and errors still pass."""
    return not (
        record.name == "root"
        and record.levelno < logging.WARNING
        and f"{os.sep}escpos{os.sep}" in record.pathname
    )


def configure_logging(*, verbose: bool, quiet: bool = False) -> None:
    """One stderr handler whose filter masks ID numbers, whoever logs them (libraries too)."""
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    if not verbose:
        handler.addFilter(_quiet_library_chatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    if not verbose:
        # one line per HTTP request is traffic, not news; our own client logs outages itself
        for noisy in ("httpx", "httpcore", "uvicorn.access"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _cmd_fleet_serve(args: argparse.Namespace) -> int:
    from fleet.server import serve

    serve(args.host, args.port, args.db, args.kiosks)
    return 0


def _cmd_fleet_add_operator(args: argparse.Namespace) -> int:
    """Create an operator of the dashboard, or reset a known one's password and role."""
    import getpass

    from fleet.db import create_schema, make_engine, make_sessionmaker
    from fleet.operators import OperatorError, add_operator

    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("密码 Password: ")
        if getpass.getpass("再输一次 Again: ") != password:
            print("两次输入不一致 The two entries differ", file=sys.stderr)
            return 2
    if len(password) < 12:
        print("密码至少 12 个字符 A password has at least 12 characters", file=sys.stderr)
        return 2
    if args.db.startswith("sqlite:///var/"):
        Path("var").mkdir(exist_ok=True)
    engine = make_engine(args.db)
    try:
        create_schema(engine)
        created = add_operator(make_sessionmaker(engine), args.username, password, args.role)
    except OperatorError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"{'added' if created else 'updated'} {args.username} ({args.role})")
    return 0


def _cmd_fleet_sim(args: argparse.Namespace) -> int:
    from fleet.sim import main_cli

    return main_cli(
        args.kiosks,
        args.server,
        seconds=args.seconds,
        registry=args.registry,
        keys_dir=args.keys_dir,
        heartbeat_s=args.heartbeat_s,
        speed=args.speed,
    )


def _add_fleet(sub: argparse._SubParsersAction) -> None:
    fleet = sub.add_parser("fleet", help="the fleet monitoring server")
    fleet_sub = fleet.add_subparsers(dest="fleet_command", metavar="COMMAND", required=True)
    serve = fleet_sub.add_parser("serve", help="serve the fleet server (API, dashboard, /metrics)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8900)
    serve.add_argument("--db", default="sqlite:///var/fleet.db", help="SQLAlchemy database URL")
    serve.add_argument("--kiosks", default="var/fleet-kiosks.yaml", help="kiosk key registry")
    serve.set_defaults(func=_cmd_fleet_serve)
    operator = fleet_sub.add_parser(
        "add-operator", help="add a dashboard operator, or reset one's password and role"
    )
    operator.add_argument("username")
    operator.add_argument("--role", choices=("viewer", "operator"), default="viewer")
    operator.add_argument("--db", default="sqlite:///var/fleet.db", help="SQLAlchemy database URL")
    operator.add_argument(
        "--stdin", action="store_true", help="read the password from standard input (scripts)"
    )
    operator.set_defaults(func=_cmd_fleet_add_operator)
    sim = sub.add_parser("fleet-sim", help="simulated kiosks' telemetry (demos, load tests)")
    sim.add_argument("--kiosks", type=int, required=True, help="how many kiosks")
    sim.add_argument("--server", required=True, help="fleet server URL, e.g. http://127.0.0.1:8900")
    sim.add_argument("--seconds", type=float, default=60.0, help="run this long (default 60)")
    sim.add_argument("--registry", default="var/fleet-kiosks.yaml", help="registry to enroll in")
    sim.add_argument("--keys-dir", default="var/fleet-sim-keys", help="the kiosks' key files")
    sim.add_argument("--heartbeat-s", type=float, default=30.0, help="beat interval (default 30)")
    sim.add_argument("--speed", type=float, default=1.0, help="simulated time runs N x faster")
    sim.set_defaults(func=_cmd_fleet_sim)


def build_parser(*, with_diag: bool = True) -> argparse.ArgumentParser:
    """The argument parser of the `kiosk` command.

    `with_diag=False` leaves out the diagnostics' own options: their modules load device libraries
    (python-escpos alone parses a capabilities file for most of a second), which `kiosk run`
    must not wait for.
    """
    parser = argparse.ArgumentParser(prog="kiosk", description="自助服务终端 self-service kiosk")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the kiosk (default: simulated devices + local service)")
    run.add_argument("--config", help="YAML configuration (default: config/default.yaml)")
    run.add_argument("--headless", action="store_true", help="no screen: run the core loop only")
    run.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    run.add_argument(
        "--exit-after-first-frame", action="store_true", help="quit once the start screen is drawn"
    )
    run.set_defaults(func=_cmd_run)

    central = sub.add_parser("central", help="serve the reference central service")
    central.add_argument("--host", default="127.0.0.1")
    central.add_argument("--port", type=int, default=8800)
    central.add_argument("--db", default="sqlite:///var/central.db", help="SQLAlchemy database URL")
    central.add_argument(
        "--public-url",
        help="start of the links printed on certificates and guide QR codes "
        "(default: http://HOST:PORT); never taken from a request's Host header",
    )
    # `kiosk run` starts its embedded service on a socket it bound itself (kiosk.runtime)
    central.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    central.add_argument(
        "--kiosks", help="kiosk registry YAML (public keys, docs/trust.md); none: no kiosk admitted"
    )
    central.set_defaults(func=_cmd_central)
    central_sub = central.add_subparsers(dest="central_command", metavar="COMMAND")
    _add_mint_appointment(central_sub)
    _add_mint_eid(central_sub)
    _add_fleet(sub)
    add_keys(sub)
    from kiosk.maintenance.cli import add_parser as add_maintenance

    add_maintenance(sub)

    if with_diag:
        _add_diag(sub)
    else:
        sub.add_parser("diag", help="technician's diagnostics (devices, self-tests)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(with_diag="diag" in argv).parse_args(argv)
    # a technician's diagnostic prints its answer; only problems belong beside it
    configure_logging(verbose=args.verbose, quiet=args.command == "diag")
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"配置错误 / configuration error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Start-up failures are reported in one line; anything else is a bug and keeps its trace.
        from kiosk.runtime import StartupError

        if not isinstance(exc, StartupError):
            raise
        print(f"无法启动 / cannot start: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

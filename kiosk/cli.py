"""`kiosk run | central | diag ...`: the command line of the appliance."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from kiosk.config import ConfigError, load_config
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
        _serve_on_inherited_socket(args.listen_fd, args.db)
        return 0
    from central.server import serve

    serve(args.host, args.port, args.db)
    return 0


def _serve_on_inherited_socket(fd: int, db_url: str) -> None:
    """The embedded default of `kiosk run`: serve on the listening socket it bound for us."""
    import socket

    import uvicorn

    from central.app import create_app

    config = uvicorn.Config(
        create_app(db_url),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


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
    from kiosk.diag import camera, devices, docprinter, idcard, printer, qr, smartcard

    diag = subparsers.add_parser("diag", help="technician's diagnostics (devices, self-tests)")
    diag_sub = diag.add_subparsers(dest="diag_command", required=True, metavar="COMMAND")
    devices.add_parser(diag_sub)
    idcard.add_parser(diag_sub)
    printer.add_parser(diag_sub)
    docprinter.add_parser(diag_sub)
    qr.add_scan_parser(diag_sub)
    qr.add_decode_parser(diag_sub)
    smartcard.add_parser(diag_sub)
    camera.add_parser(diag_sub)


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
    # `kiosk run` starts its embedded service on a socket it bound itself (kiosk.runtime)
    central.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    central.set_defaults(func=_cmd_central)
    central_sub = central.add_subparsers(dest="central_command", metavar="COMMAND")
    _add_mint_appointment(central_sub)
    _add_mint_eid(central_sub)

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

"""`kiosk keys new | show | enroll | revoke`: a kiosk's key and a site's kiosk registry.

`new` and `show` act on this kiosk's private key (`credentials.key_file` of the configuration);
`enroll` and `revoke` edit a registry YAML that central (`kiosk central --kiosks PATH`) and the
fleet server read; both re-read it on change, so no restart is needed.
"""

from __future__ import annotations

import argparse
import sys

from trust.keys import (
    KeyFileError,
    KioskRegistry,
    RegistryError,
    generate_key_file,
    load_private_key,
    public_key_b64,
)


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from kiosk.config import load_config

    return load_config(args.config)


def _key_path(args: argparse.Namespace) -> str:
    from kiosk.runtime import _var_path

    return _var_path(args.key_file or _config(args).credentials.key_file)


def _cmd_new(args: argparse.Namespace) -> int:
    path = _key_path(args)
    public = generate_key_file(path)
    print(f"key file: {path} (mode 0600)\npublic key: {public}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    config = _config(args)
    print(f"kiosk id: {config.kiosk_id}")
    print(f"public key: {public_key_b64(load_private_key(_key_path(args)))}")
    return 0


def _cmd_enroll(args: argparse.Namespace) -> int:
    public = args.public_key or public_key_b64(load_private_key(_key_path(args)))
    kiosk_id = args.kiosk_id or _config(args).kiosk_id
    KioskRegistry.load(args.registry).enroll(kiosk_id, public, site=args.site)
    print(f"enrolled {kiosk_id} in {args.registry}")
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    KioskRegistry.load(args.registry).revoke(args.kiosk_id)
    print(f"revoked {args.kiosk_id} in {args.registry}; refused from its next request")
    return 0


def _guarded(command):  # type: ignore[no-untyped-def]
    def run(args: argparse.Namespace) -> int:
        try:
            return int(command(args))
        except (KeyFileError, RegistryError) as exc:
            print(f"kiosk keys: {exc}", file=sys.stderr)
            return 1

    return run


def add_keys(sub: argparse._SubParsersAction) -> None:
    """Add `kiosk keys ...` to the `kiosk` command's subcommands."""
    keys = sub.add_parser("keys", help="this kiosk's key and a site's kiosk registry")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")

    def key_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", help="YAML configuration (default: config/default.yaml)")
        parser.add_argument("--key-file", help="private key (default: credentials.key_file)")

    new = keys_sub.add_parser(
        "new", help="create this kiosk's private key (0600); never overwrites"
    )
    key_options(new)
    new.set_defaults(func=_guarded(_cmd_new))
    show = keys_sub.add_parser("show", help="print this kiosk's id and public key")
    key_options(show)
    show.set_defaults(func=_guarded(_cmd_show))
    enroll = keys_sub.add_parser("enroll", help="add a kiosk's public key to a registry file")
    key_options(enroll)
    enroll.add_argument("--registry", required=True, help="registry YAML central/fleet read")
    enroll.add_argument("--kiosk-id", help="default: this configuration's kiosk_id")
    enroll.add_argument("--public-key", help="base64 public key (default: from the key file)")
    enroll.add_argument("--site", default="", help="the kiosk's site (hall)")
    enroll.set_defaults(func=_guarded(_cmd_enroll))
    revoke = keys_sub.add_parser("revoke", help="refuse a kiosk from its next request on")
    revoke.add_argument("--registry", required=True, help="registry YAML central/fleet read")
    revoke.add_argument("kiosk_id")
    revoke.set_defaults(func=_guarded(_cmd_revoke))

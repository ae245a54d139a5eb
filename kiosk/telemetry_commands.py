"""Remote commands from the fleet: run each once, acknowledge each once, across restarts.

A command's acknowledgement is an outbox message whose idempotency key names the command. The
key is looked up before a command runs, so a command the server hands out again (its ack not
delivered yet, or the kiosk restarted) is not run again; the outbox delivers the one ack. A
restart is acknowledged (queued) before the kiosk exits, so it cannot loop.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.fleet_client import FleetCommand
from kiosk.outbox import Outbox
from kiosk.privacy import redact_text
from kiosk.store import StoreWriteError

log = logging.getLogger(__name__)

ACK = "fleet_ack"


def ack_key(fleet_url: str, command_id: int) -> str:
    """The ack's idempotency key: command ids are per fleet server, so its URL is part of it."""
    server = hashlib.sha256(fleet_url.encode()).hexdigest()[:12]
    return f"fleet-ack-{server}-{command_id}"


@dataclass(frozen=True)
class CommandActions:
    """What the kiosk does for each remote command (the runtime supplies them)."""

    set_in_service: Callable[[bool, str], None]  # (in_service, reason), actor "fleet"
    reload_config: Callable[[], str]  # returns what was applied, for the ack's detail
    restart: Callable[[], None]  # asks the runtime to exit with its restart code


class CommandRunner:
    """Runs the commands a heartbeat answer brought, and queues their acks."""

    def __init__(self, outbox: Outbox, fleet_url: str, actions: CommandActions) -> None:
        self._outbox = outbox
        self._fleet_url = fleet_url
        self._actions = actions

    def handle(self, commands: list[FleetCommand]) -> None:
        for command in commands:
            key = ack_key(self._fleet_url, command.id)
            try:
                if self._outbox.known(key):
                    continue  # run before; its ack is queued or delivered
                self._run(command, key)
            except StoreWriteError as exc:
                # Not acknowledged: the server hands it out again with a later beat.
                log.error("fleet command %s not recorded: %s", command.id, exc)

    def _run(self, command: FleetCommand, key: str) -> None:
        log.info("fleet command %s: %s", command.id, command.action)
        if command.action == "restart":
            self._ack(command, key, "done", "restarting")
            self._actions.restart()
            return
        try:
            detail = self._execute(command)
        except Exception as exc:
            log.error("fleet command %s (%s) failed: %s", command.id, command.action, exc)
            self._ack(command, key, "failed", redact_text(str(exc))[:500])
        else:
            self._ack(command, key, "done", detail)

    def _execute(self, command: FleetCommand) -> str:
        match command.action:
            case "out_of_service":
                self._actions.set_in_service(False, command.reason)
                return "out of service"
            case "back_in_service":
                self._actions.set_in_service(True, command.reason)
                return "back in service"
            case "reload_config":
                return self._actions.reload_config()
            case _:
                raise ValueError(f"unknown action {command.action!r}")

    def _ack(self, command: FleetCommand, key: str, result: str, detail: str) -> None:
        payload = {"command_id": command.id, "result": result, "detail": detail[:500]}
        self._outbox.put(ACK, payload, key)

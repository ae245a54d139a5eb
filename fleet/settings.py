"""Settings of the fleet server: timings, thresholds, limits and the webhook, in one dataclass."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime

from fleet.db import now


@dataclass
class FleetSettings:
    """What the fleet server needs to know beyond its database URL and kiosk registry."""

    # A kiosk beats every `heartbeat_s`; it is offline once `offline_after_missed` beats are missed.
    heartbeat_s: float = 30.0
    offline_after_missed: int = 3
    # The "offline" alert is raised only after this long without a beat (a reboot is not an alert).
    offline_alert_after_s: float = 300.0
    # "Backlog growing": the outbox backlog never fell over this window and grew by at least this.
    backlog_window_s: float = 1800.0
    backlog_growth_min: int = 20
    # A backlog this large (or any device in user_error, paper low, out of service) is a warning.
    backlog_warning: int = 50
    retention_days: int = 30
    # Alerts are POSTed here as JSON; "" delivers nowhere (they stay visible on the dashboard).
    webhook_url: str = ""
    webhook_timeout_s: float = 5.0
    webhook_max_attempts: int = 8
    webhook_backoff_s: float = 2.0  # doubled after each failed attempt, at most 10 minutes
    # The sweeper derives offline status, raises/clears alerts, delivers webhooks, prunes data.
    # Run it on one replica only when several serve one database.
    run_sweeper: bool = True
    sweep_interval_s: float = 10.0
    retention_interval_s: float = 3600.0
    # A command handed out but not acknowledged is handed out again after this long.
    command_resend_s: float = 120.0
    max_body_bytes: int = 64 * 1024
    # Group commit: a batch holds at most this many beats; `commit_workers` batches in flight.
    batch_max: int = 1000
    commit_workers: int = 2
    # PostgreSQL batch write: "statement" (one statement per batch), "copy" or "executemany";
    # bench/fleet_heartbeats.py compares them.
    pg_insert: str = "statement"
    # Bench-only routes: a no-op heartbeat endpoint (signed and unsigned) validating the same body.
    bench_routes: bool = False
    # Read by fleet.dashboard (docs/dashboard.md); here so that FLEET_DASHBOARD_* configures them.
    dashboard_secret: str = ""
    dashboard_timezone: str = "Asia/Shanghai"
    dashboard_session_s: float = 8 * 3600
    dashboard_page_size: int = 50
    dashboard_summary_cache_s: float = 15.0
    dashboard_cookie_secure: bool = False
    clock: Callable[[], datetime] = field(default=now)

    @property
    def offline_after_s(self) -> float:
        return self.heartbeat_s * self.offline_after_missed

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> FleetSettings:
        """Defaults, overridden by `FLEET_<FIELD>` variables (e.g. FLEET_WEBHOOK_URL=...)."""
        settings = cls()
        for f in fields(cls):
            raw = environ.get(f"FLEET_{f.name.upper()}")
            if raw is None or f.name == "clock":
                continue
            current = getattr(settings, f.name)
            try:
                if isinstance(current, bool):
                    if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
                        raise ValueError(raw)
                    value: object = raw.lower() in ("1", "true", "yes")
                else:
                    value = type(current)(raw)
            except ValueError:
                raise ValueError(
                    f"FLEET_{f.name.upper()}: not a valid {type(current).__name__}"
                ) from None
            setattr(settings, f.name, value)
        return settings

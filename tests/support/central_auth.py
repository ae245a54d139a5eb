"""Central's kiosk gate for tests that are about something else: limits no test reaches."""

from __future__ import annotations

from central.auth import AuthSettings

UNLIMITED = AuthSettings(identity_limits="1000000/minute", rating_limits="1000000/minute")

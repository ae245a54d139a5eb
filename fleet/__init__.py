"""Fleet monitoring server: kiosks' heartbeats and events, alerts, remote commands, a dashboard."""

__version__ = "0.1.0"

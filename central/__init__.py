"""Reference implementation of the central service API (for development, tests, demos).

The kiosk talks to it over HTTP only (`kiosk/central.py`); nothing in `kiosk/` imports this package.
Entry points: `central.app.create_app` (the FastAPI app) and `central.server` (run it).
"""

__version__ = "0.1.0"

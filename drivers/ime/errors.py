"""Errors of the input engines: one class the kiosk can catch to hide a keyboard layout."""

from __future__ import annotations


class ImeUnavailable(RuntimeError):
    """An input engine cannot run here: its library, its data or its model is missing."""

"""Loading each module's .kv file (kept beside its .py) exactly once."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

_loaded: set[Path] = set()


def load_kv(module_file: str) -> None:
    """Load the .kv beside `module_file`; loading twice would apply its rules twice."""
    path = Path(module_file).with_suffix(".kv")
    if path in _loaded:
        return
    Builder.load_file(str(path))
    _loaded.add(path)

"""Placing pictures: plain arithmetic, importable from .kv rules without import cycles."""

from __future__ import annotations


def fitted(
    box: tuple[float, float, float, float], content: tuple[float, float]
) -> tuple[float, float, float, float]:
    """`content` (width, height) scaled to fit `box` (x, y, w, h), centred: (x, y, w, h)."""
    x, y, w, h = box
    cw, ch = content
    if cw <= 0 or ch <= 0 or w <= 0 or h <= 0:
        return x, y, max(w, 0), max(h, 0)
    scale = min(w / cw, h / ch)
    fw, fh = cw * scale, ch * scale
    return x + (w - fw) / 2, y + (h - fh) / 2, fw, fh

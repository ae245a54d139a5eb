"""What every `kiosk diag` command shares."""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Iterator
from typing import TextIO

from kiosk.privacy import RedactingFilter


@contextlib.contextmanager
def driver_logging(logger_name: str, args: argparse.Namespace, err: TextIO) -> Iterator[None]:
    """Show a driver's log on stderr with ``--trace``; leave it to ``kiosk -v``; else mute it.

    A diag command reports a failure itself in one line, so the driver's own warning about the
    same failure would only repeat it.
    """
    logger = logging.getLogger(logger_name)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    if getattr(args, "trace", False):
        handler = logging.StreamHandler(err)
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    elif not getattr(args, "verbose", False):
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers[:] = saved[2]


def display_width(text: str) -> int:
    """Terminal columns `text` takes: CJK characters take two."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)

"""`kiosk fleet serve` keeps the garbage collector off the ingest path (fleet.server.tune_gc)."""

from __future__ import annotations

import gc

from fleet.server import GC_GEN0_THRESHOLD, tune_gc


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_freeze_count() > 1000  # the app's modules, routes and models
        assert gc.get_threshold()[0] == GC_GEN0_THRESHOLD > before[0]
        assert gc.isenabled()  # tuned, never switched off: cycles are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)

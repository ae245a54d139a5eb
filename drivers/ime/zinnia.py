"""The libzinnia C API (Debian `libzinnia0`) through ctypes: recognizer, character, trainer.

Debian ships no Python binding for zinnia, so the handful of functions of zinnia.h that the
handwriting engine and its model builder use are declared here, with their argument types, and
wrapped in small classes that free their C objects. Nothing here is thread-safe on its own:
callers hold a lock around a recognizer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Sequence
from functools import cache

from drivers.ime.errors import ImeUnavailable

_p = ctypes.c_void_p


@cache
def library() -> ctypes.CDLL:
    """libzinnia with its functions typed; raises ImeUnavailable when it is not installed."""
    name = ctypes.util.find_library("zinnia") or "libzinnia.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise ImeUnavailable(f"libzinnia not found ({exc}); install libzinnia0") from exc
    signatures: dict[str, tuple[object, list[object]]] = {
        "zinnia_recognizer_new": (_p, []),
        "zinnia_recognizer_destroy": (None, [_p]),
        "zinnia_recognizer_open": (ctypes.c_int, [_p, ctypes.c_char_p]),
        "zinnia_recognizer_strerror": (ctypes.c_char_p, [_p]),
        "zinnia_recognizer_size": (ctypes.c_size_t, [_p]),
        "zinnia_recognizer_value": (ctypes.c_char_p, [_p, ctypes.c_size_t]),
        "zinnia_recognizer_classify": (_p, [_p, _p, ctypes.c_size_t]),
        "zinnia_result_value": (ctypes.c_char_p, [_p, ctypes.c_size_t]),
        "zinnia_result_score": (ctypes.c_float, [_p, ctypes.c_size_t]),
        "zinnia_result_size": (ctypes.c_size_t, [_p]),
        "zinnia_result_destroy": (None, [_p]),
        "zinnia_character_new": (_p, []),
        "zinnia_character_destroy": (None, [_p]),
        "zinnia_character_set_value": (None, [_p, ctypes.c_char_p]),
        "zinnia_character_set_width": (None, [_p, ctypes.c_size_t]),
        "zinnia_character_set_height": (None, [_p, ctypes.c_size_t]),
        "zinnia_character_clear": (None, [_p]),
        "zinnia_character_add": (ctypes.c_int, [_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int]),
        "zinnia_trainer_new": (_p, []),
        "zinnia_trainer_destroy": (None, [_p]),
        "zinnia_trainer_add": (ctypes.c_int, [_p, _p]),
        "zinnia_trainer_train": (ctypes.c_int, [_p, ctypes.c_char_p]),
        "zinnia_trainer_strerror": (ctypes.c_char_p, [_p]),
    }
    for fname, (restype, argtypes) in signatures.items():
        func = getattr(lib, fname)
        func.restype = restype
        func.argtypes = argtypes
    return lib


Stroke = Sequence[tuple[int, int]]


class Character:
    """A zinnia character: strokes of integer points in a width x height box."""

    def __init__(self, width: int, height: int, strokes: Sequence[Stroke], value: str = "") -> None:
        self._lib = library()
        self.handle = self._lib.zinnia_character_new()
        if not self.handle:
            raise MemoryError("zinnia_character_new failed")
        self._lib.zinnia_character_set_width(self.handle, width)
        self._lib.zinnia_character_set_height(self.handle, height)
        if value:
            self._lib.zinnia_character_set_value(self.handle, value.encode("utf-8"))
        for index, stroke in enumerate(strokes):
            for x, y in stroke:
                self._lib.zinnia_character_add(self.handle, index, int(x), int(y))

    def close(self) -> None:
        if self.handle:
            self._lib.zinnia_character_destroy(self.handle)
            self.handle = None

    def __enter__(self) -> Character:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Recognizer:
    """One opened zinnia model."""

    def __init__(self, model_path: str) -> None:
        self._lib = library()
        self.handle = self._lib.zinnia_recognizer_new()
        if not self.handle:
            raise MemoryError("zinnia_recognizer_new failed")
        if not self._lib.zinnia_recognizer_open(self.handle, model_path.encode()):
            reason = (self._lib.zinnia_recognizer_strerror(self.handle) or b"").decode(
                "utf-8", "replace"
            )
            self.close()
            raise ImeUnavailable(f"zinnia model {model_path} unusable: {reason}")

    def labels(self) -> list[str]:
        """Every character the model knows."""
        size = self._lib.zinnia_recognizer_size(self.handle)
        values = (self._lib.zinnia_recognizer_value(self.handle, i) for i in range(size))
        return [v.decode("utf-8", "replace") for v in values if v]

    def classify(self, character: Character, nbest: int) -> list[tuple[str, float]]:
        result = self._lib.zinnia_recognizer_classify(self.handle, character.handle, nbest)
        if not result:
            return []
        try:
            size = self._lib.zinnia_result_size(result)
            return [
                (
                    (self._lib.zinnia_result_value(result, i) or b"").decode("utf-8", "replace"),
                    float(self._lib.zinnia_result_score(result, i)),
                )
                for i in range(size)
            ]
        finally:
            self._lib.zinnia_result_destroy(result)

    def close(self) -> None:
        if self.handle:
            self._lib.zinnia_recognizer_destroy(self.handle)
            self.handle = None


def train(samples: Sequence[tuple[str, int, int, Sequence[Stroke]]], model_path: str) -> None:
    """Train a zinnia model from (value, width, height, strokes) samples into `model_path`."""
    lib = library()
    trainer = lib.zinnia_trainer_new()
    try:
        for value, width, height, strokes in samples:
            with Character(width, height, strokes, value) as character:
                if not lib.zinnia_trainer_add(trainer, character.handle):
                    raise ValueError(f"zinnia rejected a training sample of {value!r}")
        if not lib.zinnia_trainer_train(trainer, model_path.encode()):
            reason = (lib.zinnia_trainer_strerror(trainer) or b"").decode("utf-8", "replace")
            raise RuntimeError(f"zinnia training failed: {reason}")
    finally:
        lib.zinnia_trainer_destroy(trainer)

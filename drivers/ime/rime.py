"""Pinyin candidates from librime (Debian `librime1` + `rime-data-pinyin-simp`), through ctypes.

Kivy has no input method on Linux, so the kiosk's on-screen pinyin keyboard asks librime for
the characters of what was typed. Debian ships no Python binding, so this module declares the
few C structures it needs and calls librime through the versioned `RimeApi` table that
`rime_get_api()` returns (the table only grows between versions; its `data_size` says how far
it reaches, which is checked before use).

librime keeps global state (one set of directories per process), so it is set up once per
process; each `PinyinEngine` then owns one session, guarded by a lock. Candidates are only read,
never committed, and the user dictionary is switched off: what one resident types must neither
be remembered nor reorder the candidates the next resident sees.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import re
import threading
from pathlib import Path

from drivers.ime.errors import ImeUnavailable

log = logging.getLogger(__name__)

SHARED_DATA_DIR = Path("/usr/share/rime-data")
SCHEMA_ID = "pinyin_simp"
MAX_PINYIN_LENGTH = 48  # a long name typed syllable by syllable; beyond this is not typing
MAX_CANDIDATES = 1000  # one letter ("y") matches hundreds; never walk further than this
_PINYIN = re.compile(r"[a-z']+")

# Written into the user directory before deployment. The patch switches learning off: a kiosk
# is shared, so typed names must leave no trace. Debian ships no default.yaml or symbols.yaml,
# which the schema imports presets from; minimal ones let librime compile the patched schema.
_USER_FILES = {
    f"{SCHEMA_ID}.custom.yaml": """\
patch:
  translator/enable_user_dict: false
""",
    "default.yaml": f"""\
config_version: "kiosk.1"
schema_list:
  - schema: {SCHEMA_ID}
ascii_composer:
  switch_key: {{}}
key_binder:
  bindings: []
recognizer:
  patterns: {{}}
punctuator:
  full_shape: {{}}
  half_shape: {{}}
  symbols: {{}}
""",
    "symbols.yaml": """\
config_version: "kiosk.1"
punctuator:
  full_shape: {}
  half_shape: {}
  symbols: {}
""",
}

_Bool = ctypes.c_int
_SessionId = ctypes.c_size_t  # uintptr_t


class _Traits(ctypes.Structure):
    _fields_ = [
        ("data_size", ctypes.c_int),
        ("shared_data_dir", ctypes.c_char_p),
        ("user_data_dir", ctypes.c_char_p),
        ("distribution_name", ctypes.c_char_p),
        ("distribution_code_name", ctypes.c_char_p),
        ("distribution_version", ctypes.c_char_p),
        ("app_name", ctypes.c_char_p),
        ("modules", ctypes.POINTER(ctypes.c_char_p)),
        ("min_log_level", ctypes.c_int),
        ("log_dir", ctypes.c_char_p),
        ("prebuilt_data_dir", ctypes.c_char_p),
        ("staging_dir", ctypes.c_char_p),
    ]


class _Candidate(ctypes.Structure):
    _fields_ = [
        ("text", ctypes.c_char_p),
        ("comment", ctypes.c_char_p),
        ("reserved", ctypes.c_void_p),
    ]


class _CandidateIterator(ctypes.Structure):
    _fields_ = [
        ("ptr", ctypes.c_void_p),
        ("index", ctypes.c_int),
        ("candidate", _Candidate),
    ]


_fn = ctypes.CFUNCTYPE
_P = ctypes.c_void_p  # a function slot we never call
_TraitsP = ctypes.POINTER(_Traits)
_IterP = ctypes.POINTER(_CandidateIterator)


class _Api(ctypes.Structure):
    """The head of `RimeApi` (rime_api.h), up to the last slot this module uses."""

    _fields_ = [
        ("data_size", ctypes.c_int),
        ("setup", _fn(None, _TraitsP)),
        ("set_notification_handler", _P),
        ("initialize", _fn(None, _TraitsP)),
        ("finalize", _fn(None)),
        ("start_maintenance", _fn(_Bool, _Bool)),
        ("is_maintenance_mode", _fn(_Bool)),
        ("join_maintenance_thread", _fn(None)),
        ("deployer_initialize", _P),
        ("prebuild", _P),
        ("deploy", _P),
        ("deploy_schema", _P),
        ("deploy_config_file", _P),
        ("sync_user_data", _P),
        ("create_session", _fn(_SessionId)),
        ("find_session", _fn(_Bool, _SessionId)),
        ("destroy_session", _fn(_Bool, _SessionId)),
        ("cleanup_stale_sessions", _P),
        ("cleanup_all_sessions", _P),
        ("process_key", _fn(_Bool, _SessionId, ctypes.c_int, ctypes.c_int)),
        ("commit_composition", _P),
        ("clear_composition", _fn(None, _SessionId)),
        ("get_commit", _P),
        ("free_commit", _P),
        ("get_context", _P),
        ("free_context", _P),
        ("get_status", _P),
        ("free_status", _P),
        ("set_option", _fn(None, _SessionId, ctypes.c_char_p, _Bool)),
        ("get_option", _P),
        ("set_property", _P),
        ("get_property", _P),
        ("get_schema_list", _P),
        ("free_schema_list", _P),
        ("get_current_schema", _fn(_Bool, _SessionId, ctypes.c_char_p, ctypes.c_size_t)),
        ("select_schema", _fn(_Bool, _SessionId, ctypes.c_char_p)),
        ("schema_open", _P),
        ("config_open", _P),
        ("config_close", _P),
        ("config_get_bool", _P),
        ("config_get_int", _P),
        ("config_get_double", _P),
        ("config_get_string", _P),
        ("config_get_cstring", _P),
        ("config_update_signature", _P),
        ("config_begin_map", _P),
        ("config_next", _P),
        ("config_end", _P),
        ("simulate_key_sequence", _fn(_Bool, _SessionId, ctypes.c_char_p)),
        ("register_module", _P),
        ("find_module", _P),
        ("run_task", _P),
        ("get_shared_data_dir", _P),
        ("get_user_data_dir", _P),
        ("get_sync_dir", _P),
        ("get_user_id", _P),
        ("get_user_data_sync_dir", _P),
        ("config_init", _P),
        ("config_load_string", _P),
        ("config_set_bool", _P),
        ("config_set_int", _P),
        ("config_set_double", _P),
        ("config_set_string", _P),
        ("config_get_item", _P),
        ("config_set_item", _P),
        ("config_clear", _P),
        ("config_create_list", _P),
        ("config_create_map", _P),
        ("config_list_size", _P),
        ("config_begin_list", _P),
        ("get_input", _fn(ctypes.c_char_p, _SessionId)),
        ("get_caret_pos", _P),
        ("select_candidate", _P),
        ("get_version", _fn(ctypes.c_char_p)),
        ("set_caret_pos", _P),
        ("select_candidate_on_current_page", _P),
        ("candidate_list_begin", _fn(_Bool, _SessionId, _IterP)),
        ("candidate_list_next", _fn(_Bool, _IterP)),
        ("candidate_list_end", _fn(None, _IterP)),
    ]


def validate_pinyin(pinyin: str) -> str:
    """`pinyin` lower-cased if it is something a person can type on the pinyin layout.

    Raises ValueError otherwise: only a-z and the syllable separator ', at most
    `MAX_PINYIN_LENGTH` characters, not starting with a separator.
    """
    if not isinstance(pinyin, str):
        raise ValueError("pinyin must be a string")
    text = pinyin.lower()
    if len(text) > MAX_PINYIN_LENGTH:
        raise ValueError(f"pinyin longer than {MAX_PINYIN_LENGTH} characters")
    if text and (not _PINYIN.fullmatch(text) or text.startswith("'")):
        raise ValueError("pinyin may hold only the letters a-z and the separator '")
    return text


def _load_library() -> ctypes.CDLL:
    name = ctypes.util.find_library("rime") or "librime.so.1"
    try:
        return ctypes.CDLL(name)
    except OSError as exc:
        raise ImeUnavailable(f"librime not found ({exc}); install librime1") from exc


class _Runtime:
    """librime's process-wide state: set up once, deployed into one user directory."""

    def __init__(self, user_dir: Path, shared_dir: Path) -> None:
        self.user_dir = user_dir
        self.shared_dir = shared_dir
        self._lib = _load_library()
        get_api = self._lib.rime_get_api
        get_api.restype = ctypes.POINTER(_Api)
        api_ptr = get_api()
        if not api_ptr:
            raise ImeUnavailable("librime returned no API table")
        self.api = api_ptr.contents
        needed = _Api.candidate_list_end.offset + ctypes.sizeof(ctypes.c_void_p)
        # data_size counts the bytes after the data_size member itself (RIME_STRUCT_INIT).
        if self.api.data_size + ctypes.sizeof(ctypes.c_int) < needed:
            raise ImeUnavailable("librime is too old: no candidate list API")
        self.version = (self.api.get_version() or b"?").decode()
        # The traits' strings must outlive setup: librime keeps the pointers.
        self._keep = [str(user_dir).encode(), str(shared_dir).encode(), b"rime.kiosk"]
        traits = _Traits()
        traits.data_size = ctypes.sizeof(_Traits) - ctypes.sizeof(ctypes.c_int)
        traits.shared_data_dir = self._keep[1]
        traits.user_data_dir = self._keep[0]
        traits.distribution_name = b"kiosk"
        traits.distribution_code_name = b"kiosk"
        traits.distribution_version = b"1"
        traits.app_name = self._keep[2]
        traits.min_log_level = 2  # errors only: INFO lines would echo what residents type
        traits.log_dir = b""  # stderr, never files under the user directory
        self._traits = traits
        self.api.setup(ctypes.byref(traits))
        self.api.initialize(ctypes.byref(traits))
        # Deploys the schema (with our patch) into user_dir/build; quick when up to date.
        if self.api.start_maintenance(1):
            self.api.join_maintenance_thread()
        log.info("librime %s ready", self.version)


_runtime: _Runtime | None = None
_runtime_lock = threading.Lock()


def _get_runtime(user_dir: Path, shared_dir: Path) -> _Runtime:
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            if not (shared_dir / f"{SCHEMA_ID}.schema.yaml").exists():
                raise ImeUnavailable(
                    f"rime schema {SCHEMA_ID} not in {shared_dir}; install rime-data-pinyin-simp"
                )
            try:
                user_dir.mkdir(parents=True, exist_ok=True)
                for name, content in _USER_FILES.items():
                    path = user_dir / name
                    if not path.exists() or path.read_text("utf-8") != content:
                        path.write_text(content, "utf-8")
            except OSError as exc:
                raise ImeUnavailable(f"rime user directory not writable: {exc}") from exc
            _runtime = _Runtime(user_dir, shared_dir)
        elif _runtime.user_dir != user_dir or _runtime.shared_dir != shared_dir:
            # librime holds one set of directories per process.
            raise ImeUnavailable(f"librime already set up with user directory {_runtime.user_dir}")
        return _runtime


class PinyinEngine:
    """Candidates for typed pinyin, from one librime session (thread-safe).

        engine = PinyinEngine(Path("var/rime"))
        engine.candidates("li", limit=8, single_chars=True)   # ['李', '里', '理', ...]

    Raises `ImeUnavailable` when librime or its pinyin data is missing.
    """

    def __init__(self, user_dir: Path | str, *, shared_dir: Path | str = SHARED_DATA_DIR) -> None:
        self._runtime = _get_runtime(Path(user_dir).resolve(), Path(shared_dir))
        self._api = self._runtime.api
        self._lock = threading.Lock()
        self._session = 0
        self._open_session()

    @property
    def version(self) -> str:
        """librime's version, e.g. '1.8.5'."""
        return self._runtime.version

    def _open_session(self) -> None:
        session = self._api.create_session()
        if not session:
            raise ImeUnavailable("librime could not create a session")
        if not self._api.select_schema(session, SCHEMA_ID.encode()):
            self._api.destroy_session(session)
            raise ImeUnavailable(f"librime could not load schema {SCHEMA_ID}")
        # Always Chinese, whatever a previous user of the process toggled.
        self._api.set_option(session, b"ascii_mode", 0)
        self._session = session

    def candidates(
        self, pinyin: str, *, limit: int | None = None, single_chars: bool = False
    ) -> list[str]:
        """What librime offers for `pinyin`, best first (at most `limit`).

        `single_chars=True` keeps only one-character candidates: names are entered one
        character at a time. An empty string gives []; malformed input raises ValueError.
        """
        text = validate_pinyin(pinyin)
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        if not text or limit == 0:
            return []
        with self._lock:
            if not self._api.find_session(self._session):
                self._open_session()  # librime dropped it (e.g. cleaned up): start again
            return self._read_candidates(text, limit, single_chars)

    def _read_candidates(self, text: str, limit: int | None, single_chars: bool) -> list[str]:
        api, session = self._api, self._session
        api.clear_composition(session)
        try:
            if not api.simulate_key_sequence(session, text.encode("ascii")):
                return []
            found: list[str] = []
            seen: set[str] = set()
            iterator = _CandidateIterator()
            if not api.candidate_list_begin(session, ctypes.byref(iterator)):
                return []
            try:
                walked = 0
                while api.candidate_list_next(ctypes.byref(iterator)):
                    walked += 1
                    raw = iterator.candidate.text
                    word = raw.decode("utf-8", "replace") if raw else ""
                    if word and word not in seen and (not single_chars or len(word) == 1):
                        seen.add(word)
                        found.append(word)
                        if limit is not None and len(found) >= limit:
                            break
                    if walked >= MAX_CANDIDATES:
                        break
            finally:
                api.candidate_list_end(ctypes.byref(iterator))
            return found
        finally:
            api.clear_composition(session)

    def close(self) -> None:
        """End this engine's session (librime itself stays up for the process)."""
        with self._lock:
            if self._session:
                self._api.destroy_session(self._session)
                self._session = 0

    def __enter__(self) -> PinyinEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Typed, validated configuration: one YAML file, checked at start, errors name the bad key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from drivers.url import DeviceUrlError, parse_device_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config" / "default.yaml"


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_device_url(value: str) -> str:
    try:
        parse_device_url(value)
    except DeviceUrlError as exc:
        raise ValueError(str(exc)) from None
    return value


class DeviceConfig(_Strict):
    """One device: where it is, and whether the kiosk needs it."""

    url: str
    enabled: bool = True
    baud: int | None = Field(default=None, gt=0)
    timeout_s: float = Field(default=3.0, gt=0)
    options: dict[str, Any] = Field(default_factory=dict)  # passed to the driver's factory

    _url_ok = field_validator("url")(_check_device_url)


class DevicesConfig(_Strict):
    """Every device the kiosk may have, by its role; a disabled one counts as absent."""

    idcard: DeviceConfig = DeviceConfig(url="sim://")
    receipt_printer: DeviceConfig = DeviceConfig(url="sim://")
    document_printer: DeviceConfig = DeviceConfig(url="cups://kiosk-a4", enabled=False)
    smartcard: DeviceConfig = DeviceConfig(url="pcsc://", enabled=False)
    qr_scanner: DeviceConfig = DeviceConfig(url="serial:///dev/ttyACM0", enabled=False)
    camera: DeviceConfig = DeviceConfig(url="v4l2:///dev/video0", enabled=False)

    def enabled(self) -> dict[str, DeviceConfig]:
        """The devices this kiosk has, by role."""
        return {name: cfg for name, cfg in self if cfg.enabled}


class CentralConfig(_Strict):
    """`embedded` starts the reference central service on loopback; otherwise an http(s) URL."""

    url: str = "embedded"
    timeout_s: float = Field(default=5.0, gt=0)
    embedded_db: str = "sqlite:///var/central.db"
    # How often the cached catalogue is revalidated (ETag), and how soon after a failure.
    catalogue_refresh_s: float = Field(default=900, gt=0)
    retry_s: float = Field(default=20, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value != "embedded" and not value.startswith(("http://", "https://")):
            raise ValueError("must be 'embedded' or an http(s):// URL")
        return value


class TimeoutsConfig(_Strict):
    """Seconds of inactivity before a screen returns to the start and wipes the session."""

    default_s: float = Field(default=90, gt=0)
    await_card_s: float = Field(default=60, gt=0)
    guide_s: float = Field(default=180, gt=0)
    rating_s: float = Field(default=45, gt=0)
    thanks_s: float = Field(default=8, gt=0)
    warning_s: float = Field(default=15, ge=0)


class UiConfig(_Strict):
    language: Literal["zh_CN", "en"] = "zh_CN"
    large_text: bool = False
    fullscreen: bool = True
    width: int = Field(default=1080, gt=0)
    height: int = Field(default=1920, gt=0)
    # The panel's diagonal, for its DPI: 长辈模式 sizes touch targets in millimetres.
    screen_diagonal_in: float = Field(default=21.5, gt=0, le=100)  # a typical hall kiosk
    timeouts: TimeoutsConfig = TimeoutsConfig()

    @property
    def dpi(self) -> float:
        """Pixels per inch of the configured panel, from its size in pixels and its diagonal."""
        return float((self.width**2 + self.height**2) ** 0.5 / self.screen_diagonal_in)


class StoreConfig(_Strict):
    url: str = "sqlite:///var/kiosk.db"
    outbox_key_file: str = "var/outbox.key"


class SpeechConfig(_Strict):
    """The voice of 长辈模式: where prompts are played, and how fast espeak-ng speaks."""

    # alsa://default or pulse:// on a kiosk; dir://FOLDER writes each prompt as a WAV (the
    # simulated hall); null:// is silent.
    output: str = "null://"
    speed: int = Field(default=130, ge=80, le=260)  # words a minute; slower for the elderly
    cache_dir: str = "var/speech-cache"  # fixed prompts are synthesized once, then replayed


class SimulationConfig(_Strict):
    """The embedded default's simulated hall (`sim://` devices); ignored for real devices."""

    demo_hand: bool = True  # lays the demo ID card on the reader when the kiosk asks
    demo_phone: bool = False  # shows an e-ID code to the scanner, taking turns with the hand
    demo_person: str = Field(default="BJ1101000002", min_length=1, max_length=50)
    printed_dir: str = "var/printed"  # the simulated A4 printer's output (PDFs)
    receipts_dir: str = "var/receipts"  # the simulated receipt printer's output (PNGs)


class FleetConfig(_Strict):
    """Telemetry for fleet monitoring (docs/telemetry.md): heartbeats, events, local metrics."""

    url: str = ""  # the fleet server's base URL (https://fleet.example/api/v1); "" = fleet off
    heartbeat_s: float = Field(default=30, ge=1, le=3600)
    timeout_s: float = Field(default=5.0, gt=0)
    # Prometheus /metrics on the kiosk itself, loopback only (a local agent scrapes it); 0 = off
    metrics_port: int = Field(default=9108, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"

    @field_validator("url")
    @classmethod
    def _fleet_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be empty (fleet off) or an http(s):// URL")
        return value.rstrip("/")

    @field_validator("metrics_host")
    @classmethod
    def _loopback(cls, value: str) -> str:
        from ipaddress import ip_address

        try:
            loopback = value == "localhost" or ip_address(value).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError("metrics are served on loopback only (127.0.0.1, ::1 or localhost)")
        return value


class CredentialsConfig(_Strict):
    """This kiosk's identity towards central and the fleet (docs/trust.md)."""

    # Ed25519 private key, PEM, mode 0600, outside the database; relative paths under var/.
    # The embedded default creates it at first start; a site makes it with `kiosk keys new`.
    key_file: str = "var/kiosk-key.pem"


class MaintenanceConfig(_Strict):
    """The technicians' menu (docs/maintenance.md): how they sign in, and when the kiosk is out
    of service."""

    # The technician PIN as an argon2 hash only, in a root-readable file (mode 0600), written by
    # `kiosk maintenance set-pin`; no file: technician cards only.
    pin_file: str = "var/maintenance-pin"
    # Technicians' public keys (registry format of kiosk.staff); "" = the entries of
    # `staff_registry` whose role is technician.
    technician_registry: str = ""
    # Out of service by itself while one of these devices is not usable (e.g. [idcard]).
    required_devices: tuple[str, ...] = ()
    # Where residents are sent while the kiosk is out of service (Chinese; English optional).
    nearest_window: str = "请到大厅人工服务窗口办理"
    nearest_window_en: str = "Please go to a staffed service window in the hall"
    # Back to the resident side (and signed out) after this long without a touch.
    idle_timeout_s: float = Field(default=120, gt=0)
    long_press_s: float = Field(default=3.0, gt=0, le=10)
    # PIN failures: these many are free, then a wait that doubles from base up to the cap.
    free_tries: int = Field(default=3, ge=1, le=10)
    lockout_base_s: float = Field(default=30, gt=0)
    lockout_max_s: float = Field(default=900, gt=0)

    @field_validator("required_devices")
    @classmethod
    def _known_devices(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(DevicesConfig.model_fields))
        if unknown:
            raise ValueError(f"unknown device(s) {', '.join(unknown)}")
        return value


class KioskConfig(_Strict):
    """The whole configuration of one kiosk."""

    kiosk_id: str = Field(default="KIOSK-DEV-001", min_length=1, max_length=64)
    site_name: str = "政务服务中心 自助办理区"
    site_name_en: str = ""  # shown in English mode; the Chinese name when empty
    timezone: str = "Asia/Shanghai"
    # Staff cards that may sign in to help a resident (帮办): public keys, same format as the
    # technician registry; empty: 帮办 by card is off.
    staff_registry: str = ""
    central: CentralConfig = CentralConfig()
    devices: DevicesConfig = DevicesConfig()
    ui: UiConfig = UiConfig()
    speech: SpeechConfig = SpeechConfig()
    store: StoreConfig = StoreConfig()
    simulation: SimulationConfig = SimulationConfig()
    maintenance: MaintenanceConfig = MaintenanceConfig()
    fleet: FleetConfig = FleetConfig()
    credentials: CredentialsConfig = CredentialsConfig()
    # The file this configuration was read from (None: the packaged default); for reloading.
    _source_path: Path | None = PrivateAttr(default=None)

    @property
    def source_path(self) -> Path | None:
        return self._source_path

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value


def _format_errors(source: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{source}: {key}: {err['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "config") -> KioskConfig:
    """Validate already-loaded configuration data."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: the top level must be a mapping of keys, not {type(data).__name__}"
        )
    try:
        return KioskConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(source, exc)) from None


def load_config(path: str | Path | None = None) -> KioskConfig:
    """Load a YAML config file, or the packaged default when `path` is None."""
    if path is None:
        text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
        source = str(DEFAULT_CONFIG_PATH)
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    config = parse_config(data, source)
    config._source_path = None if path is None else Path(path)
    return config

"""The device manager: builds drivers from config, runs each in its own supervised thread.

Each device is driven through the uniform face in docs/DEVICES.md (open, close, status, and poll
for input devices). A supervisor opens its device with back-off, polls it, turns driver input into
kiosk events, publishes `DeviceStatus` changes (logged once when a device breaks and once when it
recovers), and reopens it after an unplug, so a device that comes back is usable without a restart.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from drivers.state import DeviceState, DeviceStatus
from kiosk.availability import Function, available_functions
from kiosk.events import DeviceChanged, DeviceInput, Event

log = logging.getLogger(__name__)

# Driver factories by device name, imported only when configured, so a kiosk without a camera
# does not need OpenCV's camera code loaded (and a missing optional package fails only its device).
FACTORIES: dict[str, str] = {
    "idcard": "drivers.idcard:open_idcard_reader",
    "receipt_printer": "drivers.printer:open_receipt_printer",
    "document_printer": "drivers.docprinter:open_document_printer",
    "smartcard": "drivers.smartcard:open_smartcard",
    "qr_scanner": "drivers.qr:open_qr_scanner",
    "camera": "drivers.camera:open_camera",
}


def load_factory(path: str) -> Callable[..., Any]:
    """`package.module:function` to the function."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class DeviceSpec:
    """One configured device: its name (its role in the kiosk), URL and driver options."""

    name: str
    url: str
    options: dict[str, Any]
    factory: Callable[..., Any]


class Supervisor:
    """Runs one device in its own thread; never dies, whatever the driver does."""

    def __init__(
        self,
        spec: DeviceSpec,
        post: Callable[[Event], None],
        *,
        status_interval_s: float = 5.0,
        poll_s: float = 0.3,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.spec = spec
        self._post = post
        self._status_interval_s = status_interval_s
        self._poll_s = poll_s
        self._max_backoff_s = max_backoff_s
        self._stop = threading.Event()
        # Held while the supervisor talks to the device, and by `use()` for jobs (a print), so a
        # status query never interleaves with a job on the same wire.
        self._lock = threading.RLock()
        self._device: Any = None
        self._opened = False
        self.status = DeviceStatus(DeviceState.OFFLINE, "starting")
        self._status_lock = threading.Lock()  # jobs and the supervisor both publish
        self._thread = threading.Thread(target=self._run, name=f"device-{spec.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        with self._lock:
            self._close()

    @contextlib.contextmanager
    def use(self) -> Iterator[Any]:
        """The open device, for a job; raises `DeviceUnavailable` when it is not usable now."""
        with self._lock:
            if not self._opened or self._device is None:
                raise DeviceUnavailable(self.spec.name, self.status)
            try:
                yield self._device
            finally:
                # a job is the freshest news of a device (paper ran out, it went away)
                self._publish(self._safe_status())

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                with self._lock:
                    self._open()
                    opened = self._device.status()
                self._serve(opened)
                backoff = 1.0
            except Exception as exc:  # drivers raise their own trees; all mean "not usable now"
                self._publish(_failure_status(exc))
                with self._lock:
                    self._close()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)

    def _serve(self, opened: DeviceStatus) -> None:
        polls = hasattr(self._device, "poll")
        if not polls:
            self._publish(opened)
        next_status = time.monotonic() + self._status_interval_s
        while not self._stop.is_set():
            if polls:
                with self._lock:
                    inputs = self._device.poll(self._poll_s)
                # Announced only once it has really worked, so a device that opens and then
                # fails at once does not flap between online and broken in the logs.
                self._publish(opened)
                for item in inputs:
                    self._post(DeviceInput(self.spec.name, item))
            else:
                self._stop.wait(max(0.0, next_status - time.monotonic()))
            if time.monotonic() >= next_status:
                with self._lock:
                    opened = self._device.status()
                self._publish(opened)
                next_status = time.monotonic() + self._status_interval_s

    def _open(self) -> None:
        if self._device is None:
            self._device = self.spec.factory(self.spec.url, **self.spec.options)
        self._device.open()
        self._opened = True

    def _close(self) -> None:
        if self._device is not None and self._opened:
            with contextlib.suppress(Exception):
                self._device.close()
        self._opened = False

    def _safe_status(self) -> DeviceStatus:
        try:
            return self._device.status()  # type: ignore[no-any-return]
        except Exception as exc:
            return _failure_status(exc)

    def _publish(self, status: DeviceStatus) -> None:
        with self._status_lock:
            previous, self.status = self.status, status
        if status == previous:
            return
        # The log says when a device breaks or comes back; new details of the same state (a SAM
        # id read, a paper count) go to the core but are not news for the log.
        changed = (status.state, status.usable, status.reason) != (
            previous.state,
            previous.usable,
            previous.reason,
        )
        if changed and status.state is DeviceState.ONLINE and status.usable:
            log.info("%s is %s", self.spec.name, status.state.value)
        elif changed:
            log.warning("%s is %s: %s", self.spec.name, status.state.value, status.reason)
        self._post(DeviceChanged(self.spec.name, status))


def _failure_status(exc: Exception) -> DeviceStatus:
    # docs/DEVICES.md: a family's `...UnavailableError` / `...Offline` (and their subclasses,
    # such as a printer timeout) means "not there now"; anything else is a fault
    names = [cls.__name__ for cls in type(exc).__mro__]
    unavailable = isinstance(exc, OSError) or any(
        marker in name for name in names for marker in ("Unavailable", "Offline")
    )
    state = DeviceState.OFFLINE if unavailable else DeviceState.HARDWARE_ERROR
    return DeviceStatus(state, f"{type(exc).__name__}: {exc}"[:200])


class DeviceUnavailable(Exception):
    """A job asked for a device that is not usable now."""

    def __init__(self, name: str, status: DeviceStatus) -> None:
        super().__init__(f"{name} is {status.state.value}: {status.reason}")
        self.name = name
        self.status = status


class DeviceManager:
    """All configured devices, supervised; answers which kiosk functions are available now."""

    def __init__(
        self, specs: list[DeviceSpec], post: Callable[[Event], None], **supervisor_options: Any
    ) -> None:
        self._supervisors = {
            spec.name: Supervisor(spec, post, **supervisor_options) for spec in specs
        }

    def start(self) -> None:
        for supervisor in self._supervisors.values():
            supervisor.start()

    def stop(self) -> None:
        for supervisor in self._supervisors.values():
            supervisor.stop()

    def names(self) -> list[str]:
        return list(self._supervisors)

    def spec(self, name: str) -> DeviceSpec:
        return self._supervisors[name].spec

    def statuses(self) -> dict[str, DeviceStatus]:
        """The latest status of every configured device."""
        return {name: s.status for name, s in self._supervisors.items()}

    def available(self) -> frozenset[Function]:
        """The kiosk functions that can be offered now."""
        return available_functions(self.statuses())

    def use(self, name: str) -> contextlib.AbstractContextManager[Any]:
        """The named device, locked for a job."""
        supervisor = self._supervisors.get(name)
        if supervisor is None:
            raise DeviceUnavailable(name, DeviceStatus(DeviceState.NO_DEVICE, "not configured"))
        return supervisor.use()


class DriverMissing(Exception):
    """The driver for a configured device cannot be loaded (a package is not installed)."""


def _missing(name: str, error: Exception) -> Callable[..., Any]:
    def factory(url: str, **_options: Any) -> Any:
        raise DriverMissing(f"the {name} driver cannot be loaded: {error}")

    return factory


def build_specs(devices: dict[str, Any], urls: dict[str, str] | None = None) -> list[DeviceSpec]:
    """Specs for the enabled devices of a config (`DevicesConfig.enabled()`); `urls` overrides
    addresses, e.g. with the real pty or port of a simulator started for a `sim://` device."""
    specs = []
    for name, cfg in devices.items():
        try:
            factory = load_factory(FACTORIES[name])
        except (ImportError, AttributeError, KeyError) as exc:
            factory = _missing(name, exc)
        options = dict(cfg.options)
        if cfg.baud is not None:
            options.setdefault("baud", cfg.baud)
        if name in ("idcard", "receipt_printer"):
            options.setdefault("timeout_s", cfg.timeout_s)
        specs.append(DeviceSpec(name, (urls or {}).get(name, cfg.url), options, factory))
    return specs


class ManagedPrinter:
    """The receipt printer as the print flow sees it: one job at a time, through its supervisor."""

    def __init__(self, manager: DeviceManager, name: str = "receipt_printer") -> None:
        self._manager = manager
        self._name = name

    def print_receipt(self, receipt: Any) -> Any:
        """Print, or raise `DeviceUnavailable` / the driver's own error."""
        with self._manager.use(self._name) as printer:
            return printer.print_receipt(receipt)


class ManagedDocumentPrinter:
    """The A4 printer as flows see it: one job at a time, followed until it has printed.

    `print_pdf` raises, each distinguishable: `DeviceUnavailable` (not usable now, nothing sent),
    the driver's `PrinterNotReadyError` whose `status.paper` is `out` (paper out, before or
    during the job; a job cut short is canceled so its rest never prints for nobody), and
    `JobFailedError` (the job failed otherwise, or did not finish within `job_timeout_s`:
    `JobTimeoutError`). `on_progress` hears "sending", "printing" and "printed".
    """

    def __init__(
        self,
        manager: DeviceManager,
        name: str = "document_printer",
        *,
        job_timeout_s: float = 180.0,
        check_s: float = 0.5,
    ) -> None:
        self._manager = manager
        self._name = name
        self._job_timeout_s = job_timeout_s
        self._check_s = check_s  # how often the printer is asked whether the paper ran out

    def print_pdf(
        self, pdf: bytes, title: str, on_progress: Callable[[str], None] | None = None
    ) -> None:
        """Print `pdf` (title: no personal data, CUPS keeps it) and wait until it has printed."""
        from drivers.docprinter import JobFailedError, JobTimeoutError

        progress = on_progress or (lambda _step: None)
        with self._manager.use(self._name) as printer:
            progress("sending")
            job = printer.print_pdf(pdf, title=title)
            progress("printing")
            deadline = time.monotonic() + self._job_timeout_s
            while True:
                try:
                    printer.wait(job, timeout=self._check_s, cancel_on_timeout=False)
                except JobTimeoutError:
                    pass  # not finished yet: look at the printer below
                except JobFailedError as failed:
                    _raise_if_paper_out(printer, job, failed)
                    raise
                else:
                    progress("printed")
                    return
                _raise_if_paper_out(printer, job, None)
                if time.monotonic() >= deadline:
                    # cancels the job and raises JobTimeoutError, unless it has just printed
                    printer.wait(job, timeout=0)
                    progress("printed")
                    return


def _raise_if_paper_out(printer: Any, job: Any, cause: Exception | None) -> None:
    """Raise the driver's PrinterNotReadyError (canceling the job) if the paper is out."""
    from drivers.docprinter import DocumentPrinterError, PrinterNotReadyError
    from drivers.state import PaperState

    status = printer.status()
    if status.paper is not PaperState.OUT:
        return
    with contextlib.suppress(DocumentPrinterError):
        printer.cancel(job)
    raise PrinterNotReadyError(
        f"{printer.url}: paper ran out during job {job.job_id}; the rest was canceled",
        status=status,
    ) from cause


class ManagedSmartCard:
    """The smart card reader as the identify flow sees it: read a social security card.

    The holder file (EF06) opens only after external authentication by a PSAM: a hardware PSAM
    in a hall; the simulated hall gives the software one its virtual card was made with.
    """

    def __init__(
        self,
        manager: DeviceManager,
        psam: Any,
        name: str = "smartcard",
        *,
        staff_registry: str = "",
    ) -> None:
        self._manager = manager
        self._psam = psam
        self._name = name
        self._staff_registry = staff_registry

    def read_staff_id(self, kiosk_id: str) -> str:
        """帮办: the staff number a staff card in the reader proves (`kiosk.staff`)."""
        from kiosk.staff import StaffCards
        from kiosk.tasks import UserFacingError

        if not self._staff_registry:
            raise UserFacingError("staff_card_not_accepted")
        cards = StaffCards(self._staff_registry, lambda: self._manager.use(self._name))
        return cards.read_staff_id(kiosk_id)

    def read_social_security(self) -> Any:
        """The card in the reader (`SocialSecurityCard`, holder included), or the driver's error."""
        from drivers.smartcard import read_social_security_card

        with self._manager.use(self._name) as device:
            try:
                return read_social_security_card(device, psam=self._psam)
            finally:
                device.disconnect()


class ManagedCamera:
    """The camera as the apply flow and the screens' preview see it: frames, never held long.

    Each call takes the device for one frame only, so the QR polling of the same camera goes on
    between the frames of a document or face capture.
    """

    def __init__(self, manager: DeviceManager, name: str = "camera") -> None:
        self._manager = manager
        self._name = name

    def frame(self, timeout: float = 2.0) -> Any:
        """The next frame (`drivers.camera.Frame`); raises when the camera is not usable."""
        with self._manager.use(self._name) as device:
            return device.frame(timeout)

    def latest(self) -> Any:
        """The newest frame, or None when there is none or the camera is not usable now."""
        try:
            with self._manager.use(self._name) as device:
                return device.latest()
        except DeviceUnavailable:
            return None

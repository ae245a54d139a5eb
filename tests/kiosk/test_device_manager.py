"""The device manager supervises each device in its own thread: back-off, recovery, input, locks.

These use small scripted devices to pin down supervision itself; the drivers are exercised against
their real simulators in tests/drivers and through the manager in tests/e2e.
"""

from __future__ import annotations

import queue
import threading
import time

import pytest

from drivers.state import DeviceState, DeviceStatus
from kiosk.availability import Function
from kiosk.device_manager import DeviceManager, DeviceSpec, DeviceUnavailable
from kiosk.events import DeviceChanged, DeviceInput


class ScannerUnavailableError(OSError):
    pass


class ScriptedScanner:
    """Fails to open `fail_opens` times, then yields `inputs` one per poll; can be unplugged."""

    def __init__(self, url, fail_opens=0, inputs=()):
        self.fail_opens = fail_opens
        self.inputs = list(inputs)
        self.unplugged = threading.Event()
        self.opens = 0

    def open(self):
        self.opens += 1
        if self.fail_opens > 0 or self.unplugged.is_set():
            self.fail_opens -= 1
            raise ScannerUnavailableError("no such device")

    def close(self):
        pass

    def status(self):
        return DeviceStatus(DeviceState.ONLINE)

    def poll(self, timeout):
        if self.unplugged.is_set():
            raise ScannerUnavailableError("device went away")
        time.sleep(timeout / 10)
        return [self.inputs.pop(0)] if self.inputs else []


class Printer:
    def __init__(self, url):
        self.jobs = []
        self.busy = threading.Lock()

    def open(self):
        pass

    def close(self):
        pass

    def status(self):
        assert self.busy.acquire(blocking=False), "status asked in the middle of a job"
        self.busy.release()
        return DeviceStatus(DeviceState.ONLINE)

    def print_receipt(self, receipt):
        with self.busy:
            time.sleep(0.05)
            self.jobs.append(receipt)


def events_until(q, predicate, timeout=5.0):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = q.get(timeout=0.05)
        except queue.Empty:
            continue
        seen.append(event)
        if predicate(event):
            return seen
    raise AssertionError(f"not seen; got {seen}")


@pytest.fixture
def posted():
    return queue.SimpleQueue()


def manager_with(posted, **devices):
    specs = [DeviceSpec(name, "sim://", {}, factory) for name, factory in devices.items()]
    return DeviceManager(specs, posted.put, status_interval_s=0.05, poll_s=0.05, max_backoff_s=0.1)


def test_a_device_that_is_missing_at_start_is_retried_and_then_used(posted):
    scanner = ScriptedScanner("sim://", fail_opens=2, inputs=["QR-1"])
    manager = manager_with(posted, qr_scanner=lambda url: scanner)
    manager.start()
    try:
        seen = events_until(posted, lambda e: isinstance(e, DeviceInput))
    finally:
        manager.stop()
    changes = [e.status.state for e in seen if isinstance(e, DeviceChanged)]
    assert changes == [DeviceState.OFFLINE, DeviceState.ONLINE], (
        "one line when broken, one when back"
    )
    assert seen[-1] == DeviceInput("qr_scanner", "QR-1")
    assert scanner.opens == 3


def test_unplug_then_replug_recovers_without_restart(posted):
    scanner = ScriptedScanner("sim://")
    manager = manager_with(posted, qr_scanner=lambda url: scanner)
    manager.start()
    try:
        events_until(posted, lambda e: isinstance(e, DeviceChanged) and e.status.state == "online")
        scanner.unplugged.set()
        events_until(posted, lambda e: isinstance(e, DeviceChanged) and e.status.state == "offline")
        assert Function.SCAN_QR not in manager.available()
        scanner.unplugged.clear()
        scanner.inputs.append("QR-2")
        events_until(posted, lambda e: e == DeviceInput("qr_scanner", "QR-2"))
        assert Function.SCAN_QR in manager.available()
    finally:
        manager.stop()


def test_jobs_and_status_polls_never_interleave(posted):
    printer = Printer("sim://")
    manager = manager_with(posted, receipt_printer=lambda url: printer)
    manager.start()
    try:
        events_until(posted, lambda e: isinstance(e, DeviceChanged))
        for i in range(5):
            with manager.use("receipt_printer") as device:
                device.print_receipt(f"job {i}")
        assert manager.statuses()["receipt_printer"].state == "online"
    finally:
        manager.stop()
    assert printer.jobs == [f"job {i}" for i in range(5)]


def test_using_a_device_that_is_down_or_absent_says_so(posted):
    manager = manager_with(posted, qr_scanner=lambda url: ScriptedScanner(url, fail_opens=10**6))
    manager.start()
    try:
        events_until(posted, lambda e: isinstance(e, DeviceChanged))
        with (
            pytest.raises(DeviceUnavailable, match="qr_scanner is offline"),
            manager.use("qr_scanner"),
        ):
            pass
        with pytest.raises(DeviceUnavailable, match="camera is no_device"), manager.use("camera"):
            pass
    finally:
        manager.stop()


def test_a_driver_bug_is_a_hardware_error_not_a_dead_thread(posted):
    class Buggy(ScriptedScanner):
        def poll(self, timeout):
            raise KeyError("bug")

    manager = manager_with(posted, qr_scanner=lambda url: Buggy(url))
    manager.start()
    try:
        seen = events_until(
            posted,
            lambda e: isinstance(e, DeviceChanged) and e.status.state == "hardware_error",
        )
        time.sleep(0.3)
        assert manager._supervisors["qr_scanner"]._thread.is_alive()
    finally:
        manager.stop()
    assert "KeyError" in seen[-1].status.reason
    states = [e.status.state for e in seen if isinstance(e, DeviceChanged)]
    assert DeviceState.ONLINE not in states, "a device that never worked is never announced online"


def test_a_subclass_of_an_offline_error_is_offline_not_a_fault():
    from drivers.printer import PrinterTimeout
    from kiosk.device_manager import _failure_status

    assert _failure_status(PrinterTimeout("no answer")).state is DeviceState.OFFLINE
    assert _failure_status(KeyError("bug")).state is DeviceState.HARDWARE_ERROR


def test_a_failed_job_updates_the_status_at_once(posted):
    class FlakyPrinter(Printer):
        def __init__(self, url):
            super().__init__(url)
            self.gone = False

        def status(self):
            if self.gone:
                return DeviceStatus(DeviceState.OFFLINE, "cable pulled")
            return super().status()

        def print_receipt(self, receipt):
            self.gone = True
            raise OSError("broken pipe")

    printer = FlakyPrinter("sim://")
    manager = manager_with(posted, receipt_printer=lambda url: printer)
    manager._supervisors["receipt_printer"]._status_interval_s = 60  # no poll would notice
    manager.start()
    try:
        events_until(posted, lambda e: isinstance(e, DeviceChanged))
        with pytest.raises(OSError), manager.use("receipt_printer") as device:
            device.print_receipt("job")
        assert manager.statuses()["receipt_printer"].state is DeviceState.OFFLINE
        assert Function.PRINT_RECEIPT not in manager.available()
    finally:
        manager.stop()

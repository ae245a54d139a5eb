"""The simulated hall: simulators for every `sim://` device, and a demo resident's hand.

Each simulator speaks its device's real wire protocol over a real transport (GA 467 on a pty,
ESC/POS over TCP), so the kiosk drives them with exactly the code that drives real hardware.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from kiosk.config import KioskConfig

log = logging.getLogger(__name__)

# How long the demo resident takes to lay the card on the reader after being asked.
CARD_PLACING_DELAY_S = 2.0


class SimulatedHall:
    """Starts the simulators the configuration asks for (`sim://`) and stops them."""

    def __init__(self, config: KioskConfig, receipts_dir: str | Path) -> None:
        self._config = config
        self._receipts_dir = Path(receipts_dir)
        self._stoppers: list[Any] = []
        self.idcard_sim: Any = None
        self.printer_sim: Any = None
        self.qr_sim: Any = None
        self._timer: threading.Timer | None = None
        self._last_state = ""

    def start_for(self, devices: dict[str, Any]) -> dict[str, str]:
        """Start a simulator for each `sim://` device given; returns every device's real URL."""
        urls = {}
        for name, cfg in devices.items():
            urls[name] = cfg.url
            if cfg.url.startswith("sim://") and name in _STARTERS:
                urls[name] = _STARTERS[name](self)
        return urls

    def _start_idcard(self) -> str:
        from drivers.idcard.simulator import IdCardSimulator

        self.idcard_sim = IdCardSimulator(card=None)
        self.idcard_sim.start()
        self._stoppers.append(self.idcard_sim.stop)
        log.info("simulated ID card reader on %s", self.idcard_sim.url)
        return str(self.idcard_sim.url)

    def _start_qr_scanner(self) -> str:
        from drivers.qr.simulator import QrScannerSimulator

        self.qr_sim = QrScannerSimulator()
        self.qr_sim.start()
        self._stoppers.append(self.qr_sim.stop)
        return str(self.qr_sim.url)

    def _start_printer(self) -> str:
        from drivers.printer.simulator import PrinterSimulator

        self._receipts_dir.mkdir(parents=True, exist_ok=True)
        self.printer_sim = PrinterSimulator(port=0, out_dir=self._receipts_dir)
        self.printer_sim.start()
        self._stoppers.append(self.printer_sim.stop)
        log.info(
            "simulated receipt printer on %s, receipts in %s",
            self.printer_sim.url,
            self._receipts_dir,
        )
        return str(self.printer_sim.url)

    def attach(self, core: Any) -> None:
        """Let the demo resident react to the screens: place the card when asked, take it back."""
        if self.idcard_sim is not None:
            core.add_listener(self._on_view)

    def _on_view(self, view: Any) -> None:
        state = view.state
        if state == self._last_state:
            return
        self._last_state = state
        if state == "await_card":
            self._cancel_timer()
            self._timer = threading.Timer(CARD_PLACING_DELAY_S, self._place_card)
            self._timer.daemon = True
            self._timer.start()
        elif state in ("attract", "thanks"):
            self._cancel_timer()
            self.idcard_sim.remove()

    def _place_card(self) -> None:
        from drivers.idcard.sim_cards import DEMO_CARD

        self.idcard_sim.insert(DEMO_CARD)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def stop(self) -> None:
        self._cancel_timer()
        for stop in reversed(self._stoppers):
            stop()
        self._stoppers.clear()


_STARTERS = {
    "qr_scanner": SimulatedHall._start_qr_scanner,
    "idcard": SimulatedHall._start_idcard,
    "receipt_printer": SimulatedHall._start_printer,
}

"""The simulated hall: simulators for every `sim://` device, and a demo resident.

Each simulator speaks its device's real wire protocol over a real transport: GA 467 on a pty
(ID card), ESC/POS over TCP (receipts), CR-terminated lines on a pty (QR scanner), IPP to a
private cupsd (A4, kiosk/sim_cups.py), PC/SC through a private pcscd and vpcd (social security
card, kiosk/sim_pcsc.py), and a synthetic camera. So the kiosk drives them with exactly the code
that drives real hardware. cupsd and pcscd start in background threads: the device manager counts
a device offline until it answers, so they never delay the start screen.

The demo resident reacts to the screens: when the kiosk asks for identity it lays the demo ID
card on the reader (the demo hand) or shows an e-ID code minted by the central service to the
scanner (the demo phone), taking turns when both are on (`simulation:` in the config). When an
application asks for a document or a face, the synthetic camera shows one; when it asks for the
principal of a 代办, the hand lays a second card.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from kiosk.config import KioskConfig
from kiosk.ids import StateId

log = logging.getLogger(__name__)

# How long the demo resident takes to lay the card on the reader (or show the phone) when asked.
CARD_PLACING_DELAY_S = 2.0
# The synthetic camera of a bare `sim://`: small and slow, to leave the CPU to the screens.
DEFAULT_CAMERA_URL = "sim://camera?width=320&height=240&fps=5"
# The scene control of the hall's synthetic camera (drivers.camera.synthetic.scene_control).
CAMERA_NAME = "hall"
# What the synthetic camera looks at while the screen asks for it (the view's `camera`).
_CAMERA_SCENES = {"document": "document", "face": "face"}
_ASKING_FOR_IDENTITY = frozenset({StateId.AWAIT_IDENTITY})
_SESSION_OVER = frozenset({StateId.ATTRACT, StateId.THANKS})


class SimulatedHall:
    """Starts the simulators the configuration asks for (`sim://`) and stops them."""

    def __init__(
        self,
        config: KioskConfig,
        receipts_dir: str | Path,
        *,
        printed_dir: str | Path | None = None,
        central_url: str | None = None,
    ) -> None:
        self._config = config
        self._receipts_dir = Path(receipts_dir)
        # without a folder of its own (`kiosk diag devices`), A4 output goes with the receipts
        self.printed_dir = Path(printed_dir or Path(receipts_dir) / "printed")
        self._central_url = central_url
        self._stoppers: list[Any] = []
        self._background: list[threading.Thread] = []
        self.idcard_sim: Any = None
        self.printer_sim: Any = None
        self.qr_sim: Any = None
        self.document_sim: Any = None
        self.smartcard_sim: Any = None
        self.problems: dict[str, str] = {}  # device name -> why its simulator is not running
        self._timer: threading.Timer | None = None
        self._last_state = ""
        self._turn = 0  # which demo gesture answers the next identity request
        self._camera_name: str | None = None

    def start_for(self, devices: dict[str, Any]) -> dict[str, str]:
        """Start a simulator for each `sim://` device given; returns each device's real URL.

        A device whose simulator cannot run here is left out of the answer: it is absent.
        """
        urls = {}
        for name, cfg in devices.items():
            url: str | None = cfg.url
            if cfg.url.startswith("sim://") and name in _STARTERS:
                url = _STARTERS[name](self, cfg.url)
            if url is not None:
                urls[name] = url
        return urls

    def wait_started(self, timeout: float = 15.0) -> None:
        """Wait for the simulators started in the background (tests)."""
        for thread in self._background:
            thread.join(timeout)

    def _in_background(self, name: str, start: Any) -> None:
        def run() -> None:
            try:
                start()
            except Exception as exc:  # one plain line; the device stays offline, greyed out
                self.problems[name] = str(exc)
                log.warning("simulated %s not started: %s", name.replace("_", " "), exc)

        thread = threading.Thread(target=run, name=f"sim-{name}", daemon=True)
        self._background.append(thread)
        thread.start()

    def _start_idcard(self, _url: str) -> str:
        from drivers.idcard.simulator import IdCardSimulator

        self.idcard_sim = IdCardSimulator(card=None)
        self.idcard_sim.start()
        self._stoppers.append(self.idcard_sim.stop)
        log.info("simulated ID card reader on %s", self.idcard_sim.url)
        return str(self.idcard_sim.url)

    def _start_qr_scanner(self, _url: str) -> str:
        from drivers.qr.simulator import QrScannerSimulator

        self.qr_sim = QrScannerSimulator()
        self.qr_sim.start()
        self._stoppers.append(self.qr_sim.stop)
        log.info("simulated QR scanner on %s", self.qr_sim.port)
        return str(self.qr_sim.url)

    def _start_printer(self, _url: str) -> str:
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

    def _start_document_printer(self, _url: str) -> str | None:
        from kiosk import sim_cups

        reason = sim_cups.skip_reason()
        if reason:
            self.problems["document_printer"] = reason
            log.warning("no simulated A4 printer: %s", reason)
            return None
        self.document_sim = sim_cups.SimulatedDocumentPrinter(self.printed_dir)
        self._stoppers.append(self.document_sim.stop)
        self._in_background("document_printer", self.document_sim.start)
        return str(self.document_sim.url)

    def _start_smartcard(self, _url: str) -> str | None:
        from kiosk import sim_pcsc

        try:
            self.smartcard_sim = sim_pcsc.SimulatedSmartCardReader(_demo_social_security_card())
        except sim_pcsc.PcscdUnavailable as exc:
            self.problems["smartcard"] = str(exc)
            log.warning("no simulated smart card reader (PC/SC): %s", exc)
            return None
        self._stoppers.append(self.smartcard_sim.stop)
        try:
            self.smartcard_sim.launch()  # here: pcscd dies with the thread that started it
        except OSError as exc:
            self.problems["smartcard"] = str(exc)
            log.warning("no simulated smart card reader (PC/SC): %s", exc)
            return None
        self._in_background("smartcard", self.smartcard_sim.wait_ready)
        return str(self.smartcard_sim.url)

    def _start_camera(self, url: str) -> str:
        # The camera driver simulates `sim://camera?...` itself (drivers/camera/synthetic.py);
        # a named scene control lets the demo resident put a page or a face in front of it.
        url = DEFAULT_CAMERA_URL if url.rstrip("/") == "sim:" else url
        if "name=" not in url:
            url += ("&" if "?" in url else "?") + f"name={CAMERA_NAME}"
        self._camera_name = url.split("name=", 1)[1].split("&", 1)[0]
        return url

    def _show_camera_scene(self, view: Any) -> None:
        if self._camera_name is None or not self._config.simulation.demo_hand:
            return
        from drivers.camera.synthetic import scene_control

        scene = _CAMERA_SCENES.get(getattr(view, "camera", ""), "pattern")
        control = scene_control(self._camera_name)
        if control.scene != scene:
            control.show(scene)

    # -- the demo resident -------------------------------------------------------------------

    def attach(self, core: Any) -> None:
        """Let the demo resident react to the screens: identify when asked, take the card back."""
        if self._gestures() or self._camera_name is not None:
            core.add_listener(self._on_view)

    def _gestures(self) -> list[Any]:
        sim = self._config.simulation
        gestures: list[Any] = []
        if sim.demo_hand and self.idcard_sim is not None:
            gestures.append(self._place_card)
        if sim.demo_phone and self.qr_sim is not None:
            gestures.append(self._show_eid)
        if sim.demo_hand and self.smartcard_sim is not None and self.smartcard_sim.client:
            gestures.append(self._insert_social_security_card)
        return gestures

    def _on_view(self, view: Any) -> None:
        self._show_camera_scene(view)
        state = view.state
        if state == self._last_state:
            return
        self._last_state = state
        if state == StateId.PRINCIPAL and self._config.simulation.demo_hand and self.idcard_sim:
            self._cancel_timer()
            self._timer = threading.Timer(CARD_PLACING_DELAY_S, self._place_principal_card)
            self._timer.daemon = True
            self._timer.start()
        elif state in _ASKING_FOR_IDENTITY:
            gestures = self._gestures()
            if not gestures:
                return
            gesture = gestures[self._turn % len(gestures)]
            self._turn += 1
            self._cancel_timer()
            self._timer = threading.Timer(CARD_PLACING_DELAY_S, gesture)
            self._timer.daemon = True
            self._timer.start()
        elif state in _SESSION_OVER:
            self._cancel_timer()
            if self.idcard_sim is not None:
                self.idcard_sim.remove()
            if self.smartcard_sim is not None:
                threading.Thread(target=self.smartcard_sim.remove_card, daemon=True).start()

    def _place_card(self) -> None:
        from drivers.idcard.sim_cards import DEMO_CARD

        self.idcard_sim.insert(DEMO_CARD)

    def _place_principal_card(self) -> None:
        """代办: the agent's card comes off and the principal's goes on."""
        from drivers.idcard.sim_cards import WANG_JIANGUO

        self.idcard_sim.remove()
        time.sleep(0.5)  # long enough for the reader to notice the card went away
        self.idcard_sim.insert(WANG_JIANGUO)

    def _insert_social_security_card(self) -> None:
        self.smartcard_sim.insert_card()

    def _show_eid(self) -> None:
        token = self.mint_eid()
        if token:
            self.present_code(token)

    def present_code(self, text: str) -> None:
        """The demo phone: show `text` as a QR code to the scanner (one CR-terminated line)."""
        if self.qr_sim is None:
            raise RuntimeError("no simulated QR scanner is running")
        self.qr_sim.scan(text)

    def mint_eid(self, person: str | None = None) -> str | None:
        """An e-ID token for a seeded person from the central service's dev API, or None."""
        answer = self._dev_post(
            "eid/mint", {"person": person or self._config.simulation.demo_person}
        )
        return _first_text(answer, ("token", "qr_payload", "code")) if answer else None

    def mint_appointment(self, item_code: str, person: str | None = None) -> str | None:
        """An appointment QR payload (`APPT:...`) booked for a seeded person, or None."""
        body = {"person": person or self._config.simulation.demo_person, "item_code": item_code}
        answer = self._dev_post("appointments", body)
        return _first_text(answer, ("qr_payload",)) if answer else None

    def _dev_post(self, path: str, body: dict[str, str]) -> dict[str, Any] | None:
        if not self._central_url:
            log.warning("demo phone: no central service to mint codes from")
            return None
        url = f"{self._central_url.rstrip('/')}/api/v1/dev/{path}"
        try:
            answer = httpx.post(url, json=body, timeout=5.0)
        except httpx.HTTPError as exc:
            log.warning("demo phone: %s failed: %s", url, exc)
            return None
        if answer.status_code >= 400:  # 404: no such dev endpoint (yet), or no such person
            log.warning("demo phone: %s answered %d; nothing shown", url, answer.status_code)
            return None
        data = answer.json()
        return data if isinstance(data, dict) else None

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def stop(self) -> None:
        self._cancel_timer()
        self.wait_started(timeout=15.0)  # a daemon half started would outlive its stopper
        for stop in reversed(self._stoppers):
            stop()
        self._stoppers.clear()


def _first_text(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])
    log.warning("demo phone: the answer has none of %s", ", ".join(keys))
    return None


def _demo_social_security_card() -> Any:
    """The social security card of the seeded person 王建国 (BJ1101000002), as a virtual card."""
    from drivers.idcard.sim_cards import WANG_JIANGUO
    from drivers.smartcard.sim_cards import SocialSecurityCardSim

    return SocialSecurityCardSim(
        region_code="110105",
        ssn=WANG_JIANGUO.id_number,
        name=WANG_JIANGUO.name,
        sex="1",
        birthplace="110105",
        birth_date=WANG_JIANGUO.birth_date,
    )


_STARTERS = {
    "qr_scanner": SimulatedHall._start_qr_scanner,
    "idcard": SimulatedHall._start_idcard,
    "receipt_printer": SimulatedHall._start_printer,
    "document_printer": SimulatedHall._start_document_printer,
    "smartcard": SimulatedHall._start_smartcard,
    "camera": SimulatedHall._start_camera,
}

"""拍摄材料 and 人脸核验: the live camera with a guide to aim at, and the materials taken so far.

The preview asks the app for the camera's newest frame about five times a second (the app
reaches the core's camera; screens do no device I/O of their own). With no camera, or none
usable, a plain placeholder shows: a preview never takes its screen down. Pictures of faces
and documents are never logged.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.graphics.texture import Texture
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.geometry import fitted
from screens.kv import load_kv
from screens.routing import option_columns
from screens.widgets import set_shown

log = logging.getLogger(__name__)

PREVIEW_FPS = 5


def frame_pixels(image: Any, *, mirror: bool) -> tuple[bytes, tuple[int, int]]:
    """A BGR image (numpy, rows top down) as RGB bytes for a Kivy texture (rows bottom up).

    `mirror` flips left and right, so a resident sees themselves as in a mirror.
    """
    import numpy as np

    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("expected an 8-bit BGR image")
    rgb = image[::-1, ::-1, ::-1] if mirror else image[::-1, :, ::-1]
    height, width = rgb.shape[:2]
    return np.ascontiguousarray(rgb).tobytes(), (width, height)


def jpeg_texture(jpeg: bytes) -> Texture | None:
    """A small JPEG (a material's thumbnail) as a texture, or None when it cannot be read."""
    if not jpeg:
        return None
    try:
        return CoreImage(io.BytesIO(jpeg), ext="jpg").texture
    except Exception as exc:  # a broken thumbnail shows as an empty frame, not a crash
        log.warning("thumbnail not shown: %s", type(exc).__name__)
        return None


class CameraPreview(Widget):
    """The camera's picture with a guide: a page frame ("document") or an oval ("face").

    With `guide` empty it shows `still` (the photo just taken) instead of the live picture.
    """

    guide = OptionProperty("document", options=["document", "face", ""])
    texture = ObjectProperty(None, allownone=True)
    still = ObjectProperty(None, allownone=True)
    live = BooleanProperty(False)  # a frame has arrived since the preview started
    picture = ListProperty([0, 0, 0, 0])  # where the picture is drawn: x, y, w, h

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._event: Any = None
        self._last_index: int | None = None
        self._failed = False
        self.bind(pos=self._place, size=self._place, texture=self._place, still=self._place)
        self.bind(guide=self._place)

    def start(self) -> None:
        """Begin updating from the camera (when the screen shows a live picture)."""
        if self._event is None:
            self._last_index = None
            self._event = Clock.schedule_interval(self._refresh, 1 / PREVIEW_FPS)
            self._refresh(0)

    def stop(self) -> None:
        """Stop updating; the last picture is dropped (it may be a face)."""
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.texture = None
        self.live = False

    def _refresh(self, _dt: float) -> None:
        app = App.get_running_app()
        source = getattr(app, "camera_frame", None)
        frame = source() if callable(source) else None
        if frame is None or getattr(frame, "index", None) == self._last_index:
            return
        try:
            pixels, size = frame_pixels(frame.image, mirror=self.guide == "face")
            texture = self.texture
            if texture is None or tuple(texture.size) != size:
                texture = Texture.create(size=size, colorfmt="rgb")
            texture.blit_buffer(pixels, colorfmt="rgb", bufferfmt="ubyte")
        except Exception as exc:  # a bad frame leaves the placeholder, once noted
            if not self._failed:
                log.warning("camera preview: frame not shown: %s", type(exc).__name__)
                self._failed = True
            return
        self._last_index = getattr(frame, "index", None)
        self.texture = texture
        self.live = True
        self.canvas.ask_update()

    def _place(self, *_: object) -> None:
        shown = self.still if not self.guide else self.texture
        content = tuple(shown.size) if shown is not None else (4, 3)
        self.picture = list(fitted((self.x, self.y, self.width, self.height), content))


class ThumbCard(BoxLayout):
    """One material: its photo (or an empty frame) and its name; the current one framed."""

    texture = ObjectProperty(None, allownone=True)
    label = StringProperty("")
    current = BooleanProperty(False)


class ThumbnailStrip(BoxLayout):
    """The materials of the application, side by side."""

    def show(self, thumbnails: tuple[Any, ...]) -> None:
        self.clear_widgets()
        for thumb in thumbnails:
            self.add_widget(
                ThumbCard(
                    texture=jpeg_texture(thumb.jpeg), label=thumb.label, current=thumb.current
                )
            )


class CameraScreen(KioskScreen):
    """What the document and face screens share: preview, hint, options, thumbnails."""

    guide = "document"

    def on_kv_post(self, base_widget: Any) -> None:
        # Strong references (ids are weak proxies): these leave the tree when not needed.
        self._hint_box = self.ids.hint_box.__self__
        self._options = self.ids.options.__self__
        self._thumbs = self.ids.thumbs.__self__
        self._live = False

    def show(self, view: ViewModel) -> None:
        preview = self.ids.preview
        self._live = bool(view.camera)
        preview.guide = view.camera or ""
        current = next((t for t in view.thumbnails if t.current), None)
        preview.still = jpeg_texture(current.jpeg) if current is not None else None
        if self._live:
            preview.start()
        else:
            preview.stop()
        self.ids.hint.text = view.hint
        set_shown(
            self._hint_box, self.ids.bottom, bool(view.hint), index=len(self.ids.bottom.children)
        )
        self._thumbs.show(view.thumbnails)
        set_shown(self._thumbs, self.ids.bottom, bool(view.thumbnails), index=1)
        self._options.cols = option_columns(len(view.options))
        self.buttons(self._options, view.options, role="tile", size_factor=1.2)

    def on_enter(self, *_: object) -> None:
        if self._live:
            self.ids.preview.start()

    def on_leave(self, *_: object) -> None:
        self.ids.preview.stop()


class DocumentsScreen(CameraScreen):
    """拍摄材料: a page frame to lay the document in, the materials so far, take / use / retake."""


class FaceScreen(CameraScreen):
    """人脸核验: an oval to put the face in, and what happens now."""


load_kv(__file__)

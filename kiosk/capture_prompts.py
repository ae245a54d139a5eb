"""What a failed capture tells the resident, by kind (page, face) and problem code.

Kept apart from `kiosk.capture` (which loads OpenCV) so the view models can use it cheaply.
"""

from __future__ import annotations

from kiosk.i18n import N_

PAGE = "page"
FACE = "face"
CAMERA_UNAVAILABLE = "camera_unavailable"  # the camera failed or sent nothing
NOT_LIVE = "not_live"  # as drivers.camera.presence.NOT_LIVE (which loads OpenCV)

KIND_PROMPTS: dict[str, dict[str, str]] = {
    PAGE: {
        "no_page": N_("Place the document in the capture area."),
        "cut_off": N_("Move the whole document into the capture area."),
        "too_small": N_("Bring the document closer to the camera."),
        "blurry": N_("Hold the document still."),
        "glare": N_("There is a reflection on the document. Tilt it a little."),
        "too_dark": N_("It is too dark. Turn the document towards the light."),
        CAMERA_UNAVAILABLE: N_("The camera is not working. Please ask staff for help."),
    },
    FACE: {
        "no_face": N_("Look straight at the camera."),
        "several_faces": N_("Only one person at a time, please."),
        "too_small": N_("Please come a little closer."),
        "off_centre": N_("Move to the middle of the picture."),
        "not_frontal": N_("Face the camera directly."),
        "blurry": N_("Please hold still."),
        "too_dark": N_("It is too dark here. Please ask staff for help."),
        "too_bright": N_("The light is too strong. Please step aside a little."),
        NOT_LIVE: N_("Please move your head a little."),
        CAMERA_UNAVAILABLE: N_("The camera is not working. Please ask staff for help."),
    },
}


def prompt_for(kind: str, code: str) -> str:
    """The untranslated prompt for a problem `code` of a `kind` of capture (page or face)."""
    prompts = KIND_PROMPTS.get(kind, {})
    return prompts.get(code, N_("Please try again."))

"""The kiosk camera (OpenCV): a capture thread, QR codes, face quality, document capture.

    from drivers.camera import open_camera, check_face, capture_document

    camera = open_camera("v4l2:///dev/video0?width=1280&height=720&fourcc=MJPG")
    camera.open()                         # CameraUnavailableError when there is no camera
    for code in camera.poll(0.5):         # ScannedCode records, one per code shown
        ...
    verdict = check_face(camera.snapshot())    # FaceQuality(ok, face_box, problems)
    page = capture_document(camera.snapshot())  # CapturedDocument(image, corners, ..., jpeg)
    verdict = assess_page(camera.snapshot())    # PageAssessment(ok, problems, document)
    presence = PresenceCheck()                  # add(image, t) until done: a live face
    camera.close()

Frames come from a V4L2 camera, a video file, an image sequence or a synthetic camera, all
addressed by URL (`drivers.camera.sources`), so tests and the bench drive the same capture
thread as the kiosk. The synthetic camera and picture generators live in
`drivers.camera.synthetic` (not imported here).
"""

from drivers.camera.capture import Backoff, Capture, CaptureStats, Frame, Pacing, Subscription
from drivers.camera.device import CameraDevice, open_camera
from drivers.camera.document import (
    A4,
    A5,
    ID_CARD,
    CapturedDocument,
    Enhance,
    PageDetection,
    Paper,
    capture_document,
    detect_page,
    encode_jpeg,
    enhance_page,
    estimate_aspect,
    order_corners,
    rectify,
)
from drivers.camera.errors import (
    CameraConfigError,
    CameraError,
    CameraFormatError,
    CameraTimeoutError,
    CameraUnavailableError,
    DocumentError,
    DocumentTooLargeError,
    NoPageFoundError,
)
from drivers.camera.face import (
    FaceBox,
    FaceChecker,
    FaceMeasures,
    FaceProblem,
    FaceQuality,
    FaceThresholds,
    check_face,
)
from drivers.camera.page_quality import (
    PageAssessment,
    PageMeasures,
    PageProblem,
    PageThresholds,
    assess_page,
)
from drivers.camera.presence import PresenceCheck, PresenceProblem, PresenceResult
from drivers.camera.qr import CodeTracker, FrameDecoder, decode_qr
from drivers.camera.sources import (
    FrameSource,
    ImageSequenceSource,
    V4L2Source,
    VideoFileSource,
    open_source,
    source_opener,
)

__all__ = [
    "A4",
    "A5",
    "ID_CARD",
    "Backoff",
    "CameraConfigError",
    "CameraDevice",
    "CameraError",
    "CameraFormatError",
    "CameraTimeoutError",
    "CameraUnavailableError",
    "Capture",
    "CaptureStats",
    "CapturedDocument",
    "CodeTracker",
    "DocumentError",
    "DocumentTooLargeError",
    "Enhance",
    "FaceBox",
    "FaceChecker",
    "FaceMeasures",
    "FaceProblem",
    "FaceQuality",
    "FaceThresholds",
    "FrameDecoder",
    "Frame",
    "FrameSource",
    "ImageSequenceSource",
    "NoPageFoundError",
    "Pacing",
    "PageAssessment",
    "PageDetection",
    "PageMeasures",
    "PageProblem",
    "PageThresholds",
    "Paper",
    "PresenceCheck",
    "PresenceProblem",
    "PresenceResult",
    "Subscription",
    "V4L2Source",
    "VideoFileSource",
    "assess_page",
    "capture_document",
    "check_face",
    "decode_qr",
    "detect_page",
    "encode_jpeg",
    "enhance_page",
    "estimate_aspect",
    "open_camera",
    "open_source",
    "order_corners",
    "rectify",
    "source_opener",
]

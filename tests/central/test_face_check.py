"""POST /identity/face: 人证核验 against the enrolled face; lockout; the image is never stored."""

from __future__ import annotations

import cv2
import numpy as np
from sqlalchemy import inspect

from central import face_match
from central.face_checks import read_faces
from tests.central.faces import LIVE, b64, blank, portrait, skimage_data, stranger
from tests.central.helpers import KIOSK, PERSONS, WANG, assert_error, person_ref

ZHAO = next(p for p in PERSONS if p["name"] == "赵子轩")


def face(http, ref: str, image: bytes, **presence) -> dict:
    body = {
        "person_ref": ref,
        "kiosk_id": KIOSK,
        "image": b64(image),
        "presence": {**LIVE, **presence},
    }
    response = http.post("/identity/face", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_enrolled_portrait_passes(http):
    result = face(http, person_ref(http, WANG), portrait())
    assert result["passed"] is True and result["reason"] is None
    assert result["score"] >= face_match.MATCH_SCORE
    assert result["check_id"]


def test_another_persons_face_is_not_matched(http):
    result = face(http, person_ref(http, PERSONS[2]), stranger(0))
    assert result["passed"] is False
    assert result["reason"] == "not_matched"
    assert result["score"] < face_match.MATCH_SCORE


def test_a_frame_without_a_face_is_no_face(http):
    result = face(http, person_ref(http, PERSONS[3]), blank())
    assert (result["passed"], result["reason"]) == (False, "no_face")


def test_a_still_picture_is_not_live(http):
    result = face(http, person_ref(http, PERSONS[3]), portrait(), moved=False)
    assert (result["passed"], result["reason"]) == (False, "not_live")


def test_three_failures_lock_the_person_out_even_with_the_right_face(http):
    ref = person_ref(http, PERSONS[0])
    reasons = [face(http, ref, stranger(index))["reason"] for index in (1, 2, 3)]
    assert reasons == ["not_matched"] * 3
    locked = face(http, ref, portrait())
    assert (locked["passed"], locked["reason"]) == (False, "too_many_attempts")


def test_person_without_an_enrolled_face_is_404(http):
    body = {
        "person_ref": person_ref(http, ZHAO),
        "kiosk_id": KIOSK,
        "image": b64(portrait()),
        "presence": LIVE,
    }
    assert_error(http.post("/identity/face", json=body), 404, "face_not_enrolled")


def test_unknown_ref_and_bad_images_are_refused(http):
    body = {"person_ref": "nobody", "kiosk_id": KIOSK, "image": b64(portrait()), "presence": LIVE}
    assert_error(http.post("/identity/face", json=body), 404, "person_not_found")
    ref = person_ref(http, WANG)
    for image in (b"GIF89a not a jpeg", b"\xff\xd8\xff truncated"):
        body = {"person_ref": ref, "kiosk_id": KIOSK, "image": b64(image), "presence": LIVE}
        assert_error(http.post("/identity/face", json=body), 422, "invalid_image")
    body = {"person_ref": ref, "kiosk_id": KIOSK, "image": "!!not base64!!", "presence": LIVE}
    assert_error(http.post("/identity/face", json=body), 422, "invalid_image")
    too_big = b64(b"\xff\xd8\xff" + bytes(500_000))
    body = {"person_ref": ref, "kiosk_id": KIOSK, "image": too_big, "presence": LIVE}
    assert http.post("/identity/face", json=body).status_code == 422


def test_no_table_holds_an_image(server):
    from central.face_checks import FaceCheckRow

    columns = {column.key for column in inspect(FaceCheckRow).columns}
    assert columns == {
        "id",
        "check_id",
        "person_id",
        "kiosk_id",
        "checked_at",
        "passed",
        "score",
        "reason",
    }


def test_the_committed_template_is_the_astronaut_portrait():
    grey = cv2.imread(str(skimage_data("astronaut.png")), cv2.IMREAD_GRAYSCALE)
    recomputed = face_match.template_of(grey)
    stored = np.asarray(read_faces().templates["astronaut"].vector)
    assert recomputed is not None
    assert np.allclose(recomputed, stored, atol=1e-5)

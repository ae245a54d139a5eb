"""A deterministic corpus of QR code images for measuring decoders.

    python bench/qr_corpus.py [--out var/qr_corpus] [--seed 20240518] [--per-category 12]

Writes images and ``manifest.json`` (file, category, expected texts, generation parameters)
to the output directory. The same seed gives the same images, byte for byte, on the same
library versions. Categories model what a kiosk camera or an uploaded photo really shows:

clean        printed, straight, sharp: the easy case every decoder must get
photo        a phone-camera photo of a printout: perspective, uneven light, noise, JPEG
rotated      printed and turned by an arbitrary angle
blur         gaussian (out of focus) or motion blur (a hand moving)
lowcontrast  faded print or a dim screen: dark grey on light grey
inverted     light modules on a dark ground (some apps' dark mode)
damaged      occluded patches, stains and scratches across the symbol
small        few pixels per module: a code far from the lens
large        a big photo with the code a small part of it, or a huge code
screen       a phone screen photographed: moiré, glare, bright background
charset      Shift_JIS (no ECI, or ECI 20), GB18030 with ECI 29, UTF-8 with ECI 26, ISO-8859-1,
             made with segno, in a mildly degraded photo
multiline    texts with CR/LF or LF inside (vCards, notices, multi-field codes)
multi        two to four codes on one sheet: every one must be read
shadow       a hard shadow edge across the code, with perspective
mirrored     a mirror image (a front camera, a code seen through glass)
tinybig      a small code in a 12-megapixel-class frame
jpeg         heavy JPEG compression after downscaling (messaging apps)
perspective  strong perspective, uneven light

The categories from ``charset`` on carry the kiosk's own formats too (``APPT:``, ``CASE:``,
``CNEID1.``, certificate verification URLs). Payloads are what residents bring to a government service hall: service URLs, appointment
numbers (预约号), electronic social security card tokens (电子社保卡), and Chinese text, at
different sizes and error-correction levels; about one in six is encoded as GBK bytes, as older
systems do.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import qrcode
import segno
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

DEFAULT_SEED = 20240518
DEFAULT_PER_CATEGORY = 12
EC_LEVELS = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}

Image = np.ndarray


# -- payloads ---------------------------------------------------------------------------------

_CITIES = ["广州市", "深圳市", "杭州市", "成都市", "武汉市", "西安市", "南京市", "郑州市"]
_ITEMS = [
    "居民身份证换领",
    "社会保障卡申领",
    "不动产登记查询",
    "个体工商户设立登记",
    "出生医学证明",
]
_HOSTS = ["zwfw.gd.gov.cn", "www.gjzwfw.gov.cn", "zwfw.hubei.gov.cn", "ggfw.hrss.gd.gov.cn"]
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def make_payload(rng: random.Random) -> str:
    """One realistic payload: a URL, an appointment, a social security card token or text."""
    kind = rng.choice(["url", "url", "appointment", "ssc", "text"])
    if kind == "url":
        host = rng.choice(_HOSTS)
        code = "".join(rng.choice(_B64) for _ in range(rng.randint(8, 40)))
        return f"https://{host}/qr/v1?c={code}&t={rng.randint(10**9, 10**10)}"
    if kind == "appointment":
        day = f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        return (
            f"预约号:{rng.choice('ABCDEF')}{day}-{rng.randint(1, 9999):04d} "
            f"事项:{rng.choice(_ITEMS)} 地点:{rng.choice(_CITIES)}政务服务中心"
            f"{rng.randint(1, 40)}号窗口"
        )
    if kind == "ssc":
        token = "".join(rng.choice(_B64) for _ in range(rng.randint(60, 180)))
        return f"SSCARD:1:{rng.randint(100000, 999999)}:{token}"
    lines = [rng.choice(_ITEMS) + "办事指南", "所需材料：居民身份证原件", "办理时限：即办件"]
    return "；".join(lines[: rng.randint(1, 3)]) + f"（{rng.choice(_CITIES)}）"


def qr_matrix(text: str, *, ec: str, gbk: bool = False) -> np.ndarray:
    """The symbol's modules as a bool array (True = dark), with the 4-module quiet zone."""
    qr = qrcode.QRCode(error_correction=EC_LEVELS[ec], border=4)
    qr.add_data(text.encode("gb18030") if gbk else text)
    qr.make(fit=True)
    return np.array(qr.get_matrix(), dtype=bool)


def render(matrix: np.ndarray, module_px: float) -> Image:
    """A grayscale image of the symbol, `module_px` pixels per module (may be fractional)."""
    img = np.where(matrix, 0, 255).astype(np.uint8)
    size = max(1, round(matrix.shape[0] * module_px))
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_NEAREST)


# -- building blocks --------------------------------------------------------------------------


def paper(rng: random.Random, h: int, w: int, *, tone: int = 245) -> Image:
    """A sheet with faint print around: lines of "text" and boxes, as on a form or a receipt."""
    sheet = np.full((h, w), tone, np.uint8)
    for _ in range(rng.randint(3, 12)):
        y = rng.randint(0, max(0, h - 10))
        x = rng.randint(0, max(0, w - 40))
        length = rng.randint(20, max(21, w // 2))
        thickness = rng.randint(1, 3)
        cv2.line(sheet, (x, y), (x + length, y), rng.randint(40, 120), thickness)
    return sheet


def place(canvas: Image, symbol: Image, y: int, x: int) -> Image:
    """Paste `symbol` into a copy of `canvas` at (y, x), clipped to the canvas."""
    out = canvas.copy()
    h = min(symbol.shape[0], out.shape[0] - y)
    w = min(symbol.shape[1], out.shape[1] - x)
    out[y : y + h, x : x + w] = symbol[:h, :w]
    return out


def on_paper(rng: random.Random, symbol: Image, margin: int) -> Image:
    """The symbol somewhere on a sheet `margin` pixels bigger on each side."""
    h, w = symbol.shape[0] + 2 * margin, symbol.shape[1] + 2 * margin
    y = rng.randint(margin // 2, margin + margin // 2)
    x = rng.randint(margin // 2, margin + margin // 2)
    return place(paper(rng, h, w), symbol, y, x)


def rotate(img: Image, angle: float, *, fill: int = 245) -> Image:
    """Rotate about the centre, growing the canvas so no corner is cut."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=fill)


def perspective(rng: random.Random, img: Image, strength: float) -> Image:
    """Warp as if photographed at an angle: each corner moves by up to `strength` of the size."""
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = [(rng.uniform(-1, 1) * strength * w, rng.uniform(-1, 1) * strength * h) for _ in src]
    dst = np.float32(
        [[x + dx, y + dy] for (x, y), (dx, dy) in zip(src.tolist(), jitter, strict=True)]
    )
    dst -= dst.min(axis=0)
    size = (int(dst[:, 0].max()) + 1, int(dst[:, 1].max()) + 1)
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, m, size, flags=cv2.INTER_LINEAR, borderValue=200)


def lighting(rng: random.Random, img: Image, depth: float) -> Image:
    """Uneven light: a linear gradient times a vignette; `depth` is the darkest fraction lost."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (xx / max(w, 1)) * math.cos(angle) + (yy / max(h, 1)) * math.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
    r = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) / max(h, w)
    gain = (1 - depth * ramp) * (1 - 0.5 * depth * np.clip(r, 0, 1))
    return np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def noise(rng: random.Random, img: Image, sigma: float) -> Image:
    """Sensor noise: gaussian with standard deviation `sigma` grey levels."""
    gen = np.random.default_rng(rng.randrange(2**32))
    return np.clip(img + gen.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def jpeg(img: Image, quality: int) -> Image:
    """Round-trip through JPEG at `quality`, for its block artefacts."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def motion_blur(img: Image, length: int, angle: float) -> Image:
    """Blur along a line of `length` pixels at `angle` degrees, as a moving hand does."""
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1
    m = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, m, (length, length))
    kernel /= max(float(kernel.sum()), 1e-6)
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REPLICATE)


def contrast(img: Image, low: int, high: int) -> Image:
    """Map black to `low` and white to `high`."""
    return (low + img.astype(np.float32) * (high - low) / 255).astype(np.uint8)


def to_bgr(rng: random.Random, img: Image, tint: float = 0.08) -> Image:
    """A colour photo of grey paper: slight white-balance tint per channel."""
    gains = [1 + rng.uniform(-tint, tint) for _ in range(3)]
    chans = [np.clip(img.astype(np.float32) * g, 0, 255).astype(np.uint8) for g in gains]
    return cv2.merge(chans)


# -- categories -------------------------------------------------------------------------------


@dataclass
class Sample:
    """One corpus image before it is written."""

    image: Image
    params: dict[str, Any] = field(default_factory=dict)
    ext: str = ".png"
    texts: list[str] | None = None  # every code's text, when the image holds more than one


def _symbol(rng: random.Random, text: str, params: dict[str, Any], module_px: float) -> Image:
    ec = rng.choice(list(EC_LEVELS))
    gbk = rng.random() < 0.17 and any(ord(c) > 127 for c in text)
    matrix = qr_matrix(text, ec=ec, gbk=gbk)
    params.update(ec=ec, gbk=gbk, modules=int(matrix.shape[0]) - 8, module_px=round(module_px, 2))
    return render(matrix, module_px)


def cat_clean(rng: random.Random, text: str) -> Sample:
    p: dict[str, Any] = {}
    img = on_paper(rng, _symbol(rng, text, p, rng.uniform(3, 6)), rng.randint(20, 120))
    return Sample(img, p)


def cat_photo(rng: random.Random, text: str) -> Sample:
    p: dict[str, Any] = {}
    img = on_paper(rng, _symbol(rng, text, p, rng.uniform(3, 5)), rng.randint(30, 100))
    p.update(warp=round(rng.uniform(0.08, 0.25), 3), light=round(rng.uniform(0.4, 0.85), 2))
    p.update(sigma=round(rng.uniform(6, 18), 1), quality=rng.randint(20, 60))
    img = perspective(rng, img, p["warp"])
    img = lighting(rng, img, p["light"])
    img = noise(rng, img, p["sigma"])
    img = cv2.GaussianBlur(img, (3, 3), 0.8)
    return Sample(jpeg(to_bgr(rng, img), p["quality"]), p, ".jpg")


def cat_rotated(rng: random.Random, text: str) -> Sample:
    p: dict[str, Any] = {"angle": round(rng.uniform(5, 355), 1)}
    img = on_paper(rng, _symbol(rng, text, p, rng.uniform(2.2, 4)), rng.randint(20, 60))
    img = rotate(img, p["angle"])
    return Sample(noise(rng, img, 3), p)


def cat_blur(rng: random.Random, text: str) -> Sample:
    p: dict[str, Any] = {}
    module = rng.uniform(3, 5.5)
    img = on_paper(rng, _symbol(rng, text, p, module), 40)
    if rng.random() < 0.5:
        p["gauss_sigma"] = round(module * rng.uniform(0.3, 0.65), 2)
        img = cv2.GaussianBlur(img, (0, 0), p["gauss_sigma"])
    else:
        p["motion_px"] = int(module * rng.uniform(0.9, 2.0))
        p["motion_angle"] = round(rng.uniform(0, 180), 1)
        img = motion_blur(img, p["motion_px"], p["motion_angle"])
    return Sample(noise(rng, img, 2), p)


def cat_lowcontrast(rng: random.Random, text: str) -> Sample:
    p: dict[str, Any] = {}
    img = on_paper(rng, _symbol(rng, text, p, rng.uniform(3, 5)), 40)
    low = rng.randint(90, 150)
    high = min(255, low + rng.randint(14, 36))
    p.update(low=low, high=high)
    img = contrast(img, low, high)
    img = lighting(rng, img, rng.uniform(0.05, 0.3))
    return Sample(noise(rng, img, rng.uniform(1, 3)), p)


def cat_inverted(rng: random.Random, text: str) -> Sample:
    p: dict[str, Any] = {}
    img = 255 - on_paper(rng, _symbol(rng, text, p, rng.uniform(2.5, 5)), 40)
    if rng.random() < 0.5:
        p["angle"] = round(rng.uniform(-25, 25), 1)
        img = rotate(img, p["angle"], fill=10)
    return Sample(noise(rng, img, 3), p)


def cat_damaged(rng: random.Random, text: str) -> Sample:
    p: dict[str, Any] = {}
    module = rng.uniform(3.5, 5)
    symbol = _symbol(rng, text, p, module)
    size = symbol.shape[0]
    quiet = int(4 * module)
    inner = size - 2 * quiet
    patches = []
    for _ in range(rng.randint(1, 3)):
        side = int(inner * rng.uniform(0.08, 0.2))
        y = quiet + rng.randint(0, inner - side)
        x = quiet + rng.randint(0, inner - side)
        tone = rng.choice([0, 255, rng.randint(60, 200)])
        cv2.rectangle(symbol, (x, y), (x + side, y + side), tone, -1)
        patches.append([y, x, side, tone])
    scratches = []
    for _ in range(rng.randint(1, 4)):
        pts = [(rng.randint(0, size), rng.randint(0, size)) for _ in range(2)]
        width = rng.randint(1, max(1, int(module * 0.8)))
        tone = rng.choice([255, 230, 30])
        cv2.line(symbol, pts[0], pts[1], tone, width)
        scratches.append([*pts[0], *pts[1], width, tone])
    p.update(patches=patches, scratches=scratches)
    img = on_paper(rng, symbol, 30)
    return Sample(noise(rng, img, 3), p)


def cat_small(rng: random.Random, text: str) -> Sample:
    p: dict[str, Any] = {}
    # Render large, then shrink: fractional module sizes with grey, aliased edges, as a lens does.
    big = on_paper(rng, _symbol(rng, text, p, 8), 80)
    p["module_px"] = round(rng.uniform(1.1, 2.0), 2)
    scale = p["module_px"] / 8
    small = cv2.resize(big, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return Sample(noise(rng, small, 2), p)


def cat_large(rng: random.Random, text: str) -> Sample:
    p: dict[str, Any] = {}
    if rng.random() < 0.5:
        # A 12-megapixel-class photo with an ordinary code somewhere in it.
        h, w = rng.choice([(3000, 4000), (2448, 3264), (4000, 3000)])
        # From a code that fills a hand's width down to a small one in a corner of the sheet.
        symbol = _symbol(rng, text, p, rng.uniform(3, 14))
        sheet = paper(rng, h, w, tone=rng.randint(150, 235))
        y = rng.randint(0, h - symbol.shape[0])
        x = rng.randint(0, w - symbol.shape[1])
        img = place(sheet, symbol, y, x)
        img = lighting(rng, img, 0.3)
        p["canvas"] = [h, w]
    else:
        # The code fills a big image: huge modules (a scan at 600 dpi of a big poster code).
        img = on_paper(rng, _symbol(rng, text, p, rng.uniform(40, 80)), 100)
        img = cv2.GaussianBlur(img, (0, 0), 2)
    img = noise(rng, img, 3)
    return Sample(jpeg(to_bgr(rng, img), 80), p, ".jpg")


def cat_screen(rng: random.Random, text: str) -> Sample:
    p: dict[str, Any] = {}
    module = rng.uniform(3, 5)
    img = on_paper(rng, _symbol(rng, text, p, module), 60)
    h, w = img.shape
    # Pixel grid of the phone screen beating against the camera's: a moiré of fine stripes.
    period = rng.uniform(2.2, 4.5)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    theta = rng.uniform(0, math.pi)
    stripes = np.sin((xx * math.cos(theta) + yy * math.sin(theta)) * 2 * math.pi / period)
    amp = rng.uniform(20, 45)
    img = np.clip(img.astype(np.float32) + amp * stripes, 0, 255)
    # A glare spot where the ceiling lights reflect.
    cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
    radius = rng.uniform(0.15, 0.35) * max(h, w)
    glare = np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2)))
    strength = rng.uniform(80, 190)
    img = np.clip(img + strength * glare, 0, 255).astype(np.uint8)
    p.update(period=round(period, 2), moire=round(amp, 1), glare=round(strength, 1))
    img = perspective(rng, img, rng.uniform(0.02, 0.1))
    return Sample(jpeg(to_bgr(rng, noise(rng, img, 4)), 60), p, ".jpg")


# -- categories of real photos: charsets, multi-line, several codes, shadows, mirrors ----------

_JAPANESE = [
    "こんにちは",
    "予約番号",
    "東京都千代田区",
    "受付は九時からです",
    "ありがとう",
    "テスト",
]
_MULTILINE = [
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:张三\r\nTEL:+86-20-12345678\r\nEND:VCARD",
    "事项:居民身份证换领\n地点:广州市政务服务中心\n时间:09:00-17:00",
    "WIFI:S:zwfw-guest;T:WPA;P:12345678;;\n",
    "预约号:A20240518-0037\r\n姓名:王**\r\n窗口:12",
    "Line one\nLine two\n\tindented\nLine four",
]


def make_kiosk_payload(rng: random.Random) -> str:
    """A payload a kiosk flow reads: its own formats, or one of `make_payload`'s."""
    kind = rng.choice(["appt", "case", "eid", "cert", "other", "other"])
    if kind == "appt":
        return "APPT:" + "".join(rng.choice("23456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(12))
    if kind == "case":
        return rng.choice(["CASE:", ""]) + "".join(rng.choice("0123456789") for _ in range(16))
    if kind == "eid":
        body = "".join(rng.choice(_B64) for _ in range(rng.randint(40, 160)))
        return f"CNEID1.{body}." + "".join(rng.choice(_B64) for _ in range(43))
    if kind == "cert":
        number = f"ZM{rng.randint(20240101, 20241231)}{rng.randint(0, 10**8 - 1):08d}"
        code = "".join(rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(8))
        host = rng.choice(_HOSTS)
        return f"https://{host}/api/v1/certificates/{number}/verification?code={code}"
    return make_payload(rng)


def segno_matrix(
    data: str | bytes, *, encoding: str | None = None, eci: bool = False
) -> np.ndarray:
    """The symbol's modules via segno (which can write ECI designators), 4-module quiet zone."""
    qr = segno.make_qr(
        data, encoding=encoding, eci=eci, error=random.Random(str(data)).choice("lmqh")
    )
    return np.pad(np.array(qr.matrix, dtype=bool), 4)


def charset_payload(rng: random.Random) -> tuple[str, np.ndarray, dict[str, Any]]:
    """A payload in one of the charsets real codes use, with its symbol."""
    kind = rng.choice(["sjis", "sjis_eci", "gb_eci", "utf8_eci", "latin1", "gb"])
    if kind.startswith("sjis"):
        text = "".join(rng.choice(_JAPANESE) for _ in range(rng.randint(1, 4)))
        matrix = segno_matrix(text.encode("shift_jis"), eci=False)
        if kind == "sjis_eci":
            matrix = segno_matrix(text, encoding="shift_jis", eci=True)
    elif kind == "gb_eci":
        text = make_payload(rng) + "：" + rng.choice(_ITEMS)
        matrix = segno_matrix(text, encoding="gb18030", eci=True)
    elif kind == "gb":
        text = rng.choice(_ITEMS) + "，" + rng.choice(_CITIES)
        matrix = segno_matrix(text.encode("gb18030"))
    elif kind == "utf8_eci":
        text = make_kiosk_payload(rng) + " — 预约 ü"
        matrix = segno_matrix(text, encoding="utf-8", eci=True)
    else:
        text = rng.choice(["Grüße aus Köln", "Café crème", "Straße 5, Zürich"])
        matrix = segno_matrix(text.encode("latin-1"))
    return text, matrix, {"charset": kind}


def mild_photo(rng: random.Random, symbol: Image, p: dict[str, Any]) -> Image:
    """A clean sheet photographed reasonably: a little warp, light, noise and JPEG."""
    img = on_paper(rng, symbol, rng.randint(30, 80))
    img = perspective(rng, img, rng.uniform(0.02, 0.08))
    img = lighting(rng, img, rng.uniform(0.1, 0.4))
    return jpeg(to_bgr(rng, noise(rng, img, rng.uniform(2, 6))), rng.randint(50, 85))


def cat_charset(rng: random.Random, text: str) -> Sample:
    text, matrix, p = charset_payload(rng)
    symbol = render(matrix, rng.uniform(3, 5))
    return Sample(mild_photo(rng, symbol, p), p, ".jpg", texts=[text])


def cat_multiline(rng: random.Random, text: str) -> Sample:
    text = rng.choice(_MULTILINE)
    p: dict[str, Any] = {"eci": rng.random() < 0.5}
    symbol = render(segno_matrix(text, encoding="utf-8", eci=p["eci"]), rng.uniform(3, 5))
    return Sample(mild_photo(rng, symbol, p), p, ".jpg", texts=[text])


def cat_multi(rng: random.Random, text: str) -> Sample:
    count = rng.randint(2, 4)
    texts = [make_kiosk_payload(rng) for _ in range(count)]
    symbols = [
        render(qr_matrix(t, ec=rng.choice(list(EC_LEVELS))), rng.uniform(2.5, 4)) for t in texts
    ]
    cell = max(s.shape[0] for s in symbols) + 20
    cols = 2
    rows = math.ceil(count / cols)
    sheet = paper(rng, rows * cell + 40, cols * cell + 40)
    for index, symbol in enumerate(symbols):
        r, c = divmod(index, cols)
        sheet = place(
            sheet, symbol, 20 + r * cell + rng.randint(0, 10), 20 + c * cell + rng.randint(0, 10)
        )
    p: dict[str, Any] = {"count": count}
    img = perspective(rng, sheet, rng.uniform(0.0, 0.06))
    img = lighting(rng, img, rng.uniform(0.1, 0.4))
    return Sample(jpeg(to_bgr(rng, noise(rng, img, 3)), 75), p, ".jpg", texts=texts)


def cat_shadow(rng: random.Random, text: str) -> Sample:
    text = make_kiosk_payload(rng)
    p: dict[str, Any] = {}
    img = on_paper(rng, _symbol(rng, text, p, rng.uniform(3, 5)), rng.randint(30, 80))
    h, w = img.shape
    # A hand or a phone between the lamp and the sheet: a hard-edged darker region.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    offset = rng.uniform(0.3, 0.7)
    side = (xx / w - offset) * math.cos(angle) + (yy / h - offset) * math.sin(angle)
    soft = cv2.GaussianBlur((side > 0).astype(np.float32), (0, 0), rng.uniform(1, 6))
    p["shadow"] = round(rng.uniform(0.35, 0.65), 2)
    img = np.clip(img * (1 - p["shadow"] * soft), 0, 255).astype(np.uint8)
    img = perspective(rng, img, rng.uniform(0.03, 0.15))
    return Sample(jpeg(to_bgr(rng, noise(rng, img, 4)), 70), p, ".jpg", texts=[text])


def cat_mirrored(rng: random.Random, text: str) -> Sample:
    text = make_kiosk_payload(rng)
    p: dict[str, Any] = {}
    img = on_paper(rng, _symbol(rng, text, p, rng.uniform(3, 5)), 40)
    img = cv2.flip(img, rng.choice([0, 1]))
    if rng.random() < 0.5:
        p["angle"] = round(rng.uniform(-30, 30), 1)
        img = rotate(img, p["angle"])
    return Sample(noise(rng, img, 3), p, texts=[text])


def cat_tinybig(rng: random.Random, text: str) -> Sample:
    text = make_kiosk_payload(rng)
    p: dict[str, Any] = {}
    h, w = rng.choice([(3000, 4000), (2448, 3264), (4000, 3000), (1944, 2592)])
    symbol = _symbol(rng, text, p, rng.uniform(2.0, 3.2))
    sheet = paper(rng, h, w, tone=rng.randint(160, 235))
    img = place(
        sheet, symbol, rng.randint(0, h - symbol.shape[0]), rng.randint(0, w - symbol.shape[1])
    )
    img = lighting(rng, img, 0.3)
    p["canvas"] = [h, w]
    return Sample(jpeg(to_bgr(rng, noise(rng, img, 3)), 85), p, ".jpg", texts=[text])


def cat_jpeg(rng: random.Random, text: str) -> Sample:
    text = make_kiosk_payload(rng)
    p: dict[str, Any] = {}
    img = on_paper(rng, _symbol(rng, text, p, rng.uniform(4, 7)), 40)
    p["shrink"] = round(rng.uniform(0.45, 0.8), 2)
    p["quality"] = rng.randint(6, 18)
    img = cv2.resize(img, None, fx=p["shrink"], fy=p["shrink"], interpolation=cv2.INTER_AREA)
    return Sample(jpeg(to_bgr(rng, img), p["quality"]), p, ".jpg", texts=[text])


def cat_perspective(rng: random.Random, text: str) -> Sample:
    text = make_kiosk_payload(rng)
    p: dict[str, Any] = {}
    img = on_paper(rng, _symbol(rng, text, p, rng.uniform(4, 6)), rng.randint(30, 80))
    p["warp"] = round(rng.uniform(0.2, 0.35), 3)
    img = perspective(rng, img, p["warp"])
    img = lighting(rng, img, rng.uniform(0.3, 0.7))
    return Sample(jpeg(to_bgr(rng, noise(rng, img, 5)), 70), p, ".jpg", texts=[text])


CATEGORIES: dict[str, Callable[[random.Random, str], Sample]] = {
    "clean": cat_clean,
    "photo": cat_photo,
    "rotated": cat_rotated,
    "blur": cat_blur,
    "lowcontrast": cat_lowcontrast,
    "inverted": cat_inverted,
    "damaged": cat_damaged,
    "small": cat_small,
    "large": cat_large,
    "screen": cat_screen,
    "charset": cat_charset,
    "multiline": cat_multiline,
    "multi": cat_multi,
    "shadow": cat_shadow,
    "mirrored": cat_mirrored,
    "tinybig": cat_tinybig,
    "jpeg": cat_jpeg,
    "perspective": cat_perspective,
}


def make_sample(category: str, seed: int, index: int) -> tuple[str, Sample]:
    """The `index`-th image of `category` for `seed`: its expected text and the sample."""
    # Each image has its own generator: one image can change without shifting all the others.
    rng = random.Random(f"{seed}:{category}:{index}")
    text = make_payload(rng)
    sample = CATEGORIES[category](rng, text)
    return (sample.texts[0] if sample.texts else text), sample


def generate_corpus(
    out_dir: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    per_category: int = DEFAULT_PER_CATEGORY,
    categories: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Write the corpus images and ``manifest.json`` into `out_dir`; return the manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest: list[dict[str, Any]] = []
    for category in categories or list(CATEGORIES):
        for index in range(per_category):
            text, sample = make_sample(category, seed, index)
            name = f"{category}_{index:03d}{sample.ext}"
            params = [cv2.IMWRITE_JPEG_QUALITY, 92] if sample.ext == ".jpg" else []
            if not cv2.imwrite(str(out / name), sample.image, params):
                raise OSError(f"cannot write {out / name}")
            texts = sample.texts or [text]
            manifest.append(
                {"file": name, "category": category, "texts": texts, "params": sample.params}
            )
    payload = {"seed": seed, "per_category": per_category, "images": manifest}
    (out / "manifest.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1), "utf-8")
    return manifest


def load_manifest(corpus_dir: str | Path) -> list[dict[str, Any]]:
    """The image entries of a corpus written by `generate_corpus`."""
    data = json.loads((Path(corpus_dir) / "manifest.json").read_text("utf-8"))
    return list(data["images"])


def main(argv: list[str] | None = None) -> int:
    """Generate the corpus and print where it went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="var/qr_corpus", help="output directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--per-category", type=int, default=DEFAULT_PER_CATEGORY)
    args = parser.parse_args(argv)
    manifest = generate_corpus(args.out, seed=args.seed, per_category=args.per_category)
    print(f"{len(manifest)} images in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

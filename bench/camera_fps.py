"""Frames per second through the camera capture thread, with and without QR decoding.

    python bench/camera_fps.py [--seconds 3] [--frames 150] [--sizes 640x480,1280x720]

For each size a clip is written (OpenCV's VideoWriter, MPEG-4) with a QR code that appears,
moves and leaves, and a second one later; then it is played in a loop through the capture
thread for a fixed time, in the same process:

- capture only: the baseline, frames read and published per second, as fast as possible;
- capture + decoder: the QR decoder subscribed as in the kiosk, unthrottled (it takes the
  newest frame each time it is free, so it skips frames rather than slowing capture): both
  the capture rate and the decode rate are shown, with their ratios to the baseline;
- every frame decoded: read and decode one after the other, the rate if no frame were skipped;
- kiosk setting: paced at the clip's 30 fps with the decoder at 10 Hz, as deployed: CPU use.

CPU is process time over wall time (200 % is both cores). The hit count is the decoded frames
that yielded a code, out of those that had one in view.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# Runnable as a plain script from a checkout: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.camera.capture import Capture, Frame, Pacing  # noqa: E402
from drivers.camera.qr import decode_qr  # noqa: E402
from drivers.camera.sources import VideoFileSource  # noqa: E402
from drivers.camera.synthetic import QrScript, write_qr_clip  # noqa: E402


def scripts_for(frames: int) -> list[QrScript]:
    """Two codes: one from 10 % to 60 % of the clip, one from 50 % to the end."""
    return [
        QrScript("https://zwfw.example.gov.cn/qr/0001", start=frames // 10, stop=frames * 6 // 10),
        QrScript("KIOSK-TICKET-A0042", start=frames // 2, module_px=5),
    ]


@dataclass
class Result:
    """One run's figures."""

    frames: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # process CPU seconds
    decoded: int = 0
    hits: int = 0
    with_code: int = 0

    @property
    def fps(self) -> float:
        """Frames captured per second."""
        return self.frames / self.seconds if self.seconds else 0.0

    @property
    def decode_fps(self) -> float:
        """Frames decoded per second."""
        return self.decoded / self.seconds if self.seconds else 0.0

    @property
    def cpu_percent(self) -> float:
        """CPU use in percent of one core."""
        return 100 * self.cpu / self.seconds if self.seconds else 0.0


class QrCounter:
    """The analyzer: decodes a frame, counts hits against what the clip shows."""

    def __init__(self, scripts: list[QrScript], clip_frames: int) -> None:
        self.scripts = scripts
        self.clip_frames = clip_frames
        self.lock = threading.Lock()
        self.decoded = self.hits = self.with_code = 0

    def __call__(self, frame: Frame) -> None:
        codes = decode_qr(frame.image)
        position = frame.index % self.clip_frames  # the clip loops
        visible = any(s.visible(position) for s in self.scripts)
        with self.lock:
            self.decoded += 1
            self.with_code += visible
            self.hits += bool(codes) and visible


def run_capture(
    clip: Path,
    seconds: float,
    *,
    pacing: Pacing = Pacing.FAST,
    counter: QrCounter | None = None,
    rate_hz: float | None = None,
) -> Result:
    """Loop the clip through the capture thread for `seconds`, optionally with the decoder."""
    capture = Capture(lambda: VideoFileSource(str(clip), loop=True), pacing=pacing, name="bench")
    wall, cpu = time.perf_counter(), time.process_time()
    capture.start()
    if counter is not None:
        capture.subscribe(counter, rate_hz=rate_hz, name="qr")
    time.sleep(seconds)
    result = Result(
        frames=capture.stats().frames,
        seconds=time.perf_counter() - wall,
        cpu=time.process_time() - cpu,
    )
    capture.stop()
    if counter is not None:
        result.decoded, result.hits, result.with_code = (
            counter.decoded,
            counter.hits,
            counter.with_code,
        )
    return result


def every_frame(clip: Path, seconds: float, scripts: list[QrScript], clip_frames: int) -> Result:
    """Read and decode each frame in turn for `seconds`: the cost of decoding every frame."""
    source = VideoFileSource(str(clip), loop=True)
    result = Result()
    wall, cpu = time.perf_counter(), time.process_time()
    deadline = wall + seconds
    while time.perf_counter() < deadline:
        ok, image = source.read()
        if not ok or image is None:
            break
        visible = any(s.visible(result.frames % clip_frames) for s in scripts)
        codes = decode_qr(image)
        result.frames += 1
        result.decoded += 1
        result.with_code += visible
        result.hits += bool(codes) and visible
    result.seconds = time.perf_counter() - wall
    result.cpu = time.process_time() - cpu
    source.close()
    return result


def main(argv: list[str] | None = None) -> int:
    """Write the clips, run the measurements per size, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--frames", type=int, default=150, help="clip length (looped)")
    parser.add_argument("--sizes", default="640x480,1280x720")
    args = parser.parse_args(argv)
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    scripts = scripts_for(args.frames)
    print(
        f"Camera capture + QR decode: {args.frames}-frame MPEG-4 clips looped, "
        f"{args.seconds:g} s a measurement"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in sizes:
            clip = write_qr_clip(
                Path(tmp) / f"qr_{width}x{height}.mp4",
                size=(width, height),
                frames=args.frames,
                scripts=scripts,
            )
            run_capture(clip, 0.5)  # warm-up: codec, page cache
            base = run_capture(clip, args.seconds)
            sub = run_capture(clip, args.seconds, counter=QrCounter(scripts, args.frames))
            serial = every_frame(clip, args.seconds, scripts, args.frames)
            kiosk = run_capture(
                clip,
                args.seconds,
                pacing=Pacing.REALTIME,
                counter=QrCounter(scripts, args.frames),
                rate_hz=10.0,
            )
            print(f"  {width}x{height}")
            print(
                f"    capture only:        {base.fps:7.1f} fps (baseline)"
                f"                                   CPU {base.cpu_percent:3.0f} %"
            )
            print(
                f"    capture + decoder:   {sub.fps:7.1f} fps captured ({sub.fps / base.fps:.2f}),"
                f" {sub.decode_fps:6.1f} fps decoded ({sub.decode_fps / base.fps:.3f})"
                f"  CPU {sub.cpu_percent:3.0f} %  hits {sub.hits}/{sub.with_code}"
            )
            print(
                f"    every frame decoded: {serial.fps:7.1f} fps ({serial.fps / base.fps:.3f})"
                f"                                   CPU {serial.cpu_percent:3.0f} %"
                f"  hits {serial.hits}/{serial.with_code}"
            )
            print(
                f"    kiosk setting:       {kiosk.fps:7.1f} fps captured,"
                f" {kiosk.decode_fps:6.1f} fps decoded (10 Hz cap)"
                f"          CPU {kiosk.cpu_percent:3.0f} %  hits {kiosk.hits}/{kiosk.with_code}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

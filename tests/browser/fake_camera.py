"""A fake camera for Chromium: a Y4M video of an image (e.g. the QR a member's phone shows).

Chromium plays the file in a loop as its camera with
``--use-fake-ui-for-media-stream --use-fake-device-for-media-stream
--use-file-for-fake-video-capture=<file>.y4m``. The file is YUV 4:2:0 with JPEG (full range)
colours, ``C420jpeg``, which is what Pillow's ``YCbCr`` mode gives.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

# The scanner asks for an ideal 720x720; the library's own defaults would even demand >= 640 px
# in both dimensions, so a square 720 video satisfies either.
SIZE = 720


def camera_args(video: Path) -> list[str]:
    """Chromium flags that make ``video`` the (only) camera and allow it without a prompt."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]


def frame_of(image: Image.Image, *, size: int = SIZE, margin: int = 60) -> Image.Image:
    """``image`` centred on a white square ``size`` wide with at least ``margin`` px of white
    around it (the QR quiet zone), as RGB. Larger images are scaled down (BOX filter)."""
    canvas = Image.new("RGB", (size, size), "white")
    picture = image.convert("RGB")
    room = size - 2 * margin
    if picture.width > room or picture.height > room:
        picture.thumbnail((room, room), Image.Resampling.BOX)
    canvas.paste(picture, ((size - picture.width) // 2, (size - picture.height) // 2))
    return canvas


def write_y4m(path: Path, frame: Image.Image, *, frames: int = 10, fps: int = 10) -> Path:
    """Write ``frames`` copies of ``frame`` (even width and height) as a C420jpeg Y4M video."""
    width, height = frame.size
    if width % 2 or height % 2:
        raise ValueError("Y4M 4:2:0 needs an even width and height")
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half, Image.Resampling.BOX).tobytes() + cr.resize(half, Image.Resampling.BOX).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(planes)
    return path

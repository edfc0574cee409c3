"""What an inspector shows people: heat-map overlays with outlined regions, and batch reports (CSV, zip)."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import numpy as np
from PIL import Image, ImageDraw

from domains.manufacturing.inspection.calibration import Region

__all__ = ["heat_overlay", "outline_regions", "report_csv", "report_zip", "to_png", "verdict_image"]

FAIL_COLOUR = (255, 40, 40)
PASS_COLOUR = (40, 200, 90)


def _heat_colours(values: np.ndarray) -> np.ndarray:
    """A black-red-yellow-white ramp for values in [0, 1]: ``(..., 3)`` float."""
    v = np.clip(values, 0, 1)[..., None]
    return np.clip(np.concatenate([3 * v, 3 * v - 1, 3 * v - 2], axis=-1), 0, 1)


def heat_overlay(
    image: np.ndarray, anomaly_map: np.ndarray, threshold: float, strength: float = 0.6
) -> np.ndarray:
    """The image with its anomaly map laid over it, as ``(H, W, 3)`` uint8.

    The colour scale is fixed by the threshold (twice the threshold is full heat), so images compare at a
    glance; the map is only drawn where it reaches half the threshold, so good areas stay visible.
    """
    scale = max(2 * threshold, 1e-8)
    heat = np.clip(anomaly_map / scale, 0, 1)
    alpha = strength * np.clip((heat - 0.25) / 0.25, 0, 1)[..., None]
    mixed = image * (1 - alpha) + _heat_colours(heat) * alpha
    return (np.clip(mixed, 0, 1) * 255).round().astype(np.uint8)


def outline_regions(
    picture: np.ndarray, regions: list[Region], colour: tuple[int, int, int] = FAIL_COLOUR
) -> np.ndarray:
    """``picture`` (uint8) with a box around every region, numbered by rank."""
    image = Image.fromarray(picture)
    draw = ImageDraw.Draw(image)
    width = max(1, round(max(picture.shape[:2]) / 160))
    for rank, region in enumerate(regions, start=1):
        draw.rectangle([region.x0 - 1, region.y0 - 1, region.x1, region.y1], outline=colour, width=width)
        draw.text((region.x0 + 2, max(0, region.y0 - 11)), str(rank), fill=colour)
    return np.asarray(image)


def verdict_image(
    image: np.ndarray, anomaly_map: np.ndarray, threshold: float, regions: list[Region], passed: bool
) -> np.ndarray:
    """Overlay, outlined regions and a coloured frame (green pass, red fail): ``(H, W, 3)`` uint8."""
    picture = outline_regions(heat_overlay(image, anomaly_map, threshold), regions)
    frame = max(2, round(max(picture.shape[:2]) / 100))
    framed = picture.copy()
    colour = np.array(PASS_COLOUR if passed else FAIL_COLOUR, dtype=np.uint8)
    framed[:frame], framed[-frame:], framed[:, :frame], framed[:, -frame:] = colour, colour, colour, colour
    return framed


def to_png(picture: np.ndarray) -> bytes:
    """PNG bytes of a uint8 ``(H, W, 3)`` array (or a float one in [0, 1])."""
    if picture.dtype != np.uint8:
        picture = (np.clip(picture, 0, 1) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def report_csv(rows: list[dict[str, object]]) -> str:
    """Rows (``InspectionReport.rows()``) as CSV text."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _safe_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit("/", 1)[-1]).strip("._") or "image"
    return stem.rsplit(".", 1)[0] if "." in stem else stem


def report_zip(pictures: list[np.ndarray], names: list[str], csv_text: str) -> bytes:
    """A zip of every overlay (``<n>_<name>.png``) and the CSV report."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.csv", csv_text)
        for i, (picture, name) in enumerate(zip(pictures, names, strict=True), start=1):
            archive.writestr(f"overlays/{i:04d}_{_safe_stem(name)}.png", to_png(picture))
    return buffer.getvalue()

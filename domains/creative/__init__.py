"""Creative capabilities: art style transfer (painterly texture synthesis, fast networks, colour)."""

from __future__ import annotations

from domains.creative.colour import keep_colours, reinhard, sliced_ot_transfer, transfer_colour
from domains.creative.fast import (
    FastStyle,
    FastStyleSpec,
    TrainingStoppedError,
    apply_fast,
    list_fast_styles,
    open_fast_style,
    spec_for,
    train_fast_style,
)
from domains.creative.images import CONTENT_PHOTOS, UploadLimits, check_upload, content_photo, png_bytes
from domains.creative.limits import Limit
from domains.creative.measures import StyleMeasures, measure
from domains.creative.painterly import PAINTERLY_LIMITS, PainterlyConfig, stylise_painterly
from domains.creative.procedural import PROCEDURAL_STYLES, draw_style
from domains.creative.style_transfer import METHODS, Method, StyleResult, StyleSettings, stylise

__all__ = [
    "CONTENT_PHOTOS",
    "METHODS",
    "PAINTERLY_LIMITS",
    "PROCEDURAL_STYLES",
    "FastStyle",
    "FastStyleSpec",
    "Limit",
    "Method",
    "PainterlyConfig",
    "StyleMeasures",
    "StyleResult",
    "StyleSettings",
    "TrainingStoppedError",
    "UploadLimits",
    "apply_fast",
    "check_upload",
    "content_photo",
    "draw_style",
    "keep_colours",
    "list_fast_styles",
    "measure",
    "open_fast_style",
    "png_bytes",
    "reinhard",
    "sliced_ot_transfer",
    "spec_for",
    "stylise",
    "stylise_painterly",
    "train_fast_style",
    "transfer_colour",
]

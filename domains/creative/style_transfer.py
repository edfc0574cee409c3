"""Style transfer, one entry point for every method: painterly (texture synthesis), fast (a trained
network per style) and colour (Reinhard or sliced optimal transport), each with "keep original
colours", and the measures computed for every result.

Example:
    >>> from domains.creative import StyleSettings, content_photo, draw_style, stylise
    >>> result = stylise(content_photo("coffee"), draw_style("mosaic"), StyleSettings(method="colour"))
    >>> result.measures.colour_distance
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from domains.creative.colour import ColourMethod, keep_colours, match_palette, transfer_colour
from domains.creative.fast import FastStyle, apply_fast
from domains.creative.images import fit_size, resize
from domains.creative.measures import StyleMeasures, measure
from domains.creative.painterly import PainterlyConfig, stylise_painterly
from shared_models.exceptions import InputError
from shared_models.progress import Progress, ProgressCallback

__all__ = ["METHODS", "Method", "StyleResult", "StyleSettings", "stylise"]

Method = Literal["painterly", "fast", "colour"]
METHODS: tuple[Method, ...] = ("painterly", "fast", "colour")
# Sliced-OT rounds that restore the style's palette after the fast network. Chosen on photos the
# benchmark does not score (chelsea, rocket; the four paintings' networks): from 6 to 24 rounds the
# colour distance fell by 34-61 % for Matisse and The Scream and held for the others,
# for about 0.2 s more per 512 px image.
FAST_COLOUR_ROUNDS = 24


@dataclass(frozen=True)
class StyleSettings:
    """What to do with a content photo and a style.

    Attributes:
        method: ``painterly`` (brush strokes, seconds), ``fast`` (a trained network, under a second)
            or ``colour`` (classical colour transfer only).
        colour_method: For ``colour``: ``reinhard`` (Lab means and spreads) or ``sliced-ot``.
        keep_colours: Keep the photo's own colours; take only lightness and strokes from the style.
        painterly: Painterly controls; its ``output_size`` sets the output size of every method.
    """

    method: Method = "painterly"
    colour_method: ColourMethod = "reinhard"
    keep_colours: bool = False
    painterly: PainterlyConfig = field(default_factory=PainterlyConfig)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"unknown method {self.method!r}; available: {list(METHODS)}")
        if self.colour_method not in ("reinhard", "sliced-ot"):
            raise InputError(
                f"unknown colour method {self.colour_method!r}; available: ['reinhard', 'sliced-ot']"
            )

    @property
    def output_size(self) -> int:
        return self.painterly.output_size


@dataclass
class StyleResult:
    """A stylised image with what is needed to show and judge it.

    Attributes:
        image: ``(H, W, 3)`` float32 RGB in [0, 1] at the output size.
        content: The content photo at the output size (the "before").
        measures: Colour and texture distance to the style, SSIM to the content.
        seconds: Time the stylisation took (measures excluded).
        stopped: True when a stop request ended painterly work early (the image is still usable).
        previews: Painterly: the image at the end of each scale.
    """

    image: np.ndarray
    content: np.ndarray
    measures: StyleMeasures
    seconds: float
    stopped: bool = False
    previews: list[np.ndarray] = field(default_factory=list)


def _check_image(image: np.ndarray, what: str) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 16:
        raise InputError(f"the {what} must be an RGB image of at least 16x16 px, got shape {image.shape}")


def stylise(
    content: np.ndarray,
    style: np.ndarray,
    settings: StyleSettings | None = None,
    keep_mask: np.ndarray | None = None,
    fast_style: FastStyle | None = None,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    on_painted: Callable[[np.ndarray, np.ndarray], None] | None = None,
) -> StyleResult:
    """Stylise a content photo after a style image with the chosen method, then measure the result.

    Args:
        content: ``(H, W, 3)`` float RGB in [0, 1].
        style: ``(H', W', 3)`` float RGB in [0, 1] (the painting or built-in style).
        settings: Method and controls (default: painterly at 512 px).
        keep_mask: Painterly only: ``(H, W)`` in [0, 1]; where 1 the content is kept more strongly.
        fast_style: The trained network, required for the ``fast`` method.
        on_progress: Painterly progress with a preview per scale; returning False stops.
        stop: Set it to stop painterly work at once (the painting so far is returned, measured).
        on_painted: Called with ``(image, content at the output size)`` as soon as the image is
            painted, before it is measured, so a caller can keep it even if it is interrupted then.

    Returns:
        A `StyleResult`.

    Raises:
        InputError: A malformed image, or ``fast`` without a trained style.
    """
    settings = settings or StyleSettings()
    _check_image(content, "content photo")
    _check_image(style, "style image")
    before = resize(content, fit_size(content.shape, settings.output_size))
    started = time.perf_counter()
    stopped, previews = False, []
    if settings.method == "painterly":
        painted = stylise_painterly(content, style, settings.painterly, keep_mask, on_progress, stop)
        image, stopped, previews = painted.image, painted.stopped, painted.previews
    elif settings.method == "fast":
        if fast_style is None:
            raise InputError("the fast method needs a trained fast style; train one for this style first")
        # The network learns strokes well but, as any regression, pulls colours towards their mean;
        # quick sliced optimal-transport rounds restore the style's palette. The palette is taken
        # from the style at the output's size, as the painterly mode takes it: a painting's fine
        # colour speckle averages out when it is shown smaller, so its full-resolution palette is
        # wider than what the same painting looks like at 512 px (Starry Night's colour distance:
        # 3.4 against the file's palette, 1.0 against the resized one).
        image = apply_fast(fast_style, content, settings.output_size)
        palette = resize(style, fit_size(style.shape, max(image.shape[:2])))
        image = match_palette(image, palette, FAST_COLOUR_ROUNDS)
    else:
        image = transfer_colour(before, style, settings.colour_method, seed=settings.painterly.seed)
    if settings.keep_colours:
        image = keep_colours(image, before)
    seconds = time.perf_counter() - started
    if on_painted is not None:
        on_painted(image, before)
    if on_progress is not None:
        on_progress(Progress(step=1, total=1, message="measuring", elapsed_s=seconds))
    return StyleResult(image, before, measure(image, before, style), seconds, stopped, previews)

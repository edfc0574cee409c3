"""Widgets and views of the Style Transfer page: inputs with thumbnails, controls, the live panel,
results with measures and downloads, and the gallery of earlier results.

The cached loaders live here rather than in `suite/resources.py` because they are small pure images
(``st.cache_data``) used by this page only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from domains.creative import (
    CONTENT_PHOTOS,
    PAINTERLY_LIMITS,
    PROCEDURAL_STYLES,
    Limit,
    PainterlyConfig,
    StyleSettings,
    check_upload,
    content_photo,
    draw_style,
    png_bytes,
)
from domains.creative.fast import fast_styles_for
from domains.creative.images import fit_size, resize
from suite.capabilities.style_transfer.runner import STYLE_SIZE, list_results, store_root
from suite.components.feedback import user_errors
from suite.jobs import JobView
from suite.workspace import RunRecord, Workspace

__all__ = [
    "Inputs",
    "keep_region",
    "pick_content",
    "pick_fast_style",
    "pick_style",
    "render_gallery",
    "render_job_details",
    "render_result",
    "render_settings",
]

METHOD_LABELS = {
    "painterly": "Painterly (brush strokes, seconds)",
    "fast": "Fast (trained network, under a second)",
    "colour": "Colour only (classical transfer)",
}
MEASURE_LABELS = {
    "colour_distance": (
        "Colour distance",
        ".2f",
        "Sliced Wasserstein on Lab pixels to the style; lower is closer.",
    ),
    "texture_distance": (
        "Texture distance",
        ".3f",
        "Multi-scale structure-tensor statistics vs the style; lower is closer (white noise scores far).",
    ),
    "ssim": ("SSIM to the photo", ".2f", "Luminance structure kept from the photo; 1 is identical."),
}
SIZE = PAINTERLY_LIMITS["output_size"]
# The output sizes offered: the whole allowed range, in steps a user tells apart.
SIZES = tuple(sorted({int(SIZE.low), *(s for s in (128, 256, 384, 512, 768) if s in SIZE), int(SIZE.high)}))
THUMB = 160


@st.cache_data(show_spinner=False, max_entries=16)
def bundled_photo(name: str) -> np.ndarray:
    return content_photo(name)


@st.cache_data(show_spinner="Drawing the style…", max_entries=16)
def built_in_style(name: str) -> np.ndarray:
    return draw_style(name, STYLE_SIZE)


@st.cache_data(show_spinner="Checking the upload…", max_entries=8)
def uploaded_image(data: bytes, name: str) -> np.ndarray:
    return check_upload(data, name)


def _thumbnail(image: np.ndarray) -> np.ndarray:
    return resize(image, fit_size(image.shape, THUMB))


@dataclass
class Inputs:
    content: np.ndarray
    content_name: str
    style: np.ndarray
    style_name: str


def _pick(
    page_id: str, what: str, names: list[str], load: Callable[[str], np.ndarray]
) -> tuple[np.ndarray | None, str]:
    source = st.radio(what, ["Built-in", "Upload"], horizontal=True, key=f"{page_id}.{what}_source")
    if source == "Built-in":
        name = st.selectbox(f"{what} image", names, key=f"{page_id}.{what}", label_visibility="collapsed")
        image = load(name)
    else:
        upload = st.file_uploader(
            f"{what} image (PNG, JPEG, WebP or BMP; up to 15 MB)",
            type=["png", "jpg", "jpeg", "webp", "bmp"],
            key=f"{page_id}.{what}_upload",
        )
        if upload is None:
            return None, ""
        with user_errors():
            image = uploaded_image(upload.getvalue(), upload.name)
        name = upload.name
    st.image(_thumbnail(image), width=THUMB)
    return image, name


def pick_content(page_id: str) -> tuple[np.ndarray | None, str]:
    return _pick(page_id, "Content", sorted(CONTENT_PHOTOS), bundled_photo)


def pick_style(page_id: str) -> tuple[np.ndarray | None, str]:
    return _pick(page_id, "Style", sorted(PROCEDURAL_STYLES), built_in_style)


def render_settings(page_id: str) -> StyleSettings:
    """Method and controls; returns the typed settings."""
    method = st.radio(
        "Method", list(METHOD_LABELS), format_func=METHOD_LABELS.get, key=f"{page_id}.method", index=0
    )
    size = st.select_slider("Output size (longest side, px)", SIZES, value=512, key=f"{page_id}.size")
    colour_method = "reinhard"
    painterly = {"output_size": size}
    if method == "painterly":
        painterly["content_weight"] = _slider(
            page_id, "content_weight", "Content weight", 1.0, 0.1,
            "How much of the photo is blended back where it has edges; 0 is pure texture.",
        )  # fmt: skip
        painterly["style_scale"] = _slider(
            page_id, "style_scale", "Stroke size", 1.0, 0.1,
            "Multiplies the patch sizes (33/21/13/9 px): larger gives bigger strokes.",
        )  # fmt: skip
        with st.expander("More controls"):
            painterly["scales"] = _slider(page_id, "scales", "Scales (coarse to fine)", 3)
            painterly["iterations"] = _slider(page_id, "iterations", "Rounds per patch size", 3)
            seed = PAINTERLY_LIMITS["seed"]
            painterly["seed"] = int(st.number_input("Seed", seed.low, seed.high, 0, key=f"{page_id}.seed"))
    elif method == "colour":
        colour_method = st.radio(
            "Colour transfer",
            ["reinhard", "sliced-ot"],
            format_func={
                "reinhard": "Reinhard (Lab means and spreads)",
                "sliced-ot": "Sliced optimal transport",
            }.get,
            key=f"{page_id}.colour_method",
        )
    keep = st.checkbox(
        "Keep original colours",
        key=f"{page_id}.keep_colours",
        help="Take strokes and light from the style only.",
    )
    with user_errors():
        return StyleSettings(method, colour_method, keep, PainterlyConfig(**painterly))


def _slider(
    page_id: str, name: str, label: str, value: float, step: float | None = None, help: str | None = None
) -> Any:
    """A slider over the control's allowed range (`PAINTERLY_LIMITS`, the domain's own check)."""
    limit: Limit = PAINTERLY_LIMITS[name]
    return st.slider(label, limit.low, limit.high, value, step, key=f"{page_id}.{name}", help=help)


def keep_region(page_id: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """Optional rectangle where the photo is kept more strongly (a face, a logo), as a mask."""
    if not st.checkbox("Keep a region of the photo (face, logo)", key=f"{page_id}.keep_region"):
        return None
    left, right = st.slider("Region, left to right (%)", 0, 100, (30, 70), key=f"{page_id}.region_x")
    top, bottom = st.slider("Region, top to bottom (%)", 0, 100, (10, 50), key=f"{page_id}.region_y")
    mask = np.zeros(shape[:2], np.float32)
    height, width = shape[:2]
    mask[top * height // 100 : bottom * height // 100, left * width // 100 : right * width // 100] = 1.0
    return mask


def pick_fast_style(page_id: str, workspace: Workspace, style: np.ndarray) -> str | None:
    """The model-store key of the trained fast style chosen for this style image (newest first)."""
    matching = fast_styles_for(store_root(workspace), style)
    if not matching:
        st.info(
            "No fast network is trained for this style yet: train one below (it paints its training "
            "examples first, then trains for the budget you set)."
        )
        return None
    choice = st.selectbox(
        "Trained fast network",
        matching,
        format_func=lambda e: f"{e['name']} · trained {e['created'][:16]} · {e['seconds']:.0f} s",
        key=f"{page_id}.fast",
    )
    return str(choice["key"])


def render_job_details(view: JobView) -> None:
    """Under the live progress bar: the latest preview and, while a fast network trains, its loss."""
    points = [p for p in view.history if "loss" in p]
    if points:
        frame = pd.DataFrame(points).set_index("step")
        st.line_chart(frame[["loss"]], height=180)
    if isinstance(view.preview, np.ndarray):
        st.image(view.preview, caption="Live preview (updated at the end of each scale)", width=384)


def render_result(page_id: str, workspace: Workspace, run_id: int) -> None:
    """Before/after, the three measures and the downloads of one recorded stylisation."""
    record = workspace.get_run(run_id)
    st.subheader(f"Run {run_id}: {record.params.get('content')} in the style of {record.params.get('style')}")
    before_after = workspace.artifact_path(run_id, "before_after.png").read_bytes()
    st.image(before_after, caption="Before and after", width="stretch")
    metrics = record.metrics
    cols = st.columns(4)
    for col, (key, (label, fmt, help_text)) in zip(cols, MEASURE_LABELS.items(), strict=False):
        # a run ended while it was measured has its image but no measures
        col.metric(label, format(metrics[key], fmt) if key in metrics else "not measured", help=help_text)
    cols[3].metric("Seconds", f"{metrics['seconds']:.1f}" if "seconds" in metrics else "–")
    downloads = st.columns(3)
    downloads[0].download_button(
        "Result (PNG)",
        workspace.artifact_path(run_id, "result.png").read_bytes(),
        f"style_{run_id}.png",
        "image/png",
        key=f"{page_id}.dl_result",
        on_click="ignore",
    )
    downloads[1].download_button(
        "Before/after (PNG)", before_after, f"style_{run_id}_before_after.png", "image/png",
        key=f"{page_id}.dl_pair", on_click="ignore",
    )  # fmt: skip
    if "measures.json" not in record.artifacts:
        return
    downloads[2].download_button(
        "Measures (JSON)",
        workspace.artifact_path(run_id, "measures.json").read_bytes(),
        f"style_{run_id}_measures.json",
        "application/json",
        key=f"{page_id}.dl_measures",
        on_click="ignore",
    )


def render_gallery(page_id: str, workspace: Workspace, columns: int = 4) -> int | None:
    """Thumbnails of earlier results; returns the run a user chose to open."""
    records: list[RunRecord] = list_results(workspace)
    if not records:
        return None
    st.subheader("Gallery of earlier results")
    chosen = None
    for start in range(0, len(records), columns):
        for col, record in zip(st.columns(columns), records[start : start + columns], strict=False):
            with col:
                st.image(workspace.artifact_path(record.id, "result.png").read_bytes(), width="stretch")
                label = f"Run {record.id}: {record.params.get('style')} · {record.params.get('method')}"
                if st.button(label, key=f"{page_id}.open_{record.id}", type="tertiary"):
                    chosen = record.id
    return chosen


def thumbnail_png(image: np.ndarray) -> bytes:
    return png_bytes(_thumbnail(image))

"""Style transfer on tiny images: determinism, measures that move the right way (and are not fooled by
white noise), colour methods, keep-colours, keep-mask, stopping, and every bad upload."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image

from domains.creative import (
    PainterlyConfig,
    StyleSettings,
    UploadLimits,
    check_upload,
    content_photo,
    draw_style,
    stylise,
    stylise_painterly,
)
from domains.creative.colour import (
    _quantile_map,
    keep_colours,
    match_histograms,
    match_palette,
    reinhard,
    sliced_ot_transfer,
    to_lab,
)
from domains.creative.images import fit_size, resize
from domains.creative.measures import colour_distance, texture_distance
from shared_models.exceptions import InputError, ResourceLimitError
from shared_models.progress import Progress

SIZE = 96
TINY = PainterlyConfig(output_size=SIZE, scales=2, iterations=2, style_patches=4000, seed=3)


@pytest.fixture(scope="module")
def content() -> np.ndarray:
    photo = content_photo("astronaut")
    return resize(photo, fit_size(photo.shape, SIZE))


@pytest.fixture(scope="module")
def style() -> np.ndarray:
    return draw_style("swirl", SIZE * 2, seed=1)


@pytest.fixture(scope="module")
def painted(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    return stylise_painterly(content, style, TINY).image


def test_painterly_is_deterministic_for_a_seed(
    content: np.ndarray, style: np.ndarray, painted: np.ndarray
) -> None:
    again = stylise_painterly(content, style, TINY).image
    other = stylise_painterly(content, style, PainterlyConfig(**{**TINY.__dict__, "seed": 4})).image
    assert painted.shape == (SIZE, SIZE, 3) and painted.dtype == np.float32
    np.testing.assert_array_equal(painted, again)
    assert np.abs(painted - other).mean() > 0.01


def test_stylised_is_closer_to_the_style_than_the_content_is(
    content: np.ndarray, style: np.ndarray, painted: np.ndarray
) -> None:
    assert colour_distance(painted, style) < 0.5 * colour_distance(content, style)
    assert texture_distance(painted, style) < 0.8 * texture_distance(content, style)


@pytest.mark.parametrize("style_name", ["swirl", "stained_glass", "ink_hatching", "mosaic"])
def test_white_noise_is_not_counted_as_style(content: np.ndarray, style_name: str) -> None:
    """White noise carrying the style's exact colours stays far from the style in texture, farther than
    a real stylisation (a first-order gradient histogram failed this check in the issue's trial)."""
    style = draw_style(style_name, SIZE * 2, seed=1)
    painted = stylise_painterly(content, style, TINY).image
    rng = np.random.default_rng(0)
    noise = match_histograms(rng.random(content.shape).astype(np.float32), resize(style, content.shape[:2]))
    assert texture_distance(noise, style) > 1.5 * texture_distance(painted, style)


def test_colour_methods_move_colours_towards_the_style(content: np.ndarray, style: np.ndarray) -> None:
    before = colour_distance(content, style)
    by_reinhard = reinhard(content, style)
    by_transport = sliced_ot_transfer(content, style, seed=0)
    assert colour_distance(by_reinhard, style) < 0.7 * before
    assert colour_distance(by_transport, style) < 0.5 * colour_distance(by_reinhard, style)
    lab, target = to_lab(by_reinhard).reshape(-1, 3), to_lab(style).reshape(-1, 3)
    np.testing.assert_allclose(lab[:, 0].mean(), target[:, 0].mean(), atol=3.0)


def test_quick_palette_match_moves_colours_and_its_lookup_table_agrees_with_interp(
    content: np.ndarray, style: np.ndarray
) -> None:
    matched = match_palette(content, style, rounds=6)
    assert matched.shape == content.shape and matched.min() >= 0 and matched.max() <= 1
    assert colour_distance(matched, style) < 0.5 * colour_distance(content, style)
    np.testing.assert_array_equal(matched, match_palette(content, style, rounds=6))
    values = np.random.default_rng(0).uniform(-0.2, 1.2, 10_000).astype(np.float32)
    source, target = np.linspace(0, 1, 256) ** 2, np.linspace(0.1, 0.9, 256)
    expected = np.interp(values, source, target)
    np.testing.assert_allclose(_quantile_map(values, source, target), expected, atol=2e-3)
    flat = _quantile_map(values, np.full(256, 0.5), target)
    np.testing.assert_allclose(flat, target[128])


def test_keep_colours_keeps_the_photos_chroma(content: np.ndarray, painted: np.ndarray) -> None:
    kept = keep_colours(painted, content)
    chroma = np.abs(to_lab(kept)[..., 1:] - to_lab(content)[..., 1:]).mean()
    assert chroma < 0.25 * np.abs(to_lab(painted)[..., 1:] - to_lab(content)[..., 1:]).mean()


def test_keep_mask_keeps_the_region_closer_to_the_photo(content: np.ndarray, style: np.ndarray) -> None:
    mask = np.zeros(content.shape[:2], np.float32)
    mask[10:60, 25:75] = 1
    plain = stylise_painterly(content, style, TINY).image
    masked = stylise_painterly(content, style, TINY, keep_mask=mask).image
    inside = mask > 0.5
    assert np.abs(masked - content)[inside].mean() < 0.7 * np.abs(plain - content)[inside].mean()


def test_stop_returns_a_usable_partial_result(content: np.ndarray, style: np.ndarray) -> None:
    stop = threading.Event()
    reports: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        reports.append(progress)
        if progress.step >= 1:  # after the first whole round
            stop.set()

    result = stylise_painterly(content, style, TINY, on_progress=on_progress, stop=stop)
    assert result.stopped and result.steps == 1
    assert result.image.shape == (SIZE, SIZE, 3) and np.isfinite(result.image).all()
    assert reports[0].total is not None and reports[0].total > 1
    assert reports[0].message.endswith("sampling the style's patches")  # said before the first round


def test_a_stop_ends_a_round_in_its_neighbour_search(content: np.ndarray, style: np.ndarray) -> None:
    stop = threading.Event()
    stop.set()  # as if it came while the first round searched its neighbours
    result = stylise_painterly(content, style, TINY, stop=stop)
    assert result.stopped and result.steps == 0  # no round was finished: the starting image comes back
    assert result.image.shape == (SIZE, SIZE, 3) and np.isfinite(result.image).all()


def test_stylise_reports_measures_for_every_method(content: np.ndarray, style: np.ndarray) -> None:
    for settings in (
        StyleSettings(method="colour", painterly=PainterlyConfig(output_size=64)),
        StyleSettings(
            method="colour", colour_method="sliced-ot", keep_colours=True, painterly=PainterlyConfig(64)
        ),
    ):
        result = stylise(content, style, settings)
        assert result.image.shape == (64, 64, 3)
        assert 0 < result.measures.ssim <= 1 and result.measures.colour_distance >= 0
    with pytest.raises(InputError, match="needs a trained fast style"):
        stylise(content, style, StyleSettings(method="fast"))


def test_painterly_config_rejects_bad_controls() -> None:
    with pytest.raises(InputError, match="output size"):
        PainterlyConfig(output_size=5000)
    with pytest.raises(InputError, match="style scale"):
        PainterlyConfig(style_scale=10)
    with pytest.raises(InputError, match="unknown method"):
        StyleSettings(method="neural")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown built-in style"):
        draw_style("cubism")


def _encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_good_uploads_decode_to_rgb() -> None:
    grey = _encoded(Image.new("L", (40, 50), 128), "PNG")
    rgba = _encoded(Image.new("RGBA", (64, 48), (10, 20, 30, 0)), "PNG")
    assert check_upload(grey).shape == (50, 40, 3)
    decoded = check_upload(rgba)
    assert decoded.shape == (48, 64, 3) and decoded.dtype == np.float32
    np.testing.assert_allclose(decoded[0, 0], np.array([10, 20, 30]) / 255, atol=1e-6)
    large = _encoded(Image.new("RGB", (400, 100), (200, 100, 50)), "JPEG")
    assert check_upload(large, limits=UploadLimits(decode_side=120)).shape == (30, 120, 3)


@pytest.mark.parametrize(
    ("data", "limits", "error", "message"),
    [
        (b"", None, InputError, "is empty"),
        (b"%PDF-1.4 not an image at all", None, InputError, "not a readable image"),
        (_encoded(Image.new("RGB", (64, 64)), "GIF"), None, InputError, "is a GIF file"),
        (_encoded(Image.new("RGB", (64, 64)), "PNG")[:60], None, InputError, "readable|damaged"),
        (_encoded(Image.new("RGB", (20, 64)), "PNG"), None, InputError, "at least 32 px"),
        (_encoded(Image.new("RGB", (64, 64)), "PNG"), UploadLimits(max_bytes=50), ResourceLimitError, "MB"),
        (
            _encoded(Image.new("RGB", (300, 300)), "PNG"),
            UploadLimits(max_pixels=50_000),
            ResourceLimitError,
            "megapixels",
        ),
    ],
)
def test_every_bad_upload_gets_a_clear_error(
    data: bytes, limits: UploadLimits | None, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        check_upload(data, "photo.png", limits)

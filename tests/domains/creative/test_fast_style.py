"""Fast mode: a tiny network trained on painterly outputs is stored, listed, reloaded identically and
found again without retraining."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from domains.creative import (
    StyleSettings,
    TrainingStoppedError,
    apply_fast,
    content_photo,
    draw_style,
    list_fast_styles,
    open_fast_style,
    spec_for,
    stylise,
    train_fast_style,
)
from domains.creative.fast import FastStyleConfig, FastStyleNet, fast_styles_for, sliced_patch_loss
from domains.creative.painterly import PainterlyConfig
from shared_models.exceptions import InputError

TINY = {
    "data_size": 64,
    "painterly_scales": 1,
    "painterly_iterations": 1,
    "crop": 32,
    "crops_per_image": 4,
    "steps": 4,
    "seconds": None,
    "batch_size": 4,
    "network": FastStyleConfig(channels=(8, 8, 8), residual_blocks=1),
}


@pytest.fixture(scope="module")
def style() -> np.ndarray:
    return draw_style("mosaic", 96, seed=2)


def test_fast_style_round_trip_and_reuse(tmp_path: Path, style: np.ndarray) -> None:
    spec = spec_for("mosaic", style, **TINY)
    trained, trained_now = train_fast_style(style, spec, tmp_path)
    assert trained_now and trained.card.training["steps"] == 4
    photo = content_photo("coffee")
    before = apply_fast(trained, photo, output_size=64)
    assert before.shape == (43, 64, 3) and before.min() >= 0 and before.max() <= 1

    listed = list_fast_styles(tmp_path)
    assert [e["name"] for e in listed] == ["mosaic"] and listed[0]["key"] == trained.folder.name
    assert [e["key"] for e in fast_styles_for(tmp_path, style)] == [trained.folder.name]
    assert fast_styles_for(tmp_path, draw_style("swirl", 96)) == []
    assert (trained.folder / "model.safetensors").is_file()

    reopened = open_fast_style(tmp_path, trained.folder.name)
    np.testing.assert_allclose(apply_fast(reopened, photo, output_size=64), before, atol=1e-6)
    again, trained_again = train_fast_style(style, spec, tmp_path)
    assert not trained_again and again.folder == trained.folder

    result = stylise(
        photo, style, StyleSettings(method="fast", painterly=PainterlyConfig(64)), fast_style=reopened
    )
    assert result.image.shape == (43, 64, 3) and -1 <= result.measures.ssim <= 1  # 4 steps: barely trained


def test_a_stopped_training_stores_nothing(tmp_path: Path, style: np.ndarray) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(TrainingStoppedError):
        train_fast_style(style, spec_for("mosaic", style, **TINY), tmp_path, stop=stop)
    assert list_fast_styles(tmp_path) == []


def test_wrong_style_or_missing_entry_is_refused(tmp_path: Path, style: np.ndarray) -> None:
    spec = spec_for("mosaic", style, **TINY)
    with pytest.raises(InputError, match="fingerprint"):
        train_fast_style(draw_style("swirl", 96), spec, tmp_path)
    with pytest.raises(InputError, match="no trained fast style"):
        open_fast_style(tmp_path, "0" * 20)
    with pytest.raises(InputError, match="texture scales"):
        spec_for("mosaic", style, **{**TINY, "texture_scales": (1.0,) * 4})  # 32 px crops: 4 px at 1/8
    with pytest.raises(InputError, match="texture scales"):
        spec_for("mosaic", style, **{**TINY, "texture_scales": (1.0, -1.0)})


def test_network_keeps_any_size_and_the_patch_loss_sees_texture() -> None:
    net = FastStyleNet(FastStyleConfig(channels=(8, 8, 8), residual_blocks=1)).eval()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 37, 50)).shape == (1, 3, 37, 50)
    torch.manual_seed(0)
    flat = torch.full((1, 3, 32, 32), 0.5)
    checker = (torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2 * 1.0
    striped = checker.expand(1, 3, 32, 32).clone()
    shifted = torch.roll(striped, 2, -1)  # the same texture two pixels over
    assert float(sliced_patch_loss(flat, striped)) > 10 * float(sliced_patch_loss(striped, shifted))


def test_fast_palette_is_the_style_as_seen_at_the_output_size(
    tmp_path: Path, style: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A style of one-pixel red and blue squares reads as purple at 64 px; the fast result must take
    # that palette, not the file's pure red and blue.
    checker = np.zeros((256, 256, 3), np.float32)
    red = (np.add.outer(np.arange(256), np.arange(256)) % 2).astype(bool)
    checker[red, 0], checker[~red, 2] = 1.0, 1.0
    ramp = np.repeat(np.linspace(0.2, 0.8, 64, dtype=np.float32)[None, :, None], 64, 0).repeat(3, 2)
    monkeypatch.setattr("domains.creative.style_transfer.apply_fast", lambda *_args: ramp)
    trained, _ = train_fast_style(style, spec_for("mosaic", style, **TINY), tmp_path)
    settings = StyleSettings(method="fast", painterly=PainterlyConfig(64))
    image = stylise(np.full((64, 64, 3), 0.5, np.float32), checker, settings, fast_style=trained).image
    assert np.abs(image[..., 0] - image[..., 2]).mean() < 0.1  # red and blue balanced in every pixel
    assert 0.3 < image[..., 0].mean() < 0.7 and image[..., 1].mean() < 0.1

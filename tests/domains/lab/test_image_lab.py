from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

from domains.lab.image_lab import (
    CLASSIFIER_MESSAGE,
    ImageLabSpec,
    class_grid,
    evaluate,
    get_classifier,
    heldout_elbo,
    interpolation_strip,
    reconstruction_grid,
    sample_grid,
    train_image_model,
)
from shared_models.datasets import load_digits, make_shapes
from shared_models.exceptions import InputError
from shared_models.metrics import ClassifierStoppedError
from shared_models.progress import Progress
from shared_models.vae import VAE

QUALITY_STEPS = 300


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def judged(digits, tmp_path_factory: pytest.TempPathFactory):
    return get_classifier(digits, tmp_path_factory.mktemp("store"))


def test_cvae_on_digits_generates_the_requested_digit(digits, judged) -> None:
    """The quality bar on a small fixed budget: the classifier recognises >= 80 % of requested digits."""
    classifier, accuracy = judged
    assert accuracy >= 0.9
    spec = ImageLabSpec(
        model="cvae", dataset="digits", seconds=None, steps=QUALITY_STEPS, latent_dim=8, seed=0
    )
    trained = train_image_model(spec, digits)
    metrics = evaluate(trained.model, digits, classifier, accuracy, samples=360, temperature=0.5)
    assert metrics.conditional_accuracy is not None and metrics.conditional_accuracy >= 0.8, metrics
    assert metrics.nn_ratio > 0.5  # it generates, it does not copy
    assert heldout_elbo(trained.model, digits) > -400


def test_training_is_repeatable_and_grids_have_the_right_size(digits) -> None:
    spec = ImageLabSpec(model="cgan", dataset="digits", seconds=None, steps=3, width=8, batch_size=16, seed=5)
    first, second = train_image_model(spec, digits), train_image_model(spec, digits)
    assert torch.equal(first.model.sample(4, seed=1).images, second.model.sample(4, seed=1).images)
    assert first.card.kind == "gan" and first.card.training["steps"] == 3
    pad = 2
    assert class_grid(first.model, per_class=3).shape == (10 * (28 + pad) + pad, 3 * (28 + pad) + pad, 3)
    assert sample_grid(first.model, n=16).shape == (4 * 30 + 2, 4 * 30 + 2, 3)
    assert interpolation_strip(first.model, steps=6, label=3).shape == (32, 6 * 30 + 2, 3)
    with pytest.raises(InputError, match="VAE"):
        reconstruction_grid(first.model, digits)  # type: ignore[arg-type]


def test_vae_reconstructions_and_unconditional_guards(digits) -> None:
    spec = ImageLabSpec(model="vae", dataset="digits", seconds=None, steps=2, width=8, seed=0)
    trained = train_image_model(spec, digits)
    assert isinstance(trained.model, VAE) and trained.model.num_classes == 0
    assert reconstruction_grid(trained.model, digits, n=5).shape == (2 * 30 + 2, 5 * 30 + 2, 3)
    with pytest.raises(InputError, match="conditional"):
        class_grid(trained.model)


def test_bad_specs_are_refused(digits) -> None:
    with pytest.raises(InputError, match="unknown model"):
        ImageLabSpec(model="diffusion")  # type: ignore[arg-type]
    one_class = make_shapes(12, 32).subset(torch.arange(0, 12, 3))
    with pytest.raises(InputError, match="at least two classes"):
        train_image_model(ImageLabSpec(model="cvae", seconds=None, steps=1), one_class)


def test_classifier_is_trained_once_then_loaded(digits, tmp_path: Path) -> None:
    small = digits.subset(torch.arange(0, 400))
    _, first = get_classifier(small, tmp_path)
    entries = list(tmp_path.iterdir())
    _, again = get_classifier(small, tmp_path)
    assert first == again and list(tmp_path.iterdir()) == entries and len(entries) == 1


def test_classifier_training_reports_progress_and_a_stop_stores_nothing(digits, tmp_path: Path) -> None:
    small = digits.subset(torch.arange(0, 400))
    seen: list[Progress] = []
    stop = threading.Event()

    def on_progress(progress: Progress) -> None:
        seen.append(progress)
        if progress.step >= 20:
            stop.set()

    with pytest.raises(ClassifierStoppedError, match="stopped at step 20 of 100"):
        get_classifier(small, tmp_path, on_progress, stop)
    assert seen[0].step == 0 and seen[0].total == 100  # reported before the first step
    assert {p.message for p in seen} == {CLASSIFIER_MESSAGE}
    assert not any(p.metrics for p in seen)  # the judge's losses are not the generator's curve
    assert list(tmp_path.iterdir()) == []

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import torch

from shared_models.exceptions import ModelError
from shared_models.store import ModelCard, get_or_train, load_model, save_model, spec_key
from shared_models.vae import VAE, VAEConfig


def _vae() -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=4, width=8))


def test_round_trip_keeps_weights_and_card(tmp_path: Path) -> None:
    model = _vae()
    card = ModelCard(
        kind="vae", config={"latent_dim": 4, "width": 8}, dataset="digits", metrics={"elbo": -90.0}
    )
    folder = save_model(tmp_path / "entry", model, card)
    loaded, loaded_card = load_model(folder)
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert loaded_card.metrics == {"elbo": -90.0} and loaded_card.dataset == "digits"
    assert loaded_card.created and loaded_card.suite_version
    assert sorted(p.name for p in folder.iterdir()) == ["card.json", "model.safetensors"]
    z = torch.randn(2, 4)
    assert torch.allclose(model.eval().decode(z), loaded.decode(z))


def test_folder_that_is_not_an_entry_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"card\.json is missing"):
        load_model(tmp_path)
    (tmp_path / "card.json").write_text("{not json")
    with pytest.raises(ModelError, match="not a valid model card"):
        load_model(tmp_path)


def test_pickle_disguised_as_weights_is_refused(tmp_path: Path) -> None:
    folder = save_model(
        tmp_path / "entry", _vae(), ModelCard(kind="vae", config={"latent_dim": 4, "width": 8})
    )
    torch.save({"x": torch.zeros(1)}, folder / "model.safetensors")  # a pickle archive
    with pytest.raises(ModelError, match="not a valid safetensors file"):
        load_model(folder)


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path: Path) -> None:
    folder = save_model(
        tmp_path / "entry", _vae(), ModelCard(kind="vae", config={"latent_dim": 4, "width": 8})
    )
    card = json.loads((folder / "card.json").read_text())
    card["config"]["latent_dim"] = 5
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="does not match"):
        load_model(folder)


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    folder = save_model(
        tmp_path / "entry", _vae(), ModelCard(kind="vae", config={"latent_dim": 4, "width": 8})
    )
    card = json.loads((folder / "card.json").read_text())
    card["kind"] = "diffusion"
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="unknown model kind 'diffusion'"):
        load_model(folder)


def test_get_or_train_trains_once_per_spec(tmp_path: Path) -> None:
    calls = []

    def fit() -> tuple[VAE, ModelCard]:
        calls.append(1)
        return _vae(), ModelCard(kind="vae", config={"latent_dim": 4, "width": 8})

    spec = VAEConfig(latent_dim=4, width=8)
    threads = [threading.Thread(target=get_or_train, args=(spec, tmp_path, fit)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _, card, folder = get_or_train(spec, tmp_path, fit)
    assert len(calls) == 1
    assert folder.name == spec_key(spec) and card.extra["spec_key"] == spec_key(spec)
    get_or_train(VAEConfig(latent_dim=4, width=16), tmp_path, fit)
    assert len(calls) == 2

"""Character design: the procedural set, the generators, the operations and the exports."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from domains.entertainment.characters import models as models_module
from domains.entertainment.characters.export import (
    character_pngs_zip,
    pitch_sheet_html,
    png_bytes,
    sheet_array,
    sprite_sheet,
)
from domains.entertainment.characters.models import (
    AttributeClassifierSpec,
    CharacterModelSpec,
    TrainingStoppedError,
    attribute_accuracy,
    get_attribute_classifier,
    get_character_model,
    has_stored_model,
    partial_path,
    partial_steps,
    predict_codes,
)
from domains.entertainment.characters.operations import blend, decode, generate, upscale, variations
from domains.entertainment.characters.sprites import (
    ATTRIBUTE_DIM,
    ATTRIBUTES,
    CLOTH,
    HAIR,
    attribute_codes,
    draw_sprite,
    make_character_set,
    random_attributes,
    to_rgb,
    to_rgba,
)
from shared_models.exceptions import InputError
from shared_models.progress import Progress

# A tiny generator and judge, trained once for this module (seconds on 2 cores).
TINY = CharacterModelSpec(model="cvae", steps=300, batch_size=32, dataset_size=1024, width=16, lr=3e-3)
TINY_JUDGE = AttributeClassifierSpec(dataset_size=1024, held_out=256, steps=150, width=16)
CHANCE = float(np.mean([1 / len(v) for v in ATTRIBUTES.values()]))  # about 0.32


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("character-store")


@pytest.fixture(scope="module")
def tiny_model(store: Path) -> models_module.CharacterModel:
    model, _ = get_character_model(TINY, store)
    return model


@pytest.fixture(scope="module")
def judge(store: Path) -> tuple[torch.nn.Module, dict[str, float]]:
    return get_attribute_classifier(store, TINY_JUDGE)


# --- the procedural set ---------------------------------------------------------------------------


def test_procedural_set_is_deterministic_by_seed() -> None:
    a, b, c = make_character_set(64, seed=3), make_character_set(64, seed=3), make_character_set(64, seed=4)
    assert torch.equal(a.images, b.images) and torch.equal(a.codes, b.codes)
    assert not torch.equal(a.images, c.images)
    assert a.images.shape == (64, 3, 32, 32) and a.vectors.shape == (64, ATTRIBUTE_DIM)
    assert torch.equal(a.vectors.sum(1), torch.full((64,), float(len(ATTRIBUTES))))  # one-hot blocks


def test_set_holds_thousands_of_distinct_images() -> None:
    data = make_character_set(2000, seed=0)
    distinct = torch.unique(data.images.flatten(1), dim=0)
    assert len(distinct) >= 1990


def test_sprites_are_rgba_with_transparent_background() -> None:
    sprite = draw_sprite(random_attributes(np.random.default_rng(0)), seed=1)
    assert sprite.image.shape == (32, 32, 4) and sprite.image.dtype == np.uint8
    alpha = sprite.image[..., 3]
    assert set(np.unique(alpha)) == {0, 255}
    assert alpha[0, 0] == 0 and alpha[31, 0] == 0 and alpha[12, 15] == 255  # corners empty, face solid
    assert set(sprite.layers) == {"legs", "body", "outfit", "head", "face", "hair", "accessory"}


@pytest.mark.parametrize("seed", range(40))
def test_labels_match_pixels(seed: int) -> None:
    attributes = random_attributes(np.random.default_rng(seed))
    sprite = draw_sprite(attributes, seed=seed)
    hair = sprite.layers["hair"]
    hair_pixels = hair[hair[..., 3] > 0][:, :3].astype(float)
    assert len(hair_pixels) > 20
    # Every hair pixel has the labelled hair colour (up to the +-10 % shade jitter) ...
    ratio = hair_pixels / np.maximum(np.array(HAIR[attributes["hair"]], float), 1)
    assert np.all(np.abs(ratio - ratio.mean()) < 0.05) and 0.85 < ratio.mean() < 1.15
    # ... and is closer to it than to any other hair colour.
    for name, colour in HAIR.items():
        if name != attributes["hair"]:
            assert (
                np.abs(hair_pixels - colour).sum(1).mean()
                > np.abs(hair_pixels - hair_pixels[0]).sum(1).mean()
            )
    # The composite shows the hair wherever no later layer covers it, and at least some of it.
    visible = (hair[..., 3] > 0) & (sprite.layers["accessory"][..., 3] == 0)
    assert visible.sum() >= 6
    assert np.array_equal(sprite.image[visible], hair[visible])
    outfit = sprite.layers["outfit"]
    cloth = outfit[outfit[..., 3] > 0][:, :3].astype(float)
    nearest = min(CLOTH, key=lambda k: np.abs(cloth - CLOTH[k]).sum(1).min())
    assert nearest == attributes["outfit_colour"]
    accessory = sprite.layers["accessory"][..., 3] > 0
    assert accessory.any() == (attributes["accessory"] != "none")
    if attributes["accessory"] == "hat":
        assert accessory[:4].any()  # the hat sits on top


def test_each_attribute_changes_the_picture() -> None:
    base = {name: values[0] for name, values in ATTRIBUTES.items()}
    reference = draw_sprite(base, seed=5).image
    for name, values in ATTRIBUTES.items():
        for value in values[1:]:
            changed = draw_sprite({**base, name: value}, seed=5).image
            assert not np.array_equal(changed, reference), f"{name}={value} draws the same picture"


def test_key_colour_round_trip_gives_back_the_alpha() -> None:
    rgba = np.stack([draw_sprite(random_attributes(np.random.default_rng(i)), i).image for i in range(8)])
    images = torch.from_numpy(to_rgb(rgba)).permute(0, 3, 1, 2).float() / 255
    back = to_rgba(images)
    assert np.array_equal(back[..., 3], rgba[..., 3])
    assert np.array_equal(back[..., :3][rgba[..., 3] > 0], rgba[..., :3][rgba[..., 3] > 0])


def test_bad_attributes_are_rejected() -> None:
    with pytest.raises(InputError, match="unknown hair 'green'"):
        random_attributes(np.random.default_rng(0), {"hair": "green"})
    with pytest.raises(InputError, match="unknown attribute 'wings'"):
        random_attributes(np.random.default_rng(0), {"wings": "yes"})
    with pytest.raises(InputError, match="missing attributes"):
        draw_sprite({"hair": "red"})


# --- the judge and the generators ----------------------------------------------------------------


def test_attribute_classifier_reads_held_out_characters(
    judge: tuple[torch.nn.Module, dict[str, float]],
) -> None:
    _, accuracy = judge
    assert set(accuracy) == set(ATTRIBUTES)
    assert np.mean(list(accuracy.values())) >= 0.8, accuracy
    assert accuracy["hair"] >= 0.9 and accuracy["outfit_colour"] >= 0.9, accuracy


def test_conditional_generation_honours_attributes(
    tiny_model: models_module.CharacterModel, judge: tuple[torch.nn.Module, dict[str, float]]
) -> None:
    classifier, _ = judge
    # The attributes a 300-step model has learnt (outfit kind and expression need longer: see make bench).
    batch = generate(tiny_model, 128, {"hair": "red", "body": "broad"}, seed=1)
    seen = predict_codes(classifier, batch.raw)
    hair, body = list(ATTRIBUTES).index("hair"), list(ATTRIBUTES).index("body")
    assert (seen[:, hair] == ATTRIBUTES["hair"].index("red")).float().mean() >= 0.7
    assert (seen[:, body] == ATTRIBUTES["body"].index("broad")).float().mean() >= 0.9
    # Unset attributes vary between the characters.
    assert len({a["skin"] for a in batch.attributes}) == len(ATTRIBUTES["skin"])
    # Over random attribute settings the judge agrees far above chance.
    free = generate(tiny_model, 256, seed=2)
    accuracy = attribute_accuracy(classifier, free.raw, attribute_codes(free.attributes))
    print("tiny cVAE attribute accuracy:", accuracy)
    assert np.mean(list(accuracy.values())) >= CHANCE + 0.2, accuracy


def test_second_use_loads_from_the_store(
    store: Path, tiny_model: models_module.CharacterModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert has_stored_model(TINY, store)

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained again")

    monkeypatch.setattr(models_module, "train_character_model", no_training)
    again, card = get_character_model(TINY, store)
    assert card.training["steps"] == TINY.steps
    z = torch.randn(4, again.latent_dim, generator=torch.Generator().manual_seed(0))
    attrs = [random_attributes(np.random.default_rng(i)) for i in range(4)]
    assert np.array_equal(decode(again, z, attrs).images, decode(tiny_model, z, attrs).images)


def test_generation_is_seeded_and_shaped(tiny_model: models_module.CharacterModel) -> None:
    a, b = (
        generate(tiny_model, 16, {"outfit": "armour"}, seed=7),
        generate(tiny_model, 16, {"outfit": "armour"}, 7),
    )
    assert a.images.shape == (16, 32, 32, 4) and np.array_equal(a.images, b.images)
    assert all(row["outfit"] == "armour" for row in a.attributes)
    assert a.take([3, 5]).attributes == [a.attributes[3], a.attributes[5]]
    with pytest.raises(InputError):
        generate(tiny_model, 0)
    with pytest.raises(InputError):
        a.take([16])


def test_variations_stay_close_and_keep_attributes(tiny_model: models_module.CharacterModel) -> None:
    batch = generate(tiny_model, 8, seed=3)
    near = variations(tiny_model, batch, 2, n=6, spread=0.3, seed=1)
    assert all(row == batch.attributes[2] for row in near.attributes)
    own = (near.latents - batch.latents[2]).norm(dim=1).mean()
    others = (batch.latents[None, :] - near.latents[:, None]).norm(dim=2).mean()
    assert own < others


def test_blend_runs_from_one_character_to_the_other(tiny_model: models_module.CharacterModel) -> None:
    batch = generate(tiny_model, 4, seed=4)
    strip = blend(tiny_model, batch, 0, batch, 3, steps=5)
    assert len(strip) == 5
    assert np.array_equal(strip.images[0], batch.images[0]) and np.array_equal(
        strip.images[-1], batch.images[3]
    )
    assert strip.attributes[0] == batch.attributes[0] and strip.attributes[-1] == batch.attributes[3]


def test_upscale_is_nearest_neighbour() -> None:
    image = np.arange(2 * 2 * 4, dtype=np.uint8).reshape(2, 2, 4)
    big = upscale(image, 3)
    assert big.shape == (6, 6, 4)
    assert np.array_equal(big[:3, :3], np.broadcast_to(image[0, 0], (3, 3, 4)))
    assert set(map(tuple, big.reshape(-1, 4))) == set(map(tuple, image.reshape(-1, 4)))  # no new colours


# --- exports -------------------------------------------------------------------------------------


def test_exports_keep_transparency_and_contents(tiny_model: models_module.CharacterModel) -> None:
    batch = generate(tiny_model, 10, seed=5)
    sheet = Image.open(io.BytesIO(sprite_sheet(batch, columns=5, scale=2)))
    assert sheet.mode == "RGBA" and sheet.size == ((5 * 33 + 1) * 2, (2 * 33 + 1) * 2)
    assert np.asarray(sheet)[0, 0, 3] == 0
    with zipfile.ZipFile(io.BytesIO(character_pngs_zip(batch))) as archive:
        names = archive.namelist()
        rows = json.loads(archive.read("characters.json"))
    assert len([n for n in names if n.endswith(".png")]) == 10
    assert rows[0]["attributes"] == batch.attributes[0] and len(rows[0]["latent"]) == tiny_model.latent_dim
    assert sheet_array(batch.images, 4).shape == (3 * 33 + 1, 4 * 33 + 1, 4)
    assert Image.open(io.BytesIO(png_bytes(batch.images[0], 8))).size == (256, 256)


def test_pitch_sheet_escapes_user_text() -> None:
    from domains.entertainment.characters.card import CharacterCard, describe

    attributes = random_attributes(np.random.default_rng(0))
    card = CharacterCard(
        name="<script>alert(1)</script>",
        role="smith",
        backstory="b",
        personality_traits=["gruff", "kind"],
        signature_line="Hm.",
        appearance=describe(attributes),
        attributes=attributes,
        brief="a <b>bold</b> brief",
    )
    page = pitch_sheet_html(card, draw_sprite(attributes).image)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert page.count("data:image/png;base64,") == 1 and "<b>bold</b>" not in page


def test_a_stopped_training_keeps_its_progress_and_the_next_one_continues(tmp_path: Path) -> None:
    spec = CharacterModelSpec(model="cvae", steps=60, batch_size=16, dataset_size=256, width=8)
    stop = threading.Event()

    def stop_at_20(progress: Progress) -> None:
        if progress.step >= 20:
            stop.set()

    with pytest.raises(TrainingStoppedError, match="stopped at step 20 of 60; its progress is kept"):
        get_character_model(spec, tmp_path, stop_at_20, stop)
    assert partial_steps(spec, tmp_path) == 20 and not has_stored_model(spec, tmp_path)

    steps: list[int] = []
    _, card = get_character_model(spec, tmp_path, lambda p: steps.append(p.step))
    assert steps[0] > 20 and steps[-1] == 60  # continued, counted on from the kept step
    assert card.training["steps"] == 60 and card.training["resumed_from_step"] == 20
    assert has_stored_model(spec, tmp_path) and not partial_path(spec, tmp_path).exists()
    assert partial_steps(spec, tmp_path) == 0

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from domains.services.chatbot.intents import (
    IntentClassifier,
    IntentConfig,
    parse_intents_csv,
    stratified_split,
)
from shared_models.exceptions import InputError, ModelError

EXAMPLES = {
    "track_order": [
        "where is my parcel",
        "track my order",
        "my package has not arrived yet",
        "when will my order come",
        "has my order shipped",
        "I want to know where my delivery is",
        "order status please",
        "is my parcel on its way",
    ],
    "refund": [
        "I want my money back",
        "how do I get a refund",
        "refund my purchase",
        "when will I be refunded",
        "can I get reimbursed",
        "the refund has not arrived",
        "please give me a refund for the lamp",
        "I returned it, where is my money",
    ],
    "reset_password": [
        "I forgot my password",
        "reset my password",
        "can't log in to my account",
        "password not working",
        "how do I change my password",
        "locked out of my account",
        "sign in fails with my password",
        "I need a new password",
    ],
    "opening_hours": [
        "when are you open",
        "what are your opening hours",
        "is support open on saturday",
        "what time does customer service close",
        "are you open on sunday",
        "opening times",
        "until when can I call you",
        "hours of your support team",
    ],
}


def intents_csv() -> bytes:
    rows = ["text,intent,response"]
    for intent, texts in EXAMPLES.items():
        for i, text in enumerate(texts):
            response = (
                "Support is open 8 am to 8 pm, Monday to Saturday."
                if intent == "opening_hours" and i == 0
                else ""
            )
            rows.append(f'"{text}",{intent},"{response}"')
    return "\n".join(rows).encode()


@pytest.fixture(scope="module")
def model() -> IntentClassifier:
    data = parse_intents_csv(intents_csv())
    return IntentClassifier().fit(data.texts, data.labels, data.responses)


def test_intents_train_and_predict_new_phrasings(model: IntentClassifier) -> None:
    tests = {
        "where's my stuff? it still hasn't been delivered": "track_order",
        "I would like to be reimbursed for my order": "refund",
        "my login password doesn't work anymore": "reset_password",
        "what time do you open on monday": "opening_hours",
    }
    predictions = model.predict(list(tests))
    assert [p.candidate for p in predictions] == list(tests.values())
    assert sum(p.status == "ok" for p in predictions) >= 3
    assert model.response_for("opening_hours") == "Support is open 8 am to 8 pm, Monday to Saturday."
    assert model.response_for("refund") is None


def test_out_of_scope_text_is_rejected(model: IntentClassifier) -> None:
    for text in ["what's the capital of France", "write a poem about the sea", "who won the football match"]:
        prediction = model.predict_one(text)
        assert prediction.status == "out_of_scope" and prediction.intent is None, (text, prediction)


def test_evaluation_gives_accuracy_and_a_confusion_matrix() -> None:
    data = parse_intents_csv(intents_csv())
    train, test = stratified_split(data.labels, test_size=0.25, seed=0)
    assert len(test) == 8 and set(np.asarray(data.labels)[test]) == set(EXAMPLES)
    model = IntentClassifier().fit([data.texts[i] for i in train], [data.labels[i] for i in train])
    report = model.evaluate([data.texts[i] for i in test], [data.labels[i] for i in test])
    assert report.accuracy >= 0.75
    assert report.confusion.shape == (4, 4) and report.confusion.sum() == 8
    assert np.trace(report.confusion) == round(report.accuracy * 8)


def test_saved_model_loads_and_predicts_the_same(model: IntentClassifier, tmp_path: Path) -> None:
    folder = model.save(tmp_path / "intents")
    assert sorted(p.name for p in folder.iterdir()) == ["intents.json", "weights.safetensors"]
    loaded = IntentClassifier.load(folder)
    texts = ["refund please", "where is my order"]
    assert [p.candidate for p in loaded.predict(texts)] == [p.candidate for p in model.predict(texts)]
    assert loaded.responses_ == model.responses_


def test_bad_intent_files_and_untrained_models_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty"):
        parse_intents_csv(b"")
    with pytest.raises(InputError, match="'text' and 'intent'"):
        parse_intents_csv(b"question,answer\na,b\n")
    with pytest.raises(InputError, match="at least 2 intents"):
        parse_intents_csv(b"text,intent\nhello,greet\nhi,greet\n")
    with pytest.raises(InputError, match="binary"):
        parse_intents_csv(b"\x00\x01\x02text,intent")
    with pytest.raises(ModelError, match="not trained"):
        IntentClassifier().predict(["hello"])
    with pytest.raises(ModelError, match="train it again"):
        IntentClassifier.load(tmp_path)


def _bag_of_letters(texts: list[str]) -> np.ndarray:
    """A cheap stand-in embedder: letter counts, unit length (it cannot tell 'card' from 'drac')."""
    out = np.zeros((len(texts), 26), np.float32)
    for row, text in enumerate(texts):
        for ch in text.lower():
            if "a" <= ch <= "z":
                out[row, ord(ch) - 97] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_ngrams_join_the_embedding_when_intents_have_enough_examples(tmp_path: Path) -> None:
    # word order is all that separates these two intents; letter counts alone cannot
    texts = [f"top up by card {i}" for i in range(25)] + [f"card by up top {i}" for i in range(25)]
    labels = ["card_top_up"] * 25 + ["reversed"] * 25
    lexical = IntentClassifier(embedder=_bag_of_letters).fit(texts, labels)
    assert lexical.lexical_ is not None
    plain = IntentClassifier(IntentConfig(lexical_min_examples=10**6), embedder=_bag_of_letters)
    plain.fit(texts, labels)
    assert plain.lexical_ is None
    probe = ["top up by card 99", "card by up top 99"]
    assert [p.candidate for p in lexical.predict(probe)] == ["card_top_up", "reversed"]
    assert lexical.evaluate(probe, ["card_top_up", "reversed"]).accuracy == 1.0
    assert plain.evaluate(probe, ["card_top_up", "reversed"]).accuracy < 1.0
    loaded = IntentClassifier.load(lexical.save(tmp_path / "m"), embedder=_bag_of_letters)
    x = _bag_of_letters(probe)
    np.testing.assert_allclose(loaded.probabilities(probe, x), lexical.probabilities(probe, x), atol=1e-6)

"""The local backend on the bundled SmolLM2-135M-Instruct GGUF (llama.cpp), and its input checks."""

from __future__ import annotations

import threading
from pathlib import Path

import jsonschema
import pytest

from shared_models.exceptions import InputError, ModelError
from shared_models.lm import (
    GenerationOptions,
    LMConfig,
    ModelFileError,
    PromptTooLongError,
    TextGenerator,
    build_text_generator,
    bundled_gguf_path,
    validate_messages,
)

GREEDY = GenerationOptions(max_tokens=40, temperature=0.0, repeat_penalty=1.15, seed=0)

SCHEMAS = {
    "person": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name", "age"],
        "additionalProperties": False,
    },
    "list": {
        "type": "object",
        "properties": {
            "colours": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4}
        },
        "required": ["colours"],
    },
    "enum_and_bool": {
        "type": "object",
        "properties": {
            "sentiment": {"enum": ["positive", "negative", "neutral"]},
            "sarcastic": {"type": "boolean"},
        },
        "required": ["sentiment", "sarcastic"],
    },
    "nested": {
        "type": "object",
        "properties": {
            "product": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "price": {"type": "number"}},
                "required": ["title", "price"],
            },
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        },
        "required": ["product", "tags"],
    },
}
PROMPTS = {
    "person": "Invent a fictional person.",
    "list": "Name some colours of the rainbow.",
    "enum_and_bool": "Classify: 'Oh great, another Monday.'",
    "nested": "Describe a product sold in a bakery.",
}


def test_greedy_answer_is_deterministic_and_reported(local_lm: TextGenerator) -> None:
    first = local_lm.generate("What is the capital of France?", GREEDY)
    second = local_lm.generate("What is the capital of France?", GREEDY)
    assert first.text == second.text
    assert "Paris" in first.text
    assert first.backend == "local" and first.model == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert first.prompt_tokens > 10
    assert 0 < first.completion_tokens <= GREEDY.max_tokens
    assert first.finish_reason in {"stop", "length"}
    assert first.first_token_s is not None and first.tokens_per_s > 0


def test_seed_fixes_sampled_answers(local_lm: TextGenerator) -> None:
    options = GenerationOptions(max_tokens=24, temperature=1.0, seed=7)
    prompt = "Write one sentence about the sea."
    assert local_lm.generate(prompt, options).text == local_lm.generate(prompt, options).text
    others = {local_lm.generate(prompt, options.replace(seed=s)).text for s in (1, 2, 3)}
    assert len(others) > 1  # different seeds do sample differently


def test_stream_pieces_join_to_the_answer(local_lm: TextGenerator) -> None:
    stream = local_lm.stream([{"role": "user", "content": "Say hello to Ada."}], GREEDY)
    pieces = list(stream)
    assert len(pieces) > 2
    assert "".join(pieces) == stream.result.text
    assert stream.done and stream.result.completion_tokens >= len(pieces)


def test_stop_strings_end_the_answer_before_them(local_lm: TextGenerator) -> None:
    prompt = "List five fruits, one per line."
    full = local_lm.generate(prompt, GREEDY).text
    words = full.split()
    assert len(words) > 4, full
    stop = words[len(words) // 2]
    cut = local_lm.generate(prompt, GREEDY.replace(stop=(stop,))).text
    assert stop not in cut
    assert full.startswith(cut)
    assert len(cut) < len(full)


def test_system_prompt_is_applied_through_the_chat_template(local_lm: TextGenerator) -> None:
    tokens_plain, _ = local_lm.prompt_tokens([{"role": "user", "content": "Hi"}])  # type: ignore[attr-defined]
    tokens_system, stops = local_lm.prompt_tokens(  # type: ignore[attr-defined]
        [{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Hi"}]
    )
    decode = local_lm._llm.detokenize  # type: ignore[attr-defined]
    assert b"You are a pirate." in decode(tokens_system)
    assert b"pirate" not in decode(tokens_plain)
    assert decode(tokens_system).rstrip().endswith(b"assistant")  # the generation prompt is added
    assert stops  # the template's end-of-turn token ends each answer


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_generate_json_validates_against_its_schema(local_lm: TextGenerator, name: str) -> None:
    value = local_lm.generate_json(SCHEMAS[name], PROMPTS[name], GenerationOptions(max_tokens=200, seed=3))
    jsonschema.validate(value, SCHEMAS[name])


def test_generate_json_rejects_an_invalid_schema(local_lm: TextGenerator) -> None:
    with pytest.raises(InputError, match="JSON schema is not valid"):
        local_lm.generate_json({"type": "objekt"}, "anything")


def test_two_threads_get_the_same_complete_answers_as_one_at_a_time(local_lm: TextGenerator) -> None:
    prompts = ["What is 2 + 2?", "Name a large animal."]
    alone = [local_lm.generate(p, GREEDY) for p in prompts]
    together: dict[int, object] = {}
    errors: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            together[i] = local_lm.generate(prompts[i], GREEDY)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    for i, expected in enumerate(alone):
        got = together[i]
        assert got.text == expected.text  # type: ignore[attr-defined]
        assert got.finish_reason == expected.finish_reason  # type: ignore[attr-defined]


def test_prompt_longer_than_the_context_is_refused_clearly(local_lm: TextGenerator) -> None:
    long_prompt = "word " * 3000
    with pytest.raises(PromptTooLongError, match=r"context holds 2,048"):
        local_lm.generate(long_prompt, GREEDY)
    with pytest.raises(PromptTooLongError, match="lower max tokens"):
        local_lm.generate("Hi", GREEDY.replace(max_tokens=2047))


def test_a_closed_stream_frees_the_model_for_the_next_caller(local_lm: TextGenerator) -> None:
    stream = local_lm.stream([{"role": "user", "content": "Tell a long story."}], GREEDY)
    next(stream)
    stream.close()
    assert stream.result.finish_reason == "cancelled"
    assert local_lm.generate("Say yes.", GREEDY.replace(max_tokens=4)).completion_tokens > 0


def test_missing_gguf_is_reported_with_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelFileError, match="does not exist"):
        build_text_generator(LMConfig(gguf_path=str(missing)))
    with pytest.raises(ModelFileError, match="not a file"):
        build_text_generator(LMConfig(gguf_path=str(tmp_path)))


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_text("not a model")
    with pytest.raises(ModelFileError, match="not a GGUF model"):
        build_text_generator(LMConfig(gguf_path=str(fake)))


def test_a_truncated_gguf_is_refused_by_the_loader(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.gguf"
    with bundled_gguf_path().open("rb") as source:
        truncated.write_bytes(source.read(2_000_000))
    with pytest.raises(ModelFileError, match="could not load"):
        build_text_generator(LMConfig(gguf_path=str(truncated), engine="llama_cpp"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"temperature": -1}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"repeat_penalty": 9}, "repeat_penalty"),
        ({"stop": ("",)}, "stop strings"),
    ],
)
def test_bad_options_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        GenerationOptions(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([], "non-empty list"),
        ([{"role": "robot", "content": "x"}], "role 'robot'"),
        ([{"role": "user", "content": 3}], "must be text"),
        ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "last message"),
    ],
)
def test_bad_chats_are_refused(messages: list[dict[str, object]], message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate_messages(messages)  # type: ignore[arg-type]


def test_empty_prompt_is_refused(local_lm: TextGenerator) -> None:
    with pytest.raises(InputError, match="prompt is empty"):
        local_lm.generate("   ")


def test_config_from_environment() -> None:
    assert LMConfig.from_env({}).backend == "local"
    remote = LMConfig.from_env(
        {"AIGC_LLM_BASE_URL": "http://127.0.0.1:9/v1", "AIGC_LLM_MODEL": "m", "AIGC_LLM_TIMEOUT": "3"}
    )
    assert (remote.backend, remote.model, remote.timeout_s) == ("openai", "m", 3.0)
    assert LMConfig.from_env({"AIGC_LLM_GGUF": "/x.gguf"}).gguf_path == "/x.gguf"
    with pytest.raises(InputError, match="AIGC_LLM_TIMEOUT"):
        LMConfig.from_env({"AIGC_LLM_TIMEOUT": "soon"})
    with pytest.raises(InputError, match="AIGC_LLM_BASE_URL"):
        LMConfig.from_env({"AIGC_LLM_BACKEND": "openai"})
    with pytest.raises(InputError, match="unknown LM backend"):
        LMConfig(backend="cloud")  # type: ignore[arg-type]


def test_llama_cpp_engine_required_but_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "llama_cpp", None)
    with pytest.raises(ModelError, match=r"llama\.cpp is not usable"):
        build_text_generator(LMConfig(engine="llama_cpp"))

"""The transformers fallback: the same bundled GGUF when llama.cpp cannot be imported.

Slow (the GGUF is dequantised to fp32: ~20 s the first time, a few seconds from the cached copy), so
one module-scoped generator serves every test here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from shared_models.lm import GenerationOptions, LMConfig, TextGenerator, build_text_generator
from tests.shared_models.test_lm import PROMPTS, SCHEMAS

pytestmark = pytest.mark.slow
GREEDY = GenerationOptions(max_tokens=24, temperature=0.0, repeat_penalty=1.15, seed=0)


@pytest.fixture(scope="module")
def cache_dir(lm_fallback_cache: Path) -> Path:
    return lm_fallback_cache


@pytest.fixture(scope="module")
def fallback_lm(cache_dir: Path, local_lm: TextGenerator) -> Iterator[TextGenerator]:
    # local_lm is built first, while llama.cpp can still be imported.
    saved = sys.modules.get("llama_cpp")
    sys.modules["llama_cpp"] = None  # type: ignore[assignment]  # makes `import llama_cpp` fail
    try:
        yield build_text_generator(LMConfig(engine="auto", n_threads=2, cache_dir=str(cache_dir)))
    finally:
        if saved is None:
            del sys.modules["llama_cpp"]
        else:
            sys.modules["llama_cpp"] = saved


def test_auto_falls_back_and_says_why(fallback_lm: TextGenerator) -> None:
    assert fallback_lm.engine == "transformers"
    assert fallback_lm.notice is not None and "llama.cpp could not be imported" in fallback_lm.notice


def test_fallback_answers_like_the_llama_cpp_engine(
    fallback_lm: TextGenerator, local_lm: TextGenerator
) -> None:
    answer = fallback_lm.generate("What is the capital of France?", GREEDY)
    assert "Paris" in answer.text
    assert answer.completion_tokens > 0 and answer.finish_reason in {"stop", "length"}
    # Same weights and template, but not the same arithmetic (llama.cpp also quantises activations,
    # and the engines apply the repeat penalty over different windows): the facts agree, not the words.
    assert "Paris" in local_lm.generate("What is the capital of France?", GREEDY).text


def test_fallback_streams_and_honours_stop_strings(fallback_lm: TextGenerator) -> None:
    full = fallback_lm.generate("List five fruits, one per line.", GREEDY).text
    stop = full.split()[len(full.split()) // 2]
    stream = fallback_lm.stream(
        [{"role": "user", "content": "List five fruits, one per line."}], GREEDY.replace(stop=(stop,))
    )
    pieces = list(stream)
    assert "".join(pieces) == stream.result.text and full.startswith(stream.result.text)
    assert stop not in stream.result.text


@pytest.mark.parametrize("name", ["person", "enum_and_bool"])
def test_fallback_json_is_constrained_to_the_schema(fallback_lm: TextGenerator, name: str) -> None:
    value = fallback_lm.generate_json(SCHEMAS[name], PROMPTS[name], GenerationOptions(max_tokens=80, seed=3))
    jsonschema.validate(value, SCHEMAS[name])


def test_dequantised_copy_is_cached_and_reloads(fallback_lm: TextGenerator, cache_dir: Path) -> None:
    saved = list(cache_dir.glob("SmolLM2-135M-Instruct.Q4_1-*/model.safetensors"))
    assert len(saved) == 1
    reloaded = build_text_generator(LMConfig(engine="transformers", n_threads=2, cache_dir=str(cache_dir)))
    prompt = "Name a colour."
    assert reloaded.generate(prompt, GREEDY).text == fallback_lm.generate(prompt, GREEDY).text

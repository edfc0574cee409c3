"""The ``local`` backend: a GGUF model in this process, run by llama.cpp or, failing that, transformers.

llama.cpp (llama-cpp-python, built portable by ``make setup``) is the engine of choice: 0.2 s to load
and ~70 tokens/s for SmolLM2-135M on 2 cores. Where it cannot be imported, transformers reads the same
GGUF (dequantised to fp32: ~20 tokens/s, ~1.2 GB) and the generator says so in its ``notice``.

One `Llama` context is not thread-safe, so each generator holds a lock for the whole of a generation,
streaming included; concurrent callers queue (on 2 cores, running them side by side would not be
faster). Use `build_local_generator` through `shared_models.lm.build_text_generator`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from shared_models.exceptions import ModelError
from shared_models.lm import (
    ChatMessage,
    Chunk,
    GenerationOptions,
    LMConfig,
    ModelFileError,
    PromptTooLongError,
    TextGenerator,
    TextStream,
    bundled_gguf_path,
    check_gguf,
)
from shared_models.turns import TurnLock

__all__ = ["LlamaCppGenerator", "TransformersGenerator", "build_local_generator", "llama_cpp_import_error"]


def llama_cpp_import_error() -> str | None:
    """Why llama.cpp cannot be used here, or None when it can."""
    try:
        import llama_cpp  # noqa: F401
    except Exception as exc:  # an ImportError, or an OSError from a broken shared library
        return f"{type(exc).__name__}: {exc}"
    return None


def build_local_generator(config: LMConfig) -> TextGenerator:
    """Load the configured GGUF with the configured engine (``auto``: llama.cpp, else transformers)."""
    path = check_gguf(config.gguf_path or bundled_gguf_path())
    if config.engine == "transformers":
        return TransformersGenerator(path, config)
    problem = llama_cpp_import_error()
    if problem is None:
        return LlamaCppGenerator(path, config)
    if config.engine == "llama_cpp":
        raise ModelError(f"llama.cpp is not usable ({problem}); run `make setup` to build llama-cpp-python")
    generator = TransformersGenerator(path, config)
    generator.notice = (
        f"llama.cpp could not be imported ({problem}), so the slower transformers engine runs this model "
        "(about 3x slower, more memory). `make setup` builds llama.cpp."
    )
    return generator


def _context_check(prompt_tokens: int, options: GenerationOptions, n_ctx: int) -> None:
    if prompt_tokens + options.max_tokens > n_ctx:
        raise PromptTooLongError(
            f"the prompt is {prompt_tokens:,} tokens and {options.max_tokens:,} new tokens were asked for, "
            f"but the model's context holds {n_ctx:,}. Shorten the prompt or chat history, lower max "
            "tokens, or raise the context size (AIGC_LLM_N_CTX)."
        )


class LlamaCppGenerator(TextGenerator):
    """llama.cpp on a GGUF file, with the chat template stored in the file."""

    backend = "local"
    engine = "llama.cpp"

    def __init__(self, path: Path, config: LMConfig) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.path = path
        self.model_name = path.name
        self.json_retries = config.json_retries
        self._lock = TurnLock()  # callers served in arrival order, each told its place
        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=config.n_ctx,
                n_threads=config.n_threads or os.cpu_count() or 1,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(
                f"llama.cpp could not load {path} ({exc}); the file may be truncated or of an "
                "architecture this llama.cpp build does not know"
            ) from exc
        self.context_length = self._llm.n_ctx()
        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelFileError(
                f"{path.name} has no chat template in its metadata; use an instruct/chat GGUF"
            )
        model = self._llm._model
        eos_id, bos_id = self._llm.token_eos(), self._llm.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=model.token_get_text(bos_id) if bos_id != -1 else "",
            stop_token_ids=[eos_id],
        )

    def prompt_tokens(self, messages: list[ChatMessage]) -> tuple[list[int], list[str]]:
        """The chat rendered by the GGUF's template and tokenised, and the template's stop strings."""
        rendered = self._formatter(messages=messages)
        tokens = self._llm.tokenize(
            rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
        )
        stops = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop]
        return tokens, [s for s in stops if s]

    def _open_stream(
        self, messages: list[ChatMessage], options: GenerationOptions, schema: Mapping[str, Any] | None
    ) -> TextStream:
        tokens, template_stops = self.prompt_tokens(messages)
        _context_check(len(tokens), options, self.context_length or 0)
        grammar = None
        if schema is not None:
            from llama_cpp import LlamaGrammar

            grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        chunks = self._generate(tokens, [*options.stop, *template_stops], options, grammar)
        return TextStream(chunks, backend=self.backend, model=self.model_name, prompt_tokens=len(tokens))

    def _generate(
        self, tokens: list[int], stop: list[str], options: GenerationOptions, grammar: Any
    ) -> Iterator[Chunk]:
        # The lock is taken when the first piece is asked for and held until the last (or until the
        # stream is closed): llama.cpp's KV cache belongs to one generation at a time.
        with self._lock:
            if options.seed is not None:
                # Reusing the cached prompt prefix changes the logits in the last bits, and sampling can
                # then drift; a seeded answer is promised to be reproducible, so evaluate afresh.
                self._llm.reset()
            pieces = self._llm.create_completion(
                prompt=tokens,
                max_tokens=options.max_tokens,
                temperature=options.temperature,
                top_p=options.top_p,
                repeat_penalty=options.repeat_penalty,
                stop=stop,
                seed=options.seed,
                grammar=grammar,
                stream=True,
            )
            try:
                for piece in pieces:
                    choice = piece["choices"][0]
                    # One piece per sampled token, except the closing one that only carries the reason.
                    text, reason = choice["text"], choice.get("finish_reason")
                    yield Chunk(text, tokens=0 if reason and not text else 1, finish_reason=reason)
            finally:
                with contextlib.suppress(Exception):
                    pieces.close()  # type: ignore[union-attr]


class TransformersGenerator(TextGenerator):
    """The same GGUF through transformers (dequantised to fp32): the fallback when llama.cpp is missing.

    JSON output is constrained token by token with lm-format-enforcer, as llama.cpp does with a grammar.
    """

    backend = "local"
    engine = "transformers"

    def __init__(self, path: Path, config: LMConfig) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = path
        self.model_name = path.name
        self.json_retries = config.json_retries
        self._lock = TurnLock()  # callers served in arrival order, each told its place
        self._threads = config.n_threads
        self._enforcer_data: Any = None
        cached = self._cache_folder(path, config.cache_dir)
        try:
            if cached is not None and (cached / "config.json").is_file():
                self._tokenizer = AutoTokenizer.from_pretrained(cached)
                self._model = AutoModelForCausalLM.from_pretrained(cached, dtype=torch.float32)
            else:
                self._tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
                self._model = AutoModelForCausalLM.from_pretrained(
                    path.parent, gguf_file=path.name, dtype=torch.float32
                )
                if cached is not None:
                    self._save_dequantised(cached)
        except (ValueError, OSError, KeyError, RuntimeError) as exc:
            raise ModelFileError(f"transformers could not load {path} ({exc})") from exc
        self._model.eval()
        if not getattr(self._tokenizer, "chat_template", None):
            raise ModelFileError(f"{path.name} has no chat template; use an instruct/chat GGUF")
        self.context_length = min(
            config.n_ctx, int(getattr(self._model.config, "max_position_embeddings", 0)) or config.n_ctx
        )

    def _save_dequantised(self, folder: Path) -> None:
        """Keep the fp32 weights as safetensors: a later process loads them ~8x faster than the GGUF.

        transformers refuses to save a model it read from GGUF (it marks it quantised), although the
        weights it holds are plain fp32; dropping that marker on the copy is what makes it savable.
        """
        self._model.hf_quantizer = None
        if hasattr(self._model.config, "quantization_config"):
            del self._model.config.quantization_config
        partial = folder.with_name(folder.name + ".partial")
        self._model.save_pretrained(partial, safe_serialization=True)
        self._tokenizer.save_pretrained(partial)
        partial.replace(folder)  # a crash mid-save never leaves a half-written cache behind

    @staticmethod
    def _cache_folder(path: Path, cache_dir: str | None) -> Path | None:
        if cache_dir is None:
            return None
        stat = path.stat()
        key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
        return Path(cache_dir) / f"{path.stem}-{key}"

    def _open_stream(
        self, messages: list[ChatMessage], options: GenerationOptions, schema: Mapping[str, Any] | None
    ) -> TextStream:
        import torch

        prompt = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = torch.tensor([self._tokenizer.encode(prompt, add_special_tokens=False)])
        _context_check(int(ids.shape[1]), options, self.context_length or 0)
        allowed = self._json_constraint(schema) if schema is not None else None
        chunks = self._generate(ids, options, allowed)
        return TextStream(
            chunks, backend=self.backend, model=self.model_name, prompt_tokens=int(ids.shape[1])
        )

    def _json_constraint(self, schema: Mapping[str, Any]) -> Any:
        """A per-step filter of the tokens that keep the output a valid prefix of the schema's JSON
        (lm-format-enforcer's core; its transformers adapter predates transformers 5, hence this one):
        the transformers counterpart of llama.cpp's grammar."""
        from lmformatenforcer import JsonSchemaParser, TokenEnforcer, TokenEnforcerTokenizerData

        with self._lock:  # indexing the vocabulary takes a few seconds: once per generator
            if self._enforcer_data is None:
                self._enforcer_data = self._build_enforcer_data(TokenEnforcerTokenizerData)
        enforcer = TokenEnforcer(self._enforcer_data, JsonSchemaParser(dict(schema)))
        return lambda _batch, ids: enforcer.get_allowed_tokens(ids.tolist()).allowed_tokens

    def _build_enforcer_data(self, data_cls: Any) -> Any:
        tok = self._tokenizer
        special = set(tok.all_special_ids)
        zero = tok.encode("0", add_special_tokens=False)[-1]
        regular = []
        for idx in range(len(tok)):
            if idx in special:
                continue
            # Decoding after "0" keeps the leading space a word-start token carries.
            after_zero, alone = tok.decode([zero, idx])[1:], tok.decode([idx])
            regular.append((idx, after_zero, len(after_zero) > len(alone)))
        eos = self._model.generation_config.eos_token_id
        eos_ids = sorted({tok.eos_token_id, *(eos if isinstance(eos, list) else [eos])} - {None})
        return data_cls(regular, lambda ids: tok.decode(ids).rstrip("\ufffd"), eos_ids, False, len(tok))

    def _generate(self, ids: Any, options: GenerationOptions, allowed: Any = None) -> Iterator[Chunk]:
        import torch
        from transformers import TextIteratorStreamer

        with self._lock:
            if self._threads:
                torch.set_num_threads(self._threads)
            if options.seed is not None:
                torch.manual_seed(options.seed)
            streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
            stop_event = threading.Event()
            sampling = (
                {"do_sample": True, "temperature": options.temperature, "top_p": options.top_p}
                if options.temperature > 0
                else {"do_sample": False}
            )
            kwargs = {
                "input_ids": ids,
                "attention_mask": torch.ones_like(ids),
                "max_new_tokens": options.max_tokens,
                "repetition_penalty": options.repeat_penalty,
                "streamer": streamer,
                "pad_token_id": self._tokenizer.eos_token_id,
                "stopping_criteria": [lambda *_args, **_kw: stop_event.is_set()],
                **sampling,
            }
            if options.stop:
                kwargs.update(stop_strings=list(options.stop), tokenizer=self._tokenizer)
            if allowed is not None:
                kwargs["prefix_allowed_tokens_fn"] = allowed
            errors: list[BaseException] = []
            produced: list[int] = []

            def work() -> None:
                try:
                    with torch.no_grad():
                        out = self._model.generate(**kwargs)
                    produced.append(int(out.shape[1] - ids.shape[1]))
                except BaseException as exc:  # surfaced in the caller's thread below
                    errors.append(exc)
                    streamer.end()

            worker = threading.Thread(target=work, name="lm-transformers", daemon=True)
            worker.start()
            hold = max((len(s) - 1 for s in options.stop), default=0)
            text, emitted, finish = "", 0, None
            try:
                for piece in streamer:  # word-sized pieces; the token count comes at the end
                    text += piece
                    cut = min((text.find(s) for s in options.stop if s in text), default=-1)
                    if cut >= 0:
                        text, finish = text[:cut], "stop"
                        stop_event.set()
                        break
                    safe = max(emitted, len(text) - hold)  # keep back a possible stop-string start
                    if safe > emitted:
                        yield Chunk(text[emitted:safe], tokens=0)
                        emitted = safe
                stop_event.set()
                worker.join()
                if errors:
                    raise ModelError(f"generation failed: {errors[0]}") from errors[0]
                new_tokens = produced[0] if produced else 0
                if finish is None:
                    finish = "length" if new_tokens >= options.max_tokens else "stop"
                yield Chunk(text[emitted:], tokens=new_tokens, finish_reason=finish)
            finally:
                stop_event.set()
                worker.join()

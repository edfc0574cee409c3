"""The ``openai`` backend: any OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp's servers, hosted).

Streams through the official ``openai`` client with explicit connect and read timeouts, and turns
every transport failure into an `EndpointError` that says which URL failed and what to check.
JSON output is requested with ``response_format``: first OpenAI's ``json_schema`` form, then the
``json_object`` + ``schema`` form that llama-cpp-python's server reads; a server that refuses both is
prompted instead, and every answer is validated (and retried) by `TextGenerator.generate_json`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from shared_models.lm import (
    ChatMessage,
    Chunk,
    EndpointError,
    EndpointTimeoutError,
    GenerationOptions,
    LMConfig,
    PromptTooLongError,
    TextGenerator,
    TextStream,
)

__all__ = ["OpenAIGenerator"]

_CONTEXT_WORDS = ("context", "too long", "maximum context", "exceed")


class OpenAIGenerator(TextGenerator):
    """Chat through an OpenAI-compatible HTTP endpoint (thread-safe: the HTTP client is)."""

    backend = "openai"
    engine = "http"

    def __init__(self, config: LMConfig) -> None:
        import httpx
        import openai

        assert config.base_url is not None  # LMConfig checks this for the openai backend
        self.base_url = config.base_url.rstrip("/")
        self.json_retries = config.json_retries
        self._config = config
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=config.api_key or "not-needed",
            timeout=httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s),
            max_retries=0,  # a down server should fail fast and say so, not hang through retries
        )
        self._model = config.model
        # Which response_format the server accepts; learned on first use. None: not tried yet.
        self._json_formats: list[str] = ["json_schema", "json_object"] if config.json_mode == "auto" else []
        self._format_lock = threading.Lock()

    @property
    def model_name(self) -> str:  # type: ignore[override]
        return self._model or "(server default)"

    def _resolve_model(self) -> str:
        if self._model is None:
            models = self._call(lambda: self._client.models.list())
            ids = [m.id for m in models.data]
            if not ids:
                raise EndpointError(f"{self.base_url} serves no models; set AIGC_LLM_MODEL")
            self._model = ids[0]
        return self._model

    def _call(self, request: Any) -> Any:
        """Run one client call, translating transport and status errors into `EndpointError`s."""
        import openai

        try:
            return request()
        except openai.APITimeoutError as exc:
            raise EndpointTimeoutError(
                f"{self.base_url} did not answer within {self._config.timeout_s:g} s; the server may be "
                "overloaded or the model still loading. Try again, or raise AIGC_LLM_TIMEOUT."
            ) from exc
        except openai.APIConnectionError as exc:
            raise EndpointError(
                f"cannot reach the language model endpoint {self.base_url} ({exc.__cause__ or exc}). "
                "Is the server running? Check AIGC_LLM_BASE_URL."
            ) from exc
        except openai.AuthenticationError as exc:
            raise EndpointError(f"{self.base_url} refused the API key (401); check AIGC_LLM_API_KEY") from exc
        except openai.NotFoundError as exc:
            raise EndpointError(
                f"{self.base_url} answered 404 ({_message(exc)}); check the URL ends in /v1 and the model "
                f"{self._model!r} exists (AIGC_LLM_MODEL)"
            ) from exc
        except openai.APIStatusError as exc:
            text = _message(exc)
            if exc.status_code in (400, 413, 422) and any(w in text.lower() for w in _CONTEXT_WORDS):
                raise PromptTooLongError(
                    f"the endpoint says the prompt is too long: {text}. Shorten it or lower max tokens."
                ) from exc
            raise EndpointError(f"{self.base_url} answered {exc.status_code}: {text}") from exc

    def _request(self, messages: list[ChatMessage], options: GenerationOptions) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._resolve_model(),
            "messages": messages,
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
            "stream": True,
        }
        if options.stop:
            body["stop"] = list(options.stop)[:4]  # the OpenAI API takes at most four
        if options.seed is not None:
            body["seed"] = options.seed
        if self._config.extra_sampling and options.repeat_penalty != 1.0:
            body["extra_body"] = {"repeat_penalty": options.repeat_penalty}
        return body

    def _open_stream(
        self, messages: list[ChatMessage], options: GenerationOptions, schema: Mapping[str, Any] | None
    ) -> TextStream:
        import openai

        body = self._request(messages, options)
        while True:
            kind = self._json_formats[0] if schema is not None and self._json_formats else None
            if kind == "json_schema":
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "answer", "schema": dict(schema or {})},
                }
            elif kind == "json_object":
                body["response_format"] = {"type": "json_object", "schema": dict(schema or {})}
            try:
                response = self._call(lambda: self._client.chat.completions.create(**body))
                break
            except EndpointError as exc:
                cause = exc.__cause__
                # Servers refuse an unknown response_format with 400 or 422, some (llama-cpp-python's)
                # with a 500 that names the field.
                refused = isinstance(cause, openai.BadRequestError | openai.UnprocessableEntityError) or (
                    isinstance(cause, openai.APIStatusError) and "response_format" in _message(cause)
                )
                if kind is None or not refused:
                    raise
                with self._format_lock:  # this server does not take that form; never send it again
                    if self._json_formats and self._json_formats[0] == kind:
                        self._json_formats.pop(0)
                body.pop("response_format", None)
        return TextStream(
            self._pieces(response, body), backend=self.backend, model=self.model_name, prompt_tokens=0
        )

    def _pieces(self, response: Any, body: dict[str, Any]) -> Iterator[Chunk]:
        import openai

        finished, said = False, False
        try:
            for event in response:
                if not event.choices:
                    continue
                choice = event.choices[0]
                text = (choice.delta.content or "") if choice.delta else ""
                finished = finished or choice.finish_reason is not None
                said = said or bool(text)
                yield Chunk(text, tokens=1 if text else 0, finish_reason=choice.finish_reason)
            if not finished and not said:
                # Some servers (llama-cpp-python's) fail a streamed request inside a 200 response and
                # just close it; asked again without streaming, they answer, or say what is wrong.
                yield self._unstreamed(body)
            elif not finished:
                # e.g. llama-cpp-python's server, by default, cuts a stream short to serve a newer request
                raise EndpointError(
                    f"{self.base_url} ended the answer without finishing it; the server may have dropped it "
                    "for another request (llama-cpp-python's server: run it with --interrupt_requests False)"
                )
        except openai.APITimeoutError as exc:
            raise EndpointTimeoutError(
                f"{self.base_url} stopped sending for {self._config.timeout_s:g} s in the middle of an answer"
            ) from exc
        except openai.APIConnectionError as exc:
            raise EndpointError(f"the connection to {self.base_url} broke during the answer ({exc})") from exc
        finally:
            response.close()

    def _unstreamed(self, body: dict[str, Any]) -> Chunk:
        # One retry: the server may have closed the pooled connection that carried the failed stream.
        client = self._client.with_options(max_retries=1)
        answer = self._call(lambda: client.chat.completions.create(**{**body, "stream": False}))
        choice = answer.choices[0]
        tokens = answer.usage.completion_tokens if answer.usage else 1
        return Chunk(
            choice.message.content or "", tokens=tokens, finish_reason=choice.finish_reason or "stop"
        )


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("detail"):
            return str(body["detail"])
    return str(getattr(exc, "message", exc))

"""The openai backend against a real OpenAI-compatible server: llama-cpp-python's own server, started
on a free loopback port and serving the bundled GGUF. No mocks: only the 'slow endpoint' case uses a
plain TCP listener that accepts connections and never answers, which is what a hung server does."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from shared_models.lm import (
    EndpointError,
    EndpointTimeoutError,
    GenerationOptions,
    LMConfig,
    MalformedOutputError,
    PromptTooLongError,
    TextGenerator,
    build_text_generator,
    bundled_gguf_path,
)
from tests.shared_models.test_lm import PROMPTS, SCHEMAS

SERVER_CTX = 1024
START_TIMEOUT_S = 90
GREEDY = GenerationOptions(max_tokens=32, temperature=0.0, repeat_penalty=1.15, seed=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(bundled_gguf_path()),
        "--model_alias",
        "smollm2-135m",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(SERVER_CTX),
        "--n_threads",
        "2",
        "--interrupt_requests",
        "False",  # queue concurrent requests instead of cutting the older one
    ]
    with log.open("wb") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited early:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not start:\n{log.read_text()}")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def remote_lm(server_url: str) -> TextGenerator:
    return build_text_generator(LMConfig(backend="openai", base_url=server_url, timeout_s=60))


def test_model_is_discovered_and_answers(remote_lm: TextGenerator) -> None:
    answer = remote_lm.generate("What is the capital of France?", GREEDY)
    assert remote_lm.model_name == "smollm2-135m"  # read from the server's /v1/models
    assert "Paris" in answer.text
    assert answer.backend == "openai" and answer.model == "smollm2-135m"
    assert answer.completion_tokens > 0 and answer.finish_reason in {"stop", "length"}


def test_remote_answer_matches_the_local_engine_on_the_same_file(
    remote_lm: TextGenerator, local_lm: TextGenerator
) -> None:
    # Same GGUF, same chat template, greedy: the server and the in-process engine agree.
    prompt = "Name three primary colours."
    assert remote_lm.generate(prompt, GREEDY).text.strip() == local_lm.generate(prompt, GREEDY).text.strip()


def test_answers_stream_in_pieces(remote_lm: TextGenerator) -> None:
    stream = remote_lm.stream([{"role": "user", "content": "Count from one to five."}], GREEDY)
    pieces = list(stream)
    assert len(pieces) > 3
    assert "".join(pieces) == stream.result.text
    assert stream.result.first_token_s is not None


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_generate_json_validates_through_the_endpoint(remote_lm: TextGenerator, name: str) -> None:
    value = remote_lm.generate_json(SCHEMAS[name], PROMPTS[name], GenerationOptions(max_tokens=200, seed=3))
    jsonschema.validate(value, SCHEMAS[name])


def test_json_that_never_validates_fails_clearly_after_retries(server_url: str) -> None:
    prompted = build_text_generator(
        LMConfig(backend="openai", base_url=server_url, json_mode="prompt", json_retries=1)
    )
    with pytest.raises(MalformedOutputError, match="after 2 attempts"):
        # Five tokens cannot hold an object with both required fields.
        prompted.generate_json(SCHEMAS["person"], PROMPTS["person"], GenerationOptions(max_tokens=5, seed=1))


def test_two_threads_through_the_endpoint_both_complete(remote_lm: TextGenerator) -> None:
    prompts = ["What is 2 + 2?", "Name a large animal."]
    alone = [remote_lm.generate(p, GREEDY).text for p in prompts]
    results: dict[int, str] = {}

    def ask(i: int) -> None:
        results[i] = remote_lm.generate(prompts[i], GREEDY).text

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [results.get(0), results.get(1)] == alone


def test_prompt_longer_than_the_server_context_is_reported(remote_lm: TextGenerator) -> None:
    with pytest.raises(PromptTooLongError, match="too long"):
        remote_lm.generate("word " * (SERVER_CTX * 2), GREEDY)


def test_endpoint_that_is_down_is_reported_fast() -> None:
    lm = build_text_generator(
        LMConfig(backend="openai", base_url=f"http://127.0.0.1:{free_port()}/v1", model="m")
    )
    start = time.monotonic()
    with pytest.raises(EndpointError, match="Is the server running") as info:
        lm.generate("Hello?")
    assert not isinstance(info.value, EndpointTimeoutError)
    assert time.monotonic() - start < 10


def test_endpoint_that_never_answers_times_out(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # takes the connection, reads the request, then says nothing
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        lm = build_text_generator(
            LMConfig(backend="openai", base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout_s=1.0)
        )
        with pytest.raises(EndpointTimeoutError, match="did not answer within 1 s"):
            lm.generate("Hello?")
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_unknown_model_on_the_endpoint_is_reported(server_url: str) -> None:
    lm = build_text_generator(LMConfig(backend="openai", base_url=server_url + "/nowhere", model="m"))
    with pytest.raises(EndpointError, match="404"):
        lm.generate("Hello?")

"""An OpenAI-compatible endpoint that answers with the schema-filling test double, for page tests.

Pages run language-model work in job worker processes, which build their own model from the
``AIGC_LLM_*`` settings; a double patched into the test process never reaches them. This server does:
the test points ``AIGC_LLM_BASE_URL`` at it, and every worker's `OpenAIGenerator` gets the double's
seeded, schema-valid answers, streamed in small pieces (``delay_s`` apart, to make work that lasts).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shared_models.lm import GenerationOptions
from tests.domains.entertainment.scripted_lm import ScriptedGenerator

MODEL = "scripted-endpoint"
PIECE_CHARS = 12


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return

    def do_GET(self) -> None:
        self._json({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "test"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        form = body.get("response_format") or {}
        schema = form.get("json_schema", {}).get("schema") or form.get("schema")
        options = GenerationOptions(seed=body.get("seed"))
        with self.server.lock:  # the double is not meant for several threads at once
            text = self.server.double._open_stream(body["messages"], options, schema).collect().text
        if not body.get("stream"):
            message = {"role": "assistant", "content": text}
            self._json({"id": "x", "object": "chat.completion", "created": 0, "model": MODEL,
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})  # fmt: skip
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = [text[i : i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)]
        try:
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                self._event({"content": piece}, "stop" if last else None)
                if not last:
                    time.sleep(self.server.delay_s)
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading (a stop)
            return

    def _event(self, delta: dict[str, str], finish: str | None) -> None:
        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": MODEL,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()

    def _json(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, double: ScriptedGenerator, delay_s: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.double, self.delay_s, self.lock = double, delay_s, threading.Lock()


@contextmanager
def scripted_endpoint(repeat_share: float = 0.0, delay_s: float = 0.0) -> Iterator[_Server]:
    """Serve the double on a free local port; the base URL is ``http://127.0.0.1:<port>/v1``.

    Args:
        repeat_share: The double's share of repeated dialogue lines (to exercise the clean-up).
        delay_s: Pause between streamed pieces of an answer.
    """
    server = _Server(ScriptedGenerator(repeat_share), delay_s)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def base_url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"

"""`aigc serve`: start the browser app."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["APP_PATH", "register", "streamlit_command"]

APP_PATH = Path(__file__).resolve().parent.parent / "app.py"


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="start the web app")
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", 8501)), help="default $PORT or 8501"
    )
    parser.set_defaults(handler=serve)


def streamlit_command(address: str, port: int) -> list[str]:
    """The command line that serves the app (headless: no e-mail prompt, no usage statistics)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def serve(args: argparse.Namespace) -> int:
    print(f"AIGC Industry Suite: open http://{args.address}:{args.port} (Ctrl+C stops)", flush=True)
    command = streamlit_command(args.address, args.port)
    os.execv(command[0], command)  # replaces this process: signals reach Streamlit directly
    return 0  # pragma: no cover - execv does not return

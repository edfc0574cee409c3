"""A private PostgreSQL server for the storage tests: initdb + pg_ctl on a loopback port, then stopped.

Debian's ``postgresql`` package puts the server binaries under /usr/lib/postgresql/<version>/bin.
Without them the PostgreSQL tests skip with that reason, except in CI (``CI`` set), where they fail:
`.ci/run` installs the package. As root, the cluster runs as the ``postgres`` user (PostgreSQL
refuses to run as root) in a temporary folder owned by it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bindir = postgres_bindir()
    if bindir is None:
        reason = (
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt install postgresql)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}", pytrace=False)
        pytest.skip(reason)
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="aigc-pg-"))
    if as_root:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off"

    def pg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120, check=False)

    try:
        init = pg(str(bindir / "initdb"), "-D", str(data), "-U", "aigc", "--auth=trust", "-E", "UTF8")
        assert init.returncode == 0, init.stderr
        start = pg(
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "start"
        )
        assert start.returncode == 0, start.stderr + (base / "log").read_text(errors="replace")
        yield f"postgresql+psycopg2://aigc@127.0.0.1:{port}/postgres"
    finally:
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)

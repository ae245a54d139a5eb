"""A throwaway PostgreSQL server for tests: its own cluster in a temp dir, on a unix socket only.

Debian's `postgresql` package provides the binaries; initdb refuses to run as root, so as root the
cluster is owned by and run as the `postgres` user that package creates.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]) if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available() -> str | None:
    """None when a server can be started here, else the reason it cannot."""
    if _bindir() is None:
        return "PostgreSQL is not installed (Debian package postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres user to run the server as"
    return None


@contextlib.contextmanager
def running_postgres(*, fsync: bool = False) -> Iterator[str]:
    """Start a cluster; yields its SQLAlchemy URL (psycopg 3); stops and deletes it on exit.

    Tests run with fsync off (fast, nothing to keep); benchmarks that measure durable commits
    pass `fsync=True`.
    """
    bindir = _bindir()
    assert bindir is not None, available()
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
    data, sockets, port = workdir / "data", workdir, _free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8")
        durable = "on" if fsync else "off"
        options = f"-k {sockets} -p {port} -c listen_addresses='' -c fsync={durable}"
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(workdir / "log"),
            "-w",
            "start",
        )
        try:
            yield f"postgresql+psycopg://{user}@/postgres?host={sockets}&port={port}"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

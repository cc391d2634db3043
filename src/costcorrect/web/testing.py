"""Helpers for driving the explorer from tests and benchmarks: a background server and Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator

#: Where to look for a Chromium binary (``COSTCORRECT_CHROMIUM`` wins).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or ``None``."""
    env = os.environ.get("COSTCORRECT_CHROMIUM")
    if env:
        return env if os.path.exists(env) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@contextlib.contextmanager
def serve(app=None, host: str = "127.0.0.1") -> Iterator[str]:
    """Run ``app`` (default: the explorer) with uvicorn in a thread; yields the base URL."""
    import uvicorn

    from costcorrect.web import create_app

    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app or create_app(), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the explorer's test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

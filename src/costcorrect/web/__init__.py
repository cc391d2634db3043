"""Web explorer: the frontier, the break-even surface, hardware and cost-correct in a browser.

``create_app()`` returns a FastAPI app (``costcorrect web``); ``router`` is the
``APIRouter`` with every page, API route and static file, for apps that serve the
explorer next to their own routes. Needs the ``web`` extra (FastAPI, uvicorn).
"""

from __future__ import annotations

try:
    from costcorrect.web.app import create_app, router, warm
except ModuleNotFoundError as exc:  # pragma: no cover - only without the web extra
    if exc.name not in {"fastapi", "starlette"}:
        raise
    raise ModuleNotFoundError(
        "the web explorer needs FastAPI: pip install 'costcorrect[web]'", name=exc.name) from exc

__all__ = ["create_app", "router", "warm"]

"""``costcorrect web``: the explorer (frontier, break-even, hardware, cost-correct) in a browser."""

from __future__ import annotations

from typing import Annotated

import typer

from costcorrect.cli.common import app, err_console, guarded
from costcorrect.errors import InputError, check_range


@app.command("web")
@guarded
def web(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port [1-65535].")] = 8080,
    warm: Annotated[bool, typer.Option("--warm/--no-warm",
                                       help="Compute the default views before serving.")] = True,
):
    """Serve the web explorer on the embedded default scenario (needs the ``web`` extra).

    Pages: /frontier, /breakeven, /hardware, /cost-correct; JSON API under /api. Works
    offline: Vega, Vega-Lite and vega-embed are served from the package.
    """
    check_range("port", port, 1, 65535)
    if not host.strip():
        raise InputError("host", host, "an interface name or address, e.g. 127.0.0.1")
    try:
        import uvicorn

        from costcorrect import web as explorer
    except ModuleNotFoundError as exc:
        raise InputError("web", exc.name, "the web extra installed: pip install 'costcorrect[web]'") from None
    if warm:
        explorer.warm()
    err_console.print(f"costcorrect explorer on http://{host}:{port}/  (Ctrl-C stops it)")
    uvicorn.run(explorer.create_app(), host=host, port=port, log_level="warning")

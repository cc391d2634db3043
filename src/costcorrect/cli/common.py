"""Shared pieces of the CLI: the Typer app, consoles, common options and the error guard.

Command modules (``costcorrect/cli/cmd_*.py``) import from here and decorate their
functions with ``@app.command()``; ``cli/app.py`` imports every ``cmd_*`` module, so a new
command never needs an edit to a shared file.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console

from costcorrect.catalog import Catalog
from costcorrect.errors import InputError
from costcorrect.io import dumps
from costcorrect.scenario import apply_overrides, load_scenario

app = typer.Typer(
    name="costcorrect",
    help="Inference economics: cost per million SLO-compliant served tokens (CPM_served, "
         "$/MTok) and the serving frontier of paper 01.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Show the sourced catalog tables.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

# Piped output gets a wide page so tables are not squeezed into 80 columns.
out_console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 220)
err_console = Console(stderr=True, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
ScenarioOpt = Annotated[
    Path | None,
    typer.Option("--scenario", help="Scenario YAML/TOML; default: the embedded paper-01 slice."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a scenario field, e.g. --set slo.ttft_p99_ms=300 (repeatable)."),
]
OverlayOpt = Annotated[
    Path | None, typer.Option("--catalog", help="YAML overlay adding/overriding catalog rows.")
]


def guarded(fn):
    """Turn :class:`InputError` into one line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            err_console.print(f"error: {exc}", markup=False, highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def _load(scenario: Path | None, overlay: Path | None, overrides: list[str] | None = None):
    sc = apply_overrides(load_scenario(scenario), overrides)
    cat = Catalog.load(overlay or sc.catalog_overlay)
    return sc, cat


def _emit_json(obj, indent: int | None = 2) -> None:
    sys.stdout.write(dumps(obj, indent=indent) + "\n")


def _fmt(x, spec=".3f") -> str:
    return "—" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, spec)

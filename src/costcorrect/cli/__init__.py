"""The ``costcorrect`` command line: parse, call the library, render (Rich or --json)."""

from __future__ import annotations

from costcorrect.cli.app import app, main

__all__ = ["app", "main"]

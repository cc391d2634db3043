"""Atomic file output for the faces: write to a temp file beside the target, then rename."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np


def atomic_write_bytes(path: str | Path, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half.

    ``private`` keeps the file mode 0600 from creation on (secrets such as signing keys are
    never world-readable, not even for a moment); otherwise the usual umask-derived mode."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def jsonable(obj):
    """Plain JSON types; NaN and ±inf (infeasible) become ``null``."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj


def dumps(obj, indent: int | None = 2) -> str:
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def write_markdown_section(path: str | Path, heading: str, text: str, *, preamble: str = "",
                           first: bool = False) -> Path:
    """Replace the Markdown section that starts with the line ``heading`` (up to the next ``## ``
    heading) by ``text``, or add it (at the end, or before the first section when ``first``);
    atomically. A missing file starts as ``preamble``; a file that lacks it gets it prepended.

    Each benchmark script owns one section of ``docs/benchmarks.md`` and writes it with this.
    """
    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.exists() else preamble
    if preamble and not old.startswith(preamble.split("\n", 1)[0]):
        old = preamble + old
    body = text.rstrip("\n") + "\n"
    m = re.search(rf"^{re.escape(heading)}[ \t]*$", old, re.M)
    if m:
        nxt = old.find("\n## ", m.end())
        new = old[: m.start()] + body + ("\n" + old[nxt + 1:] if nxt >= 0 else "")
    elif first and (nxt := old.find("\n## ")) >= 0:
        new = old[: nxt + 1] + body + "\n" + old[nxt + 1:]
    else:
        new = old.rstrip("\n") + "\n\n" + body
    return atomic_write_text(path, new)

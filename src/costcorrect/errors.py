"""One error type for bad input; every face turns it into exit code 2 (CLI) or HTTP 422."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: names the field, the value given and what is allowed."""

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"invalid {field}={value!r}: allowed {allowed}")


def check_range(field: str, value, lo=None, hi=None, *, lo_open=False, hi_open=False):
    """Raise :class:`InputError` unless ``lo <= value <= hi`` (open ends when asked).

    Works on scalars and arrays (every element must pass); NaN never passes.
    """
    import numpy as np

    arr = np.asarray(value, dtype=float)
    ok = ~np.isnan(arr)
    if lo is not None:
        ok &= (arr > lo) if lo_open else (arr >= lo)
    if hi is not None:
        ok &= (arr < hi) if hi_open else (arr <= hi)
    if not bool(np.all(ok)):
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        bad = value if arr.ndim == 0 else arr[~ok].ravel()[0].item()
        raise InputError(field, bad, f"{left}{lo_s}, {hi_s}{right}")
    return value

"""Strictly proper scoring rules (paper 06 §4), vectorised, binary and categorical.

Every rule is *positively oriented* (higher is better) and strictly proper: for a
forecaster whose belief about the outcome is ``q``, the expected score
``E_{y~q} S(p, y)`` has its unique maximum at ``p = q`` (Gneiting and Raftery 2007).

Shapes
------
* **binary**: ``reports`` is ``P(y = 1)`` with shape ``(..., N)``; ``outcomes`` are 0/1 and
  broadcast against it (typically shape ``(N,)`` against ``(K, N)``).
* **categorical**: ``reports`` has shape ``(..., N, M)`` (rows on the simplex, each summing to
  1 within 1e-6), ``outcomes`` are class indices in ``[0, M)`` broadcasting against
  ``(..., N)``.

The form is picked from the shapes: binary when ``reports.shape[-1]`` equals
``outcomes.shape[-1]`` and ``reports.ndim >= outcomes.ndim``; categorical otherwise (or
when ``categorical=True`` is passed, which also resolves the one ambiguous case of an
``(N, N)`` report matrix).

Rules (binary form in terms of ``p = P(y=1)`` and ``ℓ ∈ {0,1}``)
------------------------------------------------------------------
* ``brier``      ``-(p - ℓ)^2`` as printed in paper 06 §4; categorical ``-Σ_j (p_j - e_{y,j})^2``.
  Range ``[-1, 0]`` binary, ``[-2, 0]`` categorical.
* ``quadratic``  Gneiting–Raftery quadratic score ``2 p_y - ||p||^2``; binary
  ``1 - 2 (p - ℓ)^2``, range ``[-1, 1]``. Note: paper 06 prints ``2pℓ - p^2``, which equals
  ``brier + ℓ`` — also strictly proper, and (like this form) an affine-plus-outcome-only
  transform of Brier, so every selection by mean score is identical to Brier's.
* ``log``        ``log p_y``; reports are clipped to ``[LOG_CLIP, 1 - LOG_CLIP]`` so that the
  score (and therefore a payment built on it) is bounded below by ``log(LOG_CLIP)``.
* ``spherical``  ``p_y / ||p||_2``, range ``[0, 1]`` binary (``[1/sqrt(M), 1]`` max/min over
  the simplex are attained at vertices/centre).
"""

from __future__ import annotations

import numpy as np

from costcorrect.errors import InputError

RULES = ("brier", "quadratic", "log", "spherical")

#: Clip for the log rule [-]: reports are kept in [LOG_CLIP, 1-LOG_CLIP] so S >= log(LOG_CLIP).
LOG_CLIP = 1e-3

_TOL = 1e-9


def _check_rule(rule: str) -> str:
    if rule not in RULES:
        raise InputError("rule", rule, "one of " + ", ".join(RULES))
    return rule


def _as_outcomes(outcomes) -> np.ndarray:
    y = np.asarray(outcomes)
    if y.dtype.kind == "b":
        return y.astype(np.int64)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            bad = y[~(np.isfinite(y) & (y == np.round(np.nan_to_num(y))))].ravel()[0]
            raise InputError("outcomes", float(bad), "integers (class labels)")
        return y.astype(np.int64)
    if y.dtype.kind not in "iu":
        raise InputError("outcomes", str(y.dtype), "integer class labels")
    return y.astype(np.int64)


def is_categorical(reports, outcomes, categorical: bool | None = None) -> bool:
    """Whether ``reports``/``outcomes`` are in the categorical layout (see module docstring)."""
    if categorical is not None:
        return bool(categorical)
    p, y = np.shape(reports), np.shape(outcomes)
    if len(p) == 0:
        return False
    if len(y) == 0:
        return False
    return not (p[-1] == y[-1] and len(p) >= len(y))


def check_reports(reports, outcomes, *, categorical: bool | None = None):
    """Validate and return ``(p, y, categorical)`` as float / int arrays.

    Raises :class:`InputError` for probabilities outside [0, 1] or NaN, categorical rows
    that do not sum to 1, outcomes outside {0,1} (binary) or [0, M) (categorical), shapes
    that do not broadcast, and empty probe sets.
    """
    p = np.asarray(reports, dtype=float)
    y = _as_outcomes(outcomes)
    cat = is_categorical(p, y, categorical)
    if p.size == 0 or y.size == 0:
        raise InputError("reports", f"shape {p.shape}", "a non-empty probe set")
    bad = ~((p >= 0.0) & (p <= 1.0))  # NaN fails both comparisons
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"reports{list(idx)}", float(p[idx]), "probabilities in [0, 1] (no NaN)")
    if cat:
        if p.ndim < 2:
            raise InputError("reports", f"shape {p.shape}", "(..., N, M) for categorical outcomes")
        m = p.shape[-1]
        sums = p.sum(axis=-1)
        off = np.abs(sums - 1.0) > 1e-6
        if np.any(off):
            idx = tuple(int(i) for i in np.argwhere(off)[0])
            raise InputError(f"reports{list(idx)} row sum", float(sums[idx]), "categorical rows summing to 1")
        if np.any((y < 0) | (y >= m)):
            raise InputError("outcomes", int(y[(y < 0) | (y >= m)].ravel()[0]), f"class indices in [0, {m})")
        try:
            np.broadcast_shapes(p.shape[:-1], y.shape)
        except ValueError:
            raise InputError("outcomes", f"shape {y.shape}", f"broadcastable to reports' {p.shape[:-1]}") from None
    else:
        if np.any((y != 0) & (y != 1)):
            raise InputError("outcomes", int(y[(y != 0) & (y != 1)].ravel()[0]), "labels in {0, 1}")
        try:
            np.broadcast_shapes(p.shape, y.shape)
        except ValueError:
            raise InputError("outcomes", f"shape {y.shape}", f"broadcastable to reports' {p.shape}") from None
    return p, y, cat


def _binary(rule: str, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    if rule == "brier":
        return -((p - y) ** 2)
    if rule == "quadratic":
        return 1.0 - 2.0 * (p - y) ** 2
    if rule == "log":
        pc = np.clip(p, LOG_CLIP, 1.0 - LOG_CLIP)
        return np.where(y == 1, np.log(pc), np.log1p(-pc))
    # spherical
    py = np.where(y == 1, p, 1.0 - p)
    return py / np.sqrt(p * p + (1.0 - p) ** 2)


def _categorical(rule: str, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    yb = np.broadcast_to(y, np.broadcast_shapes(p.shape[:-1], y.shape))
    pb = np.broadcast_to(p, (*yb.shape, p.shape[-1]))
    py = np.take_along_axis(pb, yb[..., None], axis=-1)[..., 0]
    sq = np.sum(pb * pb, axis=-1)
    if rule == "brier":
        return -(sq - 2.0 * py + 1.0)
    if rule == "quadratic":
        return 2.0 * py - sq
    if rule == "log":
        return np.log(np.clip(py, LOG_CLIP, 1.0))
    return py / np.sqrt(sq)


def score(rule: str, reports, outcomes, *, categorical: bool | None = None, validate: bool = True) -> np.ndarray:
    """Per-probe score ``S(p_i, y_i)`` of a strictly proper rule [score units, higher is better].

    Paper 06 §4 (construction). ``reports``: probabilities, binary ``(..., N)`` of ``P(y=1)``
    or categorical ``(..., N, M)``; ``outcomes``: ints (``{0,1}`` or ``[0, M)``). Returns the
    broadcast ``(..., N)`` array. ``validate=False`` skips the input checks (for inner loops
    of the simulation that have already validated).

    >>> score("brier", [0.8, 0.3], [1, 0]).round(3).tolist()
    [-0.04, -0.09]
    >>> score("log", [[0.7, 0.2, 0.1]], [0]).round(4).tolist()
    [-0.3567]
    """
    _check_rule(rule)
    if validate:
        p, y, cat = check_reports(reports, outcomes, categorical=categorical)
    else:
        p, y = np.asarray(reports, dtype=float), np.asarray(outcomes)
        cat = is_categorical(p, y, categorical)
    return _categorical(rule, p, y) if cat else _binary(rule, p, y)


def score_bounds(rule: str, n_classes: int = 2) -> tuple[float, float]:
    """``(min_S, max_S)`` of a rule over the simplex × outcomes [score units].

    Used for the IR and cap constants of Theorem 2. Binary (``n_classes=2``) uses the
    binary forms above; the log rule's minimum is ``log(LOG_CLIP)`` because of the clip.

    >>> score_bounds("brier")
    (-1.0, 0.0)
    """
    _check_rule(rule)
    m = int(n_classes)
    if m < 2:
        raise InputError("n_classes", n_classes, "an integer >= 2")
    if m == 2:
        return {
            "brier": (-1.0, 0.0),
            "quadratic": (-1.0, 1.0),
            "log": (float(np.log(LOG_CLIP)), float(np.log1p(-LOG_CLIP))),
            "spherical": (0.0, 1.0),
        }[rule]
    return {
        "brier": (-2.0, 0.0),
        "quadratic": (-1.0, 1.0),
        "log": (float(np.log(LOG_CLIP)), 0.0),
        "spherical": (0.0, 1.0),
    }[rule]


def expected_score(rule: str, reports, beliefs) -> np.ndarray:
    """``E_{y~q} S(p, y)`` for binary reports ``p`` under belief ``q = P(y=1)`` [score units].

    The propriety check of §4: for a strictly proper rule this is maximised uniquely at
    ``p = q``. Vectorised over broadcasting ``reports``/``beliefs``.
    """
    _check_rule(rule)
    p = np.asarray(reports, dtype=float)
    q = np.asarray(beliefs, dtype=float)
    one = np.ones(np.broadcast_shapes(p.shape, q.shape), dtype=np.int64)
    return q * _binary(rule, p, one) + (1.0 - q) * _binary(rule, p, 0 * one)

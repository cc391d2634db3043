"""The one place the service calls the mechanism (:mod:`costcorrect.verification`).

Single-slot rounds (paper 06 §4): reports are ``P(label = 1)`` per probe, shape (K, N);
joint rounds (paper 07 §5): each candidate pair reports a joint distribution
``q = (q00, q01, q10, q11)`` over the two slots' decisions, shape (K, N, 4), and the outcome
of a probe is the class ``2·r1 + r2`` of its label pair ``(r1, r2)``; the categorical form of
the same strictly proper rules (joint Brier ``-Σ_ab (q_ab - 1[(r1,r2)=(a,b)])²``) scores it.

Payment ``t_k = a + b·mean_i S(p_ki, ℓ_i)`` [USD] (06 Thm 2 / 07 Thm 3). The buyer either
gives ``a`` and ``b`` (checked: ``a >= 0``, ``b > 0``, ex post IR ``a + b·min_S >= 0``) or a
per-probe cap / budget / reservation from which
:func:`costcorrect.verification.mechanism.payment_constants` derives them.
"""

from __future__ import annotations

import numpy as np

from costcorrect.errors import InputError
from costcorrect.verification import mechanism, rules

RULES = rules.RULES
N_JOINT = 4  # |{0,1}^2|


def n_classes(joint: bool) -> int:
    return N_JOINT if joint else 2


def resolve_payment(rule: str, payment: dict, n_probes: int, n_vendors: int, joint: bool) -> dict:
    """Return ``{a_usd, b_usd, ...}`` for a round, raising :class:`InputError` on bad constants.

    ``payment`` is ``{a, b}`` (USD, for the whole probe set) or
    ``{per_probe_cap_usd?, budget_usd?, reservation_usd?}``.
    """
    rules._check_rule(rule)
    lo, hi = rules.score_bounds(rule, n_classes(joint))
    if "a" in payment or "b" in payment:
        if "a" not in payment or "b" not in payment:
            raise InputError("payment", sorted(payment), "both a and b, or cap/budget/reservation")
        a, b = float(payment["a"]), float(payment["b"])
        if not np.isfinite(a) or a < 0:
            raise InputError("payment.a", a, "a finite number >= 0 [USD]")
        if not np.isfinite(b) or b <= 0:
            raise InputError("payment.b", b, "a finite number > 0 [USD per unit score]")
        if a + b * lo < -1e-12:
            raise InputError("payment.a", a, f">= -b·min_S = {-b * lo:g} so the mechanism is ex post "
                                             f"individually rational (06 Thm 2; min_S of {rule} = {lo:g})")
        return {"a_usd": a, "b_usd": b, "min_score": lo, "max_score": hi, "source": "buyer"}
    a, b, cap = mechanism.payment_constants(
        rule, n_probes, n_vendors=max(n_vendors, 1), per_probe_cap_usd=payment.get("per_probe_cap_usd"),
        budget_usd=payment.get("budget_usd"), reservation_usd=payment.get("reservation_usd", 0.0),
        n_classes=n_classes(joint))
    return {"a_usd": a, "b_usd": b, "per_probe_cap_usd": cap, "min_score": lo, "max_score": hi,
            "source": "payment_constants (06 Thm 2: IR and cap binding)"}


def joint_outcomes(label_pairs) -> np.ndarray:
    """Class index ``2·r1 + r2`` of each label pair (r1, r2) ∈ {0,1}² (order q00, q01, q10, q11)."""
    lab = np.asarray(label_pairs, dtype=np.int64)
    return 2 * lab[..., 0] + lab[..., 1]


def score_round(rule: str, reports, outcomes, *, joint: bool, a_usd: float, b_usd: float) -> dict:
    """Mean score, payment [USD] and the empirical argmax over the K revealed vendors.

    ``reports``: (K, N) binary or (K, N, 4) joint; ``outcomes``: (N,) labels or joint classes.
    With K >= 2 the mean scores and the selection come from
    :func:`costcorrect.verification.mechanism.run_mechanism` (lowest index wins ties); the
    payments use the round's own ``a`` and ``b``.
    """
    p = np.asarray(reports, dtype=float)
    y = np.asarray(outcomes, dtype=np.int64)
    if p.shape[0] >= 2:
        res = mechanism.run_mechanism(p, y, rule, categorical=joint)
        mean_s, selected = np.asarray(res.mean_scores, dtype=float), int(res.selected)
    else:
        mean_s = rules.score(rule, p, y, categorical=joint).mean(axis=-1)
        selected = int(np.argmax(mean_s))
    payments = a_usd + b_usd * mean_s
    return {"mean_scores": mean_s.tolist(), "payments_usd": payments.tolist(), "selected": selected}

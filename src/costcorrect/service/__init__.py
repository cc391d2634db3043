"""Procurement as a service (issue 10): FastAPI + SQLite, sealed-bid commit-reveal rounds for
the scoring-rule mechanism of paper 06 §4 and the joint mechanism of paper 07 §5, every step
a ledger event (:mod:`costcorrect.ledger`). See ``docs/procurement-service.md``.

``create_app`` is imported lazily so ``import costcorrect.service`` works without FastAPI.
"""

from __future__ import annotations


def create_app(*args, **kwargs):
    from costcorrect.service.app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = ["create_app"]

"""Every paper claim against the paper's value; errata assert the correct number."""

import pytest

from costcorrect.validation import CLAIMS, evaluate

RESULTS = {r.claim.id: r for r in evaluate()}


@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_claim_has_its_documented_status(claim_id):
    r = RESULTS[claim_id]
    assert r.status == r.claim.expected_status, (r.computed_value, r.claim.paper_value)
    if r.status != "reproduced":
        assert r.note, "an erratum or a miss must say why"


# Errata: the correct values, computed by hand from the paper's own inputs.
@pytest.mark.parametrize("claim_id,correct", [
    ("01-kv-4k", 327_680 * 4096 / 1e9),
    ("01-kv-16k", 327_680 * 16384 / 1e9),
    ("01-tkv-roce400", 327_680 * 4096 / 50e9 * 1e3),
    ("01-tkv-hdr", 327_680 * 4096 / 25e9 * 1e3),
    ("01-tau-kv-units", 3600.0),
    ("01-cite-splitwise-cost", 0.20),
    ("01-cite-mooncake-5x", 5.98),
])
def test_errata_carry_the_correct_value(claim_id, correct):
    r = RESULTS[claim_id]
    assert r.status == "erratum"
    assert r.computed_value == pytest.approx(correct, rel=1e-4)


def test_statuses_are_from_the_allowed_set():
    assert {r.status for r in RESULTS.values()} <= {"reproduced", "erratum", "not-reproduced"}

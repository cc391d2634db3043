"""Eval logs -> R, ρ̄, α with task-bootstrap CIs; pass@k; formats; the shipped example."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from costcorrect.allocation import logs
from costcorrect.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "eval-log.jsonl"


def _rows(spec):
    """spec: list of (task_id, [(output, answer, accepted), ...])."""
    out = []
    for task, attempts in spec:
        for i, (o, a, acc) in enumerate(attempts):
            out.append({"task_id": task, "attempt": i + 1, "input_tokens": 100, "output_tokens": o,
                        "answer_tokens": a, "accepted": acc})
    return logs.validate_eval_log(pd.DataFrame(out))


def test_estimators_by_hand():
    df = _rows([("a", [(1000, 100, False), (800, 100, True)]),
                ("b", [(500, 50, True)]),
                ("c", [(600, 100, False), (600, 100, False), (600, 100, False)])])
    est = logs.point_estimates(logs.task_table(df))
    assert est["reasoning_multiplier"] == pytest.approx(4100 / 550)
    assert est["rollout_ratio"] == pytest.approx(6 / 3 - 1)
    assert est["accept_rate"] == pytest.approx(2 / 3)
    res = logs.estimate_group(df, 2.0, price_in_usd_per_mtok=1.0, price_out_usd_per_mtok=3.0, replicates=200)
    # identity: C x mean answer length = CPM x billed output per accepted task
    assert res["cost_per_correct_answer_usd"] == pytest.approx(2.0 * 4100 / 2 / 1e6)
    assert res["billed_cost_per_correct_answer_usd"] == pytest.approx((1.0 * 600 + 3.0 * 4100) / 1e6 / 2)


def test_no_accepted_answer_is_an_input_error():
    df = _rows([("a", [(10, 5, False), (10, 5, False)])])
    with pytest.raises(InputError, match="infinite"):
        logs.estimate_group(df, 1.0)


def test_pass_at_k_matches_brute_force():
    for n, c, k in [(5, 2, 2), (6, 0, 3), (4, 4, 1), (7, 3, 5)]:
        outcomes = [1] * c + [0] * (n - c)
        subsets = list(itertools.combinations(range(n), k))
        brute = sum(any(outcomes[i] for i in s) for s in subsets) / len(subsets)
        assert float(logs.pass_at_k(n, c, k)) == pytest.approx(brute)


def test_vectorised_bootstrap_matches_loop_in_distribution():
    rng = np.random.default_rng(1)
    t = logs.TaskTable(output_tokens=rng.integers(500, 5000, 300).astype(float),
                       answer_tokens=rng.integers(50, 300, 300).astype(float), input_tokens=np.ones(300),
                       attempts=rng.integers(1, 5, 300).astype(float),
                       accepted_any=(rng.random(300) < 0.6).astype(float),
                       accepted_attempts=np.ones(300))
    v = logs.bootstrap_levers(t, 1.0, 4000, seed=3)["cost_correct_usd_per_mtok"]
    lp = logs.bootstrap_levers_loop(t, 1.0, 4000, seed=4)["cost_correct_usd_per_mtok"]
    assert np.mean(v) == pytest.approx(np.mean(lp), rel=0.01)
    assert np.std(v) == pytest.approx(np.std(lp), rel=0.1)


def test_task_resampling_is_wider_than_attempt_resampling_when_attempts_are_correlated():
    # tasks are either easy (all attempts accepted) or impossible: attempts within a task agree
    rng = np.random.default_rng(0)
    easy = rng.random(200) < 0.5
    rows = []
    for i, e in enumerate(easy):
        for j in range(4):
            rows.append({"task_id": f"t{i}", "attempt": j, "input_tokens": 1, "output_tokens": 100,
                         "answer_tokens": 10, "accepted": bool(e)})
    df = logs.validate_eval_log(pd.DataFrame(rows))
    t = logs.task_table(df)
    task_ci = logs.percentile_interval(logs.bootstrap_levers(t, 1.0, 2000)["accept_rate"])
    # naive: every attempt its own "task"
    df2 = df.assign(task_id=df["task_id"] + "-" + df["attempt"].astype(int).astype(str))
    naive = logs.percentile_interval(logs.bootstrap_levers(logs.task_table(df2), 1.0, 2000)["accept_rate"])
    assert (task_ci[1] - task_ci[0]) > 1.5 * (naive[1] - naive[0])


def test_ci_flags_unbounded_upper_end():
    df = _rows([("a", [(10, 5, True)])] + [(f"x{i}", [(10, 5, False)]) for i in range(30)])
    res = logs.estimate_group(df, 1.0, replicates=500)
    assert res["ci95"]["cost_correct_usd_per_mtok"]["unbounded"] is True


def test_example_log_and_formats(tmp_path):
    df = logs.read_eval_log(EXAMPLE)
    assert {"model", "task_class", "correct"} <= set(df.columns)
    sub = df[df["model"] == "deepseek-v4-flash"]
    res = logs.estimate_group(sub, 0.21, replicates=300)
    ci = res["ci95"]["cost_correct_usd_per_mtok"]
    assert ci["low"] <= res["cost_correct_usd_per_mtok"] <= ci["high"]
    assert 0 < res["accept_rate"] <= 1 and res["reasoning_multiplier"] >= 1
    # CSV and Parquet give the same estimate
    raw = pd.read_json(EXAMPLE, lines=True)
    raw.to_csv(tmp_path / "log.csv", index=False)
    raw.to_parquet(tmp_path / "log.parquet")
    for p in ("log.csv", "log.parquet"):
        other = logs.read_eval_log(tmp_path / p)
        assert logs.point_estimates(logs.task_table(other[other["model"] == "deepseek-v4-flash"])) == \
            logs.point_estimates(logs.task_table(sub))


def test_parquet_without_pyarrow_is_a_clear_input_error(tmp_path, monkeypatch):
    import builtins

    p = tmp_path / "log.parquet"
    p.write_bytes(b"PAR1")
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "pyarrow":
            raise ImportError("no pyarrow")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(InputError, match=r"parquet extra"):
        logs.read_eval_log(p)


@pytest.mark.parametrize("bad,needle", [
    ({"accepted": "maybe"}, "accepted"),
    ({"output_tokens": -1}, "output_tokens"),
    ({"answer_tokens": 10_000}, "answer_tokens"),
])
def test_bad_rows(bad, needle):
    row = {"task_id": "a", "attempt": 1, "input_tokens": 1, "output_tokens": 100, "answer_tokens": 10,
           "accepted": True}
    row.update(bad)
    with pytest.raises(InputError, match=needle):
        logs.validate_eval_log(pd.DataFrame([row]))

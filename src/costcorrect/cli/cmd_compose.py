"""``costcorrect compose ...``: verifier composition (paper 07).

* ``compose identity --alpha1 A --alpha2 B --coupling C [--rule and|or]`` — Theorem 1 / Cor 1.
* ``compose expand --rule majority --m 3`` — Möbius expansion of a monotone rule (Cor 2).
* ``compose sample-size --k1 16 --k2 16 --epsilon 0.05`` — joint budget (§6).
* ``compose theorem2`` — the §4 construction recomputed.
* ``compose run --reports FILE --labels FILE [--rule and|or]`` — data mode.
* ``compose simulate [--quick] [--backend local|ray] --out DIR`` — the §8 sweep (resumable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from costcorrect.cli.common import JsonOpt, _emit_json, _fmt, app, err_console, guarded, out_console
from costcorrect.errors import InputError, check_range

compose_app = typer.Typer(help="Verifier composition: identity, Möbius expansion, joint mechanism (paper 07).",
                          no_args_is_help=True)
app.add_typer(compose_app, name="compose")

RuleOpt = Annotated[str, typer.Option("--rule", help="Composition rule: and or or.")]


def _two_rule(rule: str) -> str:
    if rule not in ("and", "or"):
        raise InputError("rule", rule, "and, or")
    return rule


@compose_app.command("identity")
@guarded
def identity_cmd(
    alpha1: Annotated[float, typer.Option("--alpha1", help="Slot-1 marginal accept rate α1 in [0, 1].")],
    alpha2: Annotated[float, typer.Option("--alpha2", help="Slot-2 marginal accept rate α2 in [0, 1].")],
    coupling: Annotated[float, typer.Option("--coupling", help="Within-instance covariance C = Cov(V1, V2).")],
    rule: RuleOpt = "and",
    json_: JsonOpt = False,
):
    """Pipeline accept rate from α1, α2 and C (AND: α1α2 + C; OR: α1+α2−α1α2−C)."""
    from costcorrect.verification.composition import identity

    r = identity(alpha1, alpha2, coupling, _two_rule(rule))
    if json_:
        _emit_json(r)
        return
    out_console.print(f"{rule.upper()} pipeline accept rate = {r['formula']} = {r['pipeline_accept_rate']:.4f} "
                      f"(independent: {r['independent_accept_rate']:.4f}, drift {r['drift']:+.4f}); "
                      f"feasible C ∈ [{r['coupling_feasible_range'][0]:.4f}, {r['coupling_feasible_range'][1]:.4f}]")


@compose_app.command("expand")
@guarded
def expand_cmd(
    rule: Annotated[str, typer.Option("--rule", help="and, or, majority or k_of_m:K.")] = "majority",
    m: Annotated[int, typer.Option("--m", help="Number of verifiers.")] = 3,
    json_: JsonOpt = False,
):
    """Möbius expansion E[f(V)] = Σ_S c_S·μ_S of a monotone rule over m verifiers (Cor 2)."""
    from costcorrect.verification.composition import expansion_terms, rule_table

    terms = expansion_terms(rule_table(rule, m))
    if json_:
        _emit_json({"rule": rule, "m": m, "terms": terms})
        return
    out_console.print(" ".join(f"{t['coefficient']:+d}·μ{{{','.join(map(str, t['slots']))}}}" for t in terms))


@compose_app.command("sample-size")
@guarded
def sample_size_cmd(
    k1: Annotated[int, typer.Option("--k1", help="Candidates in slot 1.")],
    k2: Annotated[int, typer.Option("--k2", help="Candidates in slot 2.")],
    epsilon: Annotated[float, typer.Option("--epsilon", help="Target gap ε in accept-rate units.")],
    constant: Annotated[float, typer.Option("--constant", help="Regret constant C (paper default 1).")] = 1.0,
    json_: JsonOpt = False,
):
    """Joint-mechanism probes: N = ceil(C²(ln K1 + ln K2)/ε²) (07 §6, Thm 4)."""
    from costcorrect.verification.composition import joint_sample_size

    n = int(joint_sample_size(k1, k2, epsilon, constant))
    r = {"probes": n, "k1": k1, "k2": k2, "epsilon": epsilon, "constant": constant,
         "formula": "ceil(C^2 * (ln K1 + ln K2) / epsilon^2)"}
    if json_:
        _emit_json(r)
        return
    out_console.print(f"N = {constant:g}²·(ln {k1} + ln {k2})/{epsilon:g}² → {n:,} probes")


@compose_app.command("theorem2")
@guarded
def theorem2_cmd(json_: JsonOpt = False):
    """Theorem 2's instance: equal marginals, AND-pipeline 0.40 vs 0.36 (07 §4)."""
    from costcorrect.verification.composition import theorem2_construction

    r = theorem2_construction()
    if json_:
        _emit_json(r)
        return
    t = Table(title="Theorem 2 construction (AND rule)")
    for c in ("candidate", "α1", "α2", "C", "pipeline α", "marginal Brier", "joint Brier (expected)"):
        t.add_column(escape(c), justify="right")
    for k in ("V1", "V1_prime"):
        v = r[k]
        t.add_row(k, f"{v['alpha1']:.2f}", f"{v['alpha2']:.2f}", f"{v['coupling']:+.2f}",
                  f"{v['pipeline_accept_rate']:.2f}",
                  f"{v['marginal_score']:.4f}", f"{v['joint_expected_score']:.4f}")
    out_console.print(t)
    out_console.print(f"Cost-correct gap {r['cost_correct_gap_pct']:.2f} %; per-verifier expected gap "
                      f"{r['expected_gap_pct']:.2f} %")


@compose_app.command("run")
@guarded
def run_cmd(
    reports: Annotated[Path, typer.Option("--reports", help="CSV/Parquet with slot,vendor,item_id,decision.")],
    labels: Annotated[Path, typer.Option("--labels", help="CSV/Parquet with item_id,label (0/1).")],
    rule: Annotated[str, typer.Option("--rule", help="and, or, majority or k_of_m:K.")] = "and",
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for intervals.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    json_: JsonOpt = False,
):
    """Pair table (C with 95 % interval), joint vs per-verifier selection, identifiability (07 §5)."""
    from costcorrect.verification.composition_data import compose_run
    from costcorrect.verification.datamode import load_table

    r = compose_run(load_table(reports, "reports"), load_table(labels, "labels"), rule, n_boot=bootstrap, seed=seed)
    if json_:
        _emit_json(r)
        return
    t = Table(title=f"{rule.upper()} composition on {r['probes']} probes")
    for c in ("vendors", "α per slot", "C [95% CI]", "pipeline α", "agreement", "rank"):
        t.add_column(escape(c), justify="left" if c == "vendors" else "right")
    for row in sorted(r["tuples"], key=lambda x: -x["pipeline_agreement"]):
        ci = row["coupling_interval"]
        cs = "-" if row["coupling"] is None else f"{row['coupling']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]"
        t.add_row(escape(" ∘ ".join(row["vendors"])), " ".join(f"{a:.3f}" for a in row["alphas"]), cs,
                  f"{row['pipeline_accept_rate']:.3f}", f"{row['pipeline_agreement']:.3f}", str(row["rank"]))
    out_console.print(t)
    if r["joint_selected"] is None:
        out_console.print(escape(r["joint_refusal"]))
    else:
        out_console.print(escape(f"joint mechanism selects {' ∘ '.join(r['joint_selected'])}"))
    out_console.print(escape(f"per-verifier mechanism selects {' ∘ '.join(r['per_verifier_selected'])}"))


@compose_app.command("simulate")
@guarded
def simulate_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for results (parts, summary.csv, findings.json).")],
    quick: Annotated[bool, typer.Option("--quick", help="K ∈ {4, 8}, N ≤ 1024, C̄ ∈ {0, 0.2}, 20 seeds.")] = False,
    backend: Annotated[str, typer.Option("--backend", help="local (process pool) or ray.")] = "local",
    seeds: Annotated[int | None, typer.Option("--seeds", help="Seeds per cell (default 200, quick 20).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Local processes (default: all cores).")] = None,
    json_: JsonOpt = False,
):
    """The §8 sweep: K1 × K2 × C̄ × N × {per-verifier, joint} × strategies × known/unknown C̄ × seeds."""
    import sys
    import time

    from costcorrect.io import atomic_write_bytes, atomic_write_text, dumps
    from costcorrect.verification import composition_sim as cs
    from costcorrect.verification.runner import parquet_available

    if backend not in ("local", "ray"):
        raise InputError("backend", backend, "local or ray")
    n_seeds = seeds if seeds is not None else (20 if quick else 200)
    check_range("seeds", n_seeds, 1, 100_000)
    if workers is not None:
        check_range("workers", workers, 1, 1024)
    cfg = cs.QUICK if quick else cs.CompSimConfig()
    t0 = time.perf_counter()
    df = cs.run_sweep(cfg, seeds=n_seeds, backend=backend, workers=workers, out_dir=out,
                      progress=sys.stderr.isatty())
    wall_s = time.perf_counter() - t0
    summary = cs.summarize(df)
    f = cs.findings(df)
    if parquet_available():
        import io

        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        atomic_write_bytes(out / "results.parquet", buf.getvalue())
    else:
        atomic_write_text(out / "results.csv", df.to_csv(index=False))
    atomic_write_text(out / "summary.csv", summary.to_csv(index=False))
    result = {"findings": f, "paper": cs.PAPER_FINDINGS, "seeds": n_seeds, "backend": backend,
              "wall_s": wall_s, "cells": len(summary), "quick": quick, "out": str(out)}
    atomic_write_text(out / "findings.json", dumps(result))
    if json_:
        _emit_json(result)
        return
    t = Table(title=f"Paper 07 §8 analogue, K1 = K2 = {f['K']}, {f['strategy']} probes, {n_seeds} seeds "
                    f"— ours (paper)")
    t.add_column("finding")
    t.add_column("ours", justify="right")
    t.add_column("paper", justify="right")
    t.add_row("1. identity R² (observed vs α1α2 + C)", f"{f['identity']['r2']:.4f}", "0.981–0.997")
    t.add_row("2. per-verifier N to 5 % target, |C̄| ≥ 0.1",
              ", ".join(f"{c:+g}: {_fmt(n, 'd') if n else 'never'}" for c, n in f["per_verifier_n_to_target"].items()),
              "never")
    t.add_row("2. per-verifier N to 5 % target, C̄ = 0", _fmt(f["per_verifier_n_at_cbar0"], "d"), "256")
    t.add_row("3. joint, C̄ unknown: N to 5 % target", _fmt(f["joint_unknown_n"], "d"), "512 (HumanEval 1024)")
    t.add_row("4. joint, C̄ known: N to 5 % target", _fmt(f["joint_known_n"], "d"), "256 (HumanEval 384)")
    t.add_row("unknown / known budget", _fmt(f["unknown_over_known"], ".2f"), "≈ 2")
    out_console.print(t)
    err_console.print(f"wrote {out}/ ({wall_s:.1f} s)")


@compose_app.command("humaneval")
@guarded
def humaneval_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for verdicts.csv (cache), reports.csv, labels.csv, "
                                                    "result.json.")],
    problems: Annotated[int | None, typer.Option("--problems", help="First N HumanEval problems (default all 164).")]
    = None,
    mutants: Annotated[int, typer.Option("--mutants", help="AST mutants per canonical solution.")] = 4,
    rule: Annotated[str, typer.Option("--rule", help="and or or.")] = "and",
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for intervals.")] = 1000,
    workers: Annotated[int | None, typer.Option("--workers", help="Sandbox processes at once (default: cores).")]
    = None,
    timeout_s: Annotated[float, typer.Option("--timeout-s", help="Sandbox wall-clock limit per check [s].")] = 5.0,
    seed: Annotated[int, typer.Option("--seed", help="Mutant / assert-subset / bootstrap seed.")] = 0,
    json_: JsonOpt = False,
):
    """Real pipelines (07, issue 9 item 6): partial-test runners AND static checkers on HumanEval programs."""
    import time

    from costcorrect.verification.composition_real import run_real

    check_range("bootstrap", bootstrap, 10, 100_000)
    if workers is not None:
        check_range("workers", workers, 1, 1024)
    t0 = time.perf_counter()
    r = run_real(out, problems, mutants, rule=_two_rule(rule), n_boot=bootstrap, seed=seed, timeout_s=timeout_s,
                 workers=workers)
    r["wall_s"] = time.perf_counter() - t0
    if json_:
        _emit_json(r)
        return
    t = Table(title=f"{rule.upper()}: partial tests ∘ static checker on {r['candidates']} HumanEval programs "
                    f"({r['passing']} pass all tests, {r['problems']} problems)")
    for c in ("pair", "α1 α2", "C [95% CI]", "C | pass", "C | fail", "pipeline α", "agreement", "TA", "FA"):
        t.add_column(escape(c), justify="left" if c == "pair" else "right")

    def _c(d):
        return "-" if d is None or d.get("coupling") is None else f"{d['coupling']:+.4f}"

    for row in sorted(r["tuples"], key=lambda x: -x["pipeline_agreement"]):
        ci = row["coupling_interval"]
        cs = "-" if row["coupling"] is None else f"{row['coupling']:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}]"
        g = row["coupling_given_label"]
        t.add_row(escape(" ∘ ".join(row["vendors"])), " ".join(f"{a:.3f}" for a in row["alphas"]), cs, _c(g["1"]),
                  _c(g["0"]), f"{row['pipeline_accept_rate']:.3f}", f"{row['pipeline_agreement']:.4f}",
                  _fmt(row["true_accept_rate"], ".3f"), _fmt(row["false_accept_rate"], ".3f"))
    out_console.print(t)
    if r["joint_selected"] is None:
        out_console.print(escape(r["joint_refusal"]))
    else:
        out_console.print(escape(f"joint mechanism selects {' ∘ '.join(r['joint_selected'])}"))
    out_console.print(escape(f"per-verifier mechanism selects {' ∘ '.join(r['per_verifier_selected'])} "
                             f"(agreement gap {r['agreement_gap']:+.4f}: "
                             f"{'worse pair' if r['per_verifier_worse'] else 'no worse pair on these data'})"))
    err_console.print(f"wrote {out}/ ({r['wall_s']:.1f} s)")

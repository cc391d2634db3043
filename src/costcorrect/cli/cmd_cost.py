"""Cost per correct answer commands (papers 02, 03, 04, 08; notes 10, 11, 13).

``cost-correct``, ``elasticities``, ``verifier-budget``, ``tornado``, ``threshold``, ``prices``,
``harvest``, ``energy``, ``curriculum``. Parse → call :mod:`costcorrect.allocation` → render.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from costcorrect.allocation import cost_correct as cc
from costcorrect.cli.common import JsonOpt, _emit_json, app, err_console, guarded, out_console
from costcorrect.errors import InputError, check_range

# ----------------------------------------------------------------------------- shared options
PriceInOpt = Annotated[float | None, typer.Option("--price-in-usd-per-mtok", help="Input price p_in [$/MTok].")]
PriceOutOpt = Annotated[float | None, typer.Option("--price-out-usd-per-mtok", help="Output price p_out [$/MTok].")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model id in the price catalog (see `prices`).")]
PricesFileOpt = Annotated[Path | None, typer.Option("--prices", help="YAML file adding/overriding model prices.")]
CpmServedOpt = Annotated[float | None, typer.Option(
    "--cpm-served-usd-per-mtok", help="Self-hosted: CPM_served [$/MTok output] instead of an API price.")]
GpuOpt = Annotated[str | None, typer.Option("--gpu", help="Self-hosted: catalog GPU id (with --num-gpus and "
                                                         "--goodput-tokens-per-s).")]
NumGpusOpt = Annotated[int | None, typer.Option("--num-gpus", help="Self-hosted: GPUs sustaining the goodput [-].")]
GoodputOpt = Annotated[float | None, typer.Option(
    "--goodput-tokens-per-s", help="Self-hosted: SLO-compliant output tokens per second [tok/s].")]
GpuPriceOpt = Annotated[float | None, typer.Option(
    "--price-usd-per-gpu-hour", help="Self-hosted: price per GPU-hour [$/h]; default: catalog default.")]
ScenarioCpmOpt = Annotated[Path | None, typer.Option(
    "--scenario", help="Self-hosted: take CPM_served of --system from this scenario's serving frontier.")]
SystemOpt = Annotated[str | None, typer.Option("--system", help="Self-hosted: serving system id (with --scenario).")]
EnergyOpt = Annotated[float | None, typer.Option(
    "--energy-usd-per-mtok", help="Operator energy term added to a self-hosted CPM [$/MTok] (see `energy`).")]
ROpt = Annotated[float | None, typer.Option("--reasoning-multiplier", help="R: billed output / answer tokens [-].")]
RhoOpt = Annotated[float | None, typer.Option("--rollout-ratio", help="ρ̄: extra attempts per task (N-1) [-].")]
AlphaOpt = Annotated[float | None, typer.Option("--accept-rate", help="α: verifier accept rate in (0, 1] [-].")]


def _check_levers(r, rho, alpha) -> None:
    check_range("reasoning_multiplier", r, 1, None)
    check_range("rollout_ratio", rho, 0, None)
    check_range("accept_rate", alpha, 0, 1, lo_open=True)


def _resolve_cpm(price_in, price_out, model, prices_file, cpm_served, gpu, num_gpus, goodput, gpu_price,
                 scenario, system, energy) -> dict:
    """The price C is built on: API blend (explicit or catalog) or self-hosted CPM_served."""
    self_hosted = [x is not None for x in (cpm_served, gpu, scenario)]
    api = price_in is not None or price_out is not None or model is not None
    if sum(self_hosted) + api > 1:
        raise InputError("price", "several price sources",
                         "one of: --price-in/--price-out, --model, --cpm-served-usd-per-mtok, --gpu, --scenario")
    out: dict = {"cpm_1to1_usd_per_mtok": None, "price_in_usd_per_mtok": None, "price_out_usd_per_mtok": None}
    if price_in is not None or price_out is not None:
        if price_in is None or price_out is None:
            raise InputError("price", "one of in/out", "both --price-in-usd-per-mtok and --price-out-usd-per-mtok")
        check_range("price_in_usd_per_mtok", price_in, 0, None)
        check_range("price_out_usd_per_mtok", price_out, 0, None)
        out.update(price_in_usd_per_mtok=price_in, price_out_usd_per_mtok=price_out, cpm_source="api price")
    elif model is not None:
        from costcorrect.allocation.prices import load_model_prices, model_price

        row = model_price(load_model_prices(prices_file), model)
        out.update(price_in_usd_per_mtok=row["price_in_usd_per_mtok"],
                   price_out_usd_per_mtok=row["price_out_usd_per_mtok"], model=model,
                   cpm_source=f"catalog {model} ({row['as_of']})", price_source=row["source"])
    elif cpm_served is not None:
        check_range("cpm_served_usd_per_mtok", cpm_served, 0, None, lo_open=True)
        out.update(cpm_served_usd_per_mtok=cpm_served, cpm_source="self-hosted (given)")
    elif gpu is not None:
        from costcorrect.catalog import Catalog, price_label
        from costcorrect.serving.decomposition import cpm_served_usd_per_mtok

        if num_gpus is None or goodput is None:
            raise InputError("gpu", gpu, "--gpu with --num-gpus and --goodput-tokens-per-s")
        check_range("num_gpus", num_gpus, 1, None)
        check_range("goodput_tokens_per_s", goodput, 0, None, lo_open=True)
        cat = Catalog.load()
        if gpu_price is None:
            row = cat.default_price(gpu)
            gpu_price, src = float(row["usd_per_gpu_hour"]), price_label(row)
        else:
            check_range("price_usd_per_gpu_hour", gpu_price, 0, None, lo_open=True)
            cat.gpu(gpu)
            src = "user"
        out.update(cpm_served_usd_per_mtok=float(cpm_served_usd_per_mtok(gpu_price, num_gpus, goodput)),
                   cpm_source=f"self-hosted {num_gpus}x {gpu} at ${gpu_price:.3f}/GPU-h ({src})")
    elif scenario is not None:
        from costcorrect.catalog import Catalog
        from costcorrect.scenario import load_scenario
        from costcorrect.serving.frontier import frontier_points

        sc = load_scenario(scenario)
        if system is None:
            raise InputError("system", None, "one of " + ", ".join(sc.systems))
        if system not in sc.systems:
            raise InputError("system", system, "one of " + ", ".join(sc.systems))
        cat = Catalog.load(sc.catalog_overlay)
        point = next(p for p in frontier_points(cat, sc) if p["system"] == system)
        if point["cpm_served_usd_per_mtok"] is None:
            raise InputError("system", system, f"a system feasible under the scenario's SLO ({sc.name})")
        out.update(cpm_served_usd_per_mtok=point["cpm_served_usd_per_mtok"],
                   cpm_source=f"self-hosted {system} on {sc.name} serving frontier ({sc.token_convention} tokens)")
    if out["price_in_usd_per_mtok"] is not None:
        out["cpm_1to1_usd_per_mtok"] = float(cc.cpm_1to1_usd_per_mtok(out["price_in_usd_per_mtok"],
                                                                       out["price_out_usd_per_mtok"]))
        out["cpm_usd_per_mtok"] = out["cpm_1to1_usd_per_mtok"]
    elif "cpm_served_usd_per_mtok" in out:
        out["cpm_usd_per_mtok"] = out["cpm_served_usd_per_mtok"]
    elif not any(self_hosted) and not api:
        out["cpm_usd_per_mtok"] = None
    if energy is not None:
        check_range("energy_usd_per_mtok", energy, 0, None)
        if "cpm_served_usd_per_mtok" not in out:
            raise InputError("energy_usd_per_mtok", energy,
                             "only with a self-hosted CPM (API prices already include energy)")
        out["energy_usd_per_mtok"] = energy
        out["cpm_usd_per_mtok"] = out["cpm_usd_per_mtok"] + energy
    return out


def _require_cpm(price: dict) -> float:
    if price.get("cpm_usd_per_mtok") is None:
        raise InputError("price", None, "--price-in/--price-out-usd-per-mtok, --model, or a self-hosted CPM")
    return float(price["cpm_usd_per_mtok"])


# ----------------------------------------------------------------------------- cost-correct
@app.command("cost-correct")
@guarded
def cost_correct_cmd(
    price_in_usd_per_mtok: PriceInOpt = None,
    price_out_usd_per_mtok: PriceOutOpt = None,
    reasoning_multiplier: ROpt = None,
    rollout_ratio: RhoOpt = None,
    accept_rate: AlphaOpt = None,
    answer_tokens: Annotated[float | None, typer.Option(
        "--answer-tokens", help="Final-answer length [tokens]; adds cost_per_correct_answer_usd.")] = None,
    from_log: Annotated[Path | None, typer.Option(
        "--from-log", help="Eval log (.jsonl/.csv/.parquet): estimate R, ρ̄, α with 95% task-bootstrap CIs.")] = None,
    model: ModelOpt = None,
    prices: PricesFileOpt = None,
    cpm_served_usd_per_mtok: CpmServedOpt = None,
    gpu: GpuOpt = None,
    num_gpus: NumGpusOpt = None,
    goodput_tokens_per_s: GoodputOpt = None,
    price_usd_per_gpu_hour: GpuPriceOpt = None,
    scenario: ScenarioCpmOpt = None,
    system: SystemOpt = None,
    energy_usd_per_mtok: EnergyOpt = None,
    log_model: Annotated[str | None, typer.Option("--log-model", help="Only rows of this `model` in the log.")] = None,
    replicates: Annotated[int, typer.Option("--replicates", help="Bootstrap replicates.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    k: Annotated[int | None, typer.Option("--k", help="Also report unbiased pass@k (log mode).")] = None,
    json_: JsonOpt = False,
):
    """Cost per correct answer C = CPM_1:1 · R · (1+ρ̄) / α [$ per million accepted answer tokens] (02 §4)."""
    price = _resolve_cpm(price_in_usd_per_mtok, price_out_usd_per_mtok, model, prices, cpm_served_usd_per_mtok,
                         gpu, num_gpus, goodput_tokens_per_s, price_usd_per_gpu_hour, scenario, system,
                         energy_usd_per_mtok)
    if answer_tokens is not None:
        check_range("answer_tokens", answer_tokens, 0, None, lo_open=True)
    if from_log is not None:
        result = _from_log(from_log, price, prices, log_model, replicates, seed, k, answer_tokens)
    else:
        if None in (reasoning_multiplier, rollout_ratio, accept_rate):
            raise InputError("levers", None, "--reasoning-multiplier, --rollout-ratio and --accept-rate, or --from-log")
        _check_levers(reasoning_multiplier, rollout_ratio, accept_rate)
        cpm = _require_cpm(price)
        c = float(cc.cost_correct_usd_per_mtok(cpm, reasoning_multiplier, rollout_ratio, accept_rate))
        result = {**price, "reasoning_multiplier": reasoning_multiplier, "rollout_ratio": rollout_ratio,
                  "accept_rate": accept_rate, "cost_correct_usd_per_mtok": c,
                  "vcpd_cost_usd_per_mtok": float(cc.vcpd_usd_per_mtok(cpm))}
        if answer_tokens is not None:
            result["answer_tokens"] = answer_tokens
            result["cost_per_correct_answer_usd"] = float(cc.cost_per_correct_answer_usd(c, answer_tokens))
    if json_:
        _emit_json(result)
        return
    _print_cost(result)


def _from_log(path, price, prices_file, log_model, replicates, seed, k, answer_tokens) -> dict:
    from costcorrect.allocation import logs

    check_range("replicates", replicates, 100, 1_000_000)
    if k is not None:
        check_range("k", k, 1, None)
    df = logs.read_eval_log(path)
    if log_model is not None:
        if log_model not in set(df["model"]):
            raise InputError("log_model", log_model, "one of " + ", ".join(sorted(set(df["model"]))))
        df = df[df["model"] == log_model]
    models = sorted(set(df["model"]))
    explicit = price.get("cpm_usd_per_mtok") is not None

    def price_for(model_id: str) -> dict:
        if explicit:
            return price
        from costcorrect.allocation.prices import load_model_prices, model_price

        row = model_price(load_model_prices(prices_file), model_id)
        return {**price, "price_in_usd_per_mtok": row["price_in_usd_per_mtok"],
                "price_out_usd_per_mtok": row["price_out_usd_per_mtok"],
                "cpm_1to1_usd_per_mtok": float(row["cpm_1to1_usd_per_mtok"]),
                "cpm_usd_per_mtok": float(row["cpm_1to1_usd_per_mtok"]),
                "model": model_id, "cpm_source": f"catalog {model_id} ({row['as_of']})"}

    if len(models) > 1 and not explicit:
        raise InputError("log models", models, "one model per run without an explicit price: pass --log-model, "
                                               "or give --price-in/--price-out-usd-per-mtok")
    top_price = price_for(models[0])

    def estimate(rows, p):
        return logs.estimate_group(rows, p["cpm_usd_per_mtok"], price_in_usd_per_mtok=p["price_in_usd_per_mtok"],
                                   price_out_usd_per_mtok=p["price_out_usd_per_mtok"], replicates=replicates,
                                   seed=seed, k=k)

    result = {**top_price, "log": str(path), "models": models, **estimate(df, top_price)}
    groups = []
    for (m, tc), rows in df.groupby(["model", "task_class"], sort=True):
        try:
            g = estimate(rows, price_for(m))
        except InputError as exc:
            if "infinite" not in str(exc):
                raise
            g = {"cost_correct_usd_per_mtok": None, "note": "no accepted answers: cost per correct answer is infinite",
                 "tasks": int(rows["task_id"].nunique()), "attempts": len(rows)}
        groups.append({"model": m, "task_class": tc, **g})
    result["groups"] = groups
    if answer_tokens is not None:
        result["answer_tokens"] = answer_tokens
        result["cost_per_correct_answer_usd"] = float(
            cc.cost_per_correct_answer_usd(result["cost_correct_usd_per_mtok"], answer_tokens))
        ci = result["ci95"]["cost_correct_usd_per_mtok"]
        result["ci95"]["cost_per_correct_answer_usd"] = {
            "low": ci["low"] * answer_tokens / 1e6, "high": ci["high"] * answer_tokens / 1e6,
            "unbounded": ci["unbounded"]}
    return result


def _ci(result: dict, key: str, spec: str) -> str:
    ci = result.get("ci95", {}).get(key)
    if not ci:
        return ""
    hi = "unbounded" if ci["unbounded"] else format(ci["high"], spec)
    return f"  [95% CI {format(ci['low'], spec)} – {hi}]"


def _print_cost(r: dict) -> None:
    out_console.print(f"price: {escape(str(r.get('cpm_source', '')))}; CPM = ${r['cpm_usd_per_mtok']:.4g}/MTok")
    out_console.print(f"R = {r['reasoning_multiplier']:.4g}{_ci(r, 'reasoning_multiplier', '.4g')}")
    out_console.print(f"ρ̄ = {r['rollout_ratio']:.4g}{_ci(r, 'rollout_ratio', '.4g')}")
    out_console.print(f"α = {r['accept_rate']:.4g}{_ci(r, 'accept_rate', '.4g')}")
    out_console.print(f"Cost-correct C = ${r['cost_correct_usd_per_mtok']:.4g} per million accepted answer tokens"
                      f"{_ci(r, 'cost_correct_usd_per_mtok', '.4g')}")
    if r.get("cost_per_correct_answer_usd") is not None:
        out_console.print(f"cost per correct answer = ${r['cost_per_correct_answer_usd']:.4g}"
                          f"{_ci(r, 'cost_per_correct_answer_usd', '.4g')}")
    if r.get("billed_cost_per_correct_answer_usd") is not None:
        out_console.print(f"billed (p_in·input + p_out·output) per accepted task = "
                          f"${r['billed_cost_per_correct_answer_usd']:.4g}")
    if r.get("groups"):
        t = Table("model", "task class", "tasks", "R", "ρ̄", "α", escape("C [$/MTok]"))
        for g in r["groups"]:
            c = g.get("cost_correct_usd_per_mtok")
            t.add_row(g["model"], g["task_class"], str(g["tasks"]),
                      *(f"{g[k]:.3g}" if g.get(k) is not None else "—"
                        for k in ("reasoning_multiplier", "rollout_ratio", "accept_rate")),
                      f"{c:.4g}" if c is not None else "infinite")
        out_console.print(t)


# ----------------------------------------------------------------------------- elasticities
@app.command("elasticities")
@guarded
def elasticities_cmd(
    price_in_usd_per_mtok: PriceInOpt = None,
    price_out_usd_per_mtok: PriceOutOpt = None,
    reasoning_multiplier: ROpt = None,
    rollout_ratio: RhoOpt = None,
    accept_rate: AlphaOpt = None,
    model: ModelOpt = None,
    prices: PricesFileOpt = None,
    cpm_served_usd_per_mtok: CpmServedOpt = None,
    json_: JsonOpt = False,
):
    """Elasticities of C: ε_p = ε_R = 1, ε_ρ̄ = ρ̄/(1+ρ̄), ε_α = −1; partials and the α-point reading (03 §2)."""
    if None in (reasoning_multiplier, rollout_ratio, accept_rate):
        raise InputError("levers", None, "--reasoning-multiplier, --rollout-ratio and --accept-rate")
    _check_levers(reasoning_multiplier, rollout_ratio, accept_rate)
    price = _resolve_cpm(price_in_usd_per_mtok, price_out_usd_per_mtok, model, prices, cpm_served_usd_per_mtok,
                         None, None, None, None, None, None, None)
    e = {k: float(v) for k, v in cc.cost_elasticities(rollout_ratio).items()}
    result = dict(e)
    if price.get("cpm_usd_per_mtok") is not None:
        cpm = price["cpm_usd_per_mtok"]
        result["partials"] = {k: float(v) for k, v in
                              cc.cost_correct_partials(cpm, reasoning_multiplier, rollout_ratio, accept_rate).items()}
        result["cost_correct_usd_per_mtok"] = float(
            cc.cost_correct_usd_per_mtok(cpm, reasoning_multiplier, rollout_ratio, accept_rate))
        result["cpm_usd_per_mtok"] = cpm
    result["alpha_point_share_of_c"] = float(cc.additive_change_share(accept_rate, 0.01))
    result["alpha_point_vs_cpm_percent"] = float(cc.alpha_point_vs_cpm_point(accept_rate))
    if json_:
        _emit_json(result)
        return
    t = Table("lever", "elasticity ∂log C/∂log x")
    for k, label in (("p", "CPM p"), ("R", "R"), ("rho", "ρ̄"), ("alpha", "α")):
        t.add_row(label, f"{e[k]:+.4g}")
    out_console.print(t)
    out_console.print(f"one α point (+0.01 at α={accept_rate:g}) removes {result['alpha_point_share_of_c']:.2%} "
                      f"of C = {result['alpha_point_vs_cpm_percent']:.2f}x a 1% CPM cut")


# ----------------------------------------------------------------------------- verifier-budget
@app.command("verifier-budget")
@guarded
def verifier_budget_cmd(
    accept_rate: Annotated[float, typer.Option("--accept-rate", help="α without the verifier [-].")],
    accept_rate_with_verifier: Annotated[float, typer.Option("--accept-rate-with-verifier",
                                                             help="α with the verifier [-].")],
    rollout_ratio: Annotated[float, typer.Option("--rollout-ratio", help="ρ̄ without the verifier [-].")] = 0.0,
    rollout_ratio_with_verifier: Annotated[float, typer.Option(
        "--rollout-ratio-with-verifier", help="ρ̄ with the verifier [-].")] = 0.0,
    json_: JsonOpt = False,
):
    """Largest verifier cost, in generator passes per attempt, that still lowers C (03 §4 corollary)."""
    check_range("accept_rate", accept_rate, 0, 1, lo_open=True)
    check_range("accept_rate_with_verifier", accept_rate_with_verifier, 0, 1, lo_open=True)
    check_range("rollout_ratio", rollout_ratio, 0, None)
    check_range("rollout_ratio_with_verifier", rollout_ratio_with_verifier, 0, None)
    k = float(cc.max_verifier_cost_ratio(accept_rate, accept_rate_with_verifier, rollout_ratio,
                                         rollout_ratio_with_verifier))
    result = {"max_verifier_cost_ratio": k, "verifier_can_pay": k > 0,
              "cost_ratio_with_free_verifier": float((1 + rollout_ratio_with_verifier) * accept_rate
                                                     / ((1 + rollout_ratio) * accept_rate_with_verifier))}
    if json_:
        _emit_json(result)
        return
    if k > 0:
        out_console.print(f"a verifier lowers C if it costs less than {k:.3g} generator passes per attempt")
    else:
        out_console.print("no verifier, however cheap, lowers C at these accept rates and rollouts "
                          f"(C ratio with a free verifier = {result['cost_ratio_with_free_verifier']:.3g})")


# ----------------------------------------------------------------------------- tornado
@app.command("tornado")
@guarded
def tornado_cmd(
    cpm_usd_per_mtok: Annotated[float, typer.Option("--cpm-usd-per-mtok", help="Base CPM [$/MTok].")],
    reasoning_multiplier: Annotated[float, typer.Option("--reasoning-multiplier", help="Base R [-].")],
    rollout_ratio: Annotated[float, typer.Option("--rollout-ratio", help="Base ρ̄ [-].")],
    accept_rate: Annotated[float, typer.Option("--accept-rate", help="Base α [-].")],
    range_: Annotated[list[str], typer.Option(
        "--range", help="lever=low,high; levers: cpm, R, rho, alpha (repeatable).")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the chart to OUT.png and OUT.svg.")] = None,
    json_: JsonOpt = False,
):
    """C's swing as each lever moves over a user range, others at base (03 §2); optional chart."""
    check_range("cpm_usd_per_mtok", cpm_usd_per_mtok, 0, None)
    _check_levers(reasoning_multiplier, rollout_ratio, accept_rate)
    names = {"cpm": "cpm_1to1_usd_per_mtok", "R": "reasoning_multiplier", "rho": "rollout_ratio",
             "alpha": "accept_rate"}
    ranges = {}
    for spec in range_:
        lever, _, vals = spec.partition("=")
        if lever not in names:
            raise InputError("range", spec, "lever=low,high with lever one of cpm, R, rho, alpha")
        try:
            lo, hi = (float(v) for v in vals.split(","))
        except ValueError:
            raise InputError("range", spec, "lever=low,high with two numbers") from None
        {"cpm": lambda v: check_range("range cpm", v, 0, None),
         "R": lambda v: check_range("range R", v, 1, None),
         "rho": lambda v: check_range("range rho", v, 0, None),
         "alpha": lambda v: check_range("range alpha", v, 0, 1, lo_open=True)}[lever]([lo, hi])
        ranges[names[lever]] = (lo, hi)
    base = {"cpm_1to1_usd_per_mtok": cpm_usd_per_mtok, "reasoning_multiplier": reasoning_multiplier,
            "rollout_ratio": rollout_ratio, "accept_rate": accept_rate}
    rows = cc.tornado_rows(base, ranges)
    written = []
    if out is not None:
        from costcorrect.allocation.charts import tornado_chart
        from costcorrect.charts import save_chart

        written = [str(p) for p in save_chart(tornado_chart(rows), out)]
    if json_:
        _emit_json({"rows": rows, "figures": written})
        return
    t = Table("lever", "range", escape("C low [$/MTok]"), escape("C high [$/MTok]"), escape("swing [$/MTok]"))
    for r in rows:
        t.add_row(r["lever"], f"{r['low']:g} – {r['high']:g}", f"{r['cost_low_usd_per_mtok']:.4g}",
                  f"{r['cost_high_usd_per_mtok']:.4g}", f"{r['swing_usd_per_mtok']:.4g}")
    out_console.print(t)
    for p in written:
        err_console.print(f"wrote {p}")


# ----------------------------------------------------------------------------- threshold
@app.command("threshold")
@guarded
def threshold_cmd(
    eta_rho: Annotated[float | None, typer.Option("--eta-rho", help="η_ρ, elasticity of α in rollouts [-].")] = None,
    eta_t: Annotated[float | None, typer.Option("--eta-t", help="η_T > 0, elasticity of α in training [-].")] = None,
    rho: Annotated[float | None, typer.Option("--rho", help="Rollouts per query ρ (paper 04 convention) [-].")] = None,
    t_cost_usd: Annotated[float | None, typer.Option(
        "--t-cost-usd", help="T·c_T: training dollars at the operating point, per query [$].")] = None,
    i_cost_usd: Annotated[float | None, typer.Option(
        "--i-cost-usd", help="ρ·c_I: rollout dollars per query [$].")] = None,
    case: Annotated[str | None, typer.Option("--case", help="Shipped calibration: rstar-math or deepseek-r1.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the (T, ρ) plane chart to OUT.png/.svg.")] = None,
    json_: JsonOpt = False,
):
    """Should the next dollar go to training or to rollouts? The threshold of 04 (A.1) and (7)."""
    from costcorrect.allocation import threshold as th

    if eta_t is not None:
        check_range("eta_t", eta_t, 0, None, lo_open=True)
    for name, v in (("t_cost_usd", t_cost_usd), ("i_cost_usd", i_cost_usd)):
        if v is not None:
            check_range(name, v, 0, None, lo_open=True)
    if rho is not None:
        check_range("rho", rho, 0, None, lo_open=True)
    if eta_rho is not None:
        check_range("eta_rho", eta_rho, None, None)
    if case is not None:
        if case not in th.CASES:
            raise InputError("case", case, f"one of {', '.join(th.CASES)}")
        result = th.run_case(case, eta_t=eta_t, eta_rho=eta_rho, t_cost_usd=t_cost_usd or 1.0,
                             i_cost_usd=i_cost_usd or 1.0)
    else:
        missing = [n for n, v in (("--eta-rho", eta_rho), ("--eta-t", eta_t), ("--rho", rho),
                                  ("--t-cost-usd", t_cost_usd), ("--i-cost-usd", i_cost_usd)) if v is None]
        if missing:
            raise InputError("threshold", ", ".join(missing), "all of --eta-rho --eta-t --rho --t-cost-usd "
                                                              "--i-cost-usd, or --case")
        result = th.threshold(eta_rho, eta_t, rho, t_cost_usd, i_cost_usd)
        result.update({"eta_rho": eta_rho, "eta_t": eta_t, "rho": rho, "t_cost_usd": t_cost_usd,
                       "i_cost_usd": i_cost_usd})
    written = []
    if out is not None:
        import numpy as np

        from costcorrect.allocation.charts import threshold_plane_chart
        from costcorrect.charts import save_chart

        r0 = float(result["rho"])
        et = float(result.get("eta_t") or result.get("eta_t_bracket", [1.0])[0])
        c_i = (i_cost_usd or 1.0) / r0
        t0 = t_cost_usd or 1.0  # T in units of the operating point's T (T = 1 there), so c_T = t_cost
        plane = th.threshold_plane(np.geomspace(0.01, 100, 60), np.geomspace(1, max(r0 * 4, 16), 40),
                                   float(result["eta_rho"]), et, t0, c_i)
        written = [str(p) for p in save_chart(threshold_plane_chart(plane), out)]
        result["figures"] = written
    if json_:
        _emit_json(result)
        return
    side = "INFERENCE (more rollouts)" if result["inference_dominates"] else "TRAINING"
    out_console.print(f"next dollar → {side}: (η_ρ − ρ/(1+ρ))/η_T = {result['lhs']:.4g} vs "
                      f"ρc_I/(Tc_T) = {result['rhs']:.4g} (04 A.1)")
    out_console.print(f"ρ ≫ 1 form (7): (η_ρ − 1)/η_T = {result['lhs_rho_gg_1']:.4g} → "
                      f"{'inference' if result['inference_dominates_rho_gg_1'] else 'training'}")
    if result.get("robust"):
        out_console.print("η_ρ ≤ ρ/(1+ρ): no η_T > 0 and no prices make more rollouts pay at this point")
    if "eta_t_bracket" in result:
        lo, hi = result["eta_t_bracket"]
        out_console.print(f"η_T bracket {lo:.3g} – {hi:.3g}; η_ρ needed {min(result['eta_rho_needed']):.3g} – "
                          f"{max(result['eta_rho_needed']):.3g}")
    for p in written:
        err_console.print(f"wrote {p}")


# ----------------------------------------------------------------------------- prices
@app.command("prices")
@guarded
def prices_cmd(
    prices: PricesFileOpt = None,
    json_: JsonOpt = False,
):
    """Dated per-model API prices [$/MTok] with sources (02 §7, 08 Table 1); add rows with --prices."""
    from costcorrect.allocation.prices import load_model_prices

    df = load_model_prices(prices)
    cols = ["id", "provider", "price_in_usd_per_mtok", "price_out_usd_per_mtok", "cpm_1to1_usd_per_mtok",
            "as_of", "source"]
    if json_:
        _emit_json({"model_prices": df[[*cols, "note"]].to_dict(orient="records")})
        return
    t = Table("id", "provider", escape("in [$/MTok]"), escape("out [$/MTok]"), escape("CPM_1:1 [$/MTok]"),
              "as_of", "source")
    for _, r in df.iterrows():
        t.add_row(r["id"], r["provider"], f"{r['price_in_usd_per_mtok']:g}", f"{r['price_out_usd_per_mtok']:g}",
                  f"{r['cpm_1to1_usd_per_mtok']:.4g}", str(r["as_of"]), escape(str(r["source"])[:60]))
    out_console.print(t)


# ----------------------------------------------------------------------------- harvest
@app.command("harvest")
@guarded
def harvest_cmd(
    dedicated_usd_per_mtok: Annotated[float, typer.Option(
        "--dedicated-usd-per-mtok", help="Rollout price on the dedicated cluster [$/MTok].")],
    serving_cpm_usd_per_mtok: Annotated[float, typer.Option(
        "--serving-cpm-usd-per-mtok", help="CPM_served of the serving fleet lending slack [$/MTok].")],
    overhead_share: Annotated[float, typer.Option(
        "--overhead-share", help="Cooperative-elasticity overhead as a share of serving cost, in [0, 1].")],
    burst_probability: Annotated[float, typer.Option(
        "--burst-probability", help="P(correlated serving+training burst) per harvested MTok, in (0, 1].")],
    breach_cost_usd_per_mtok: Annotated[float, typer.Option(
        "--breach-cost-usd-per-mtok", help="Cost of an SLO breach when the burst hits [$/MTok] (> 0).")],
    harvest_share: Annotated[float, typer.Option("--harvest-share", help="Share of rollouts on slack.")] = 1.0,
    eta_t: Annotated[float | None, typer.Option("--eta-t", help="Three-channel threshold: η_T > 0.")] = None,
    eta_rho: Annotated[float | None, typer.Option("--eta-rho", help="Three-channel threshold: η_ρ.")] = None,
    rho: Annotated[float | None, typer.Option("--rho", help="Three-channel threshold: rollouts per query.")] = None,
    t_cost_usd: Annotated[float | None, typer.Option("--t-cost-usd", help="T·c_T per query [$].")] = None,
    base_cost_usd: Annotated[float | None, typer.Option("--base-cost-usd", help="Base pass per query [$].")] = None,
    rollout_tokens: Annotated[float | None, typer.Option("--rollout-tokens", help="Tokens per rollout.")] = None,
    json_: JsonOpt = False,
):
    """Rollouts on harvested serving slack as a third price line, with an SLO-risk charge (note 10)."""
    from costcorrect.allocation import harvest as hv

    check_range("dedicated_usd_per_mtok", dedicated_usd_per_mtok, 0, None)
    check_range("serving_cpm_usd_per_mtok", serving_cpm_usd_per_mtok, 0, None)
    check_range("overhead_share", overhead_share, 0, 1)
    check_range("burst_probability", burst_probability, 0, 1, lo_open=True)
    check_range("breach_cost_usd_per_mtok", breach_cost_usd_per_mtok, 0, None, lo_open=True)
    check_range("harvest_share", harvest_share, 0, 1)
    risk = float(hv.slo_risk_charge_usd_per_mtok(burst_probability, breach_cost_usd_per_mtok))
    p_h = float(hv.harvested_price_usd_per_mtok(serving_cpm_usd_per_mtok, overhead_share, risk))
    result = {"slo_risk_usd_per_mtok": risk, "harvested_usd_per_mtok": p_h,
              "dedicated_usd_per_mtok": dedicated_usd_per_mtok,
              "blended_usd_per_mtok": float(hv.blended_rollout_price_usd_per_mtok(harvest_share, p_h,
                                                                                 dedicated_usd_per_mtok)),
              "harvest_share": harvest_share}
    tc = (eta_t, eta_rho, rho, t_cost_usd, base_cost_usd, rollout_tokens)
    if any(v is not None for v in tc):
        if any(v is None for v in tc):
            raise InputError("three-channel threshold", None,
                             "all of --eta-t --eta-rho --rho --t-cost-usd --base-cost-usd --rollout-tokens")
        check_range("eta_t", eta_t, 0, None, lo_open=True)
        check_range("rho", rho, 0, None, lo_open=True)
        check_range("t_cost_usd", t_cost_usd, 0, None, lo_open=True)
        check_range("base_cost_usd", base_cost_usd, 0, None, lo_open=True)
        check_range("rollout_tokens", rollout_tokens, 0, None, lo_open=True)
        result["threshold"] = hv.three_channel_threshold(
            eta_t=eta_t, eta_rho=eta_rho, rho=rho, t_cost_usd=t_cost_usd, base_cost_usd=base_cost_usd,
            rollout_tokens=rollout_tokens, dedicated_usd_per_mtok=dedicated_usd_per_mtok, harvested_usd_per_mtok=p_h)
    if json_:
        _emit_json(result)
        return
    out_console.print(f"harvested rollout price = ${p_h:.4g}/MTok (overhead ${p_h - risk:.4g} + SLO risk "
                      f"${risk:.4g}); dedicated ${dedicated_usd_per_mtok:.4g}; blended at {harvest_share:.0%} "
                      f"on slack ${result['blended_usd_per_mtok']:.4g}")
    if "threshold" in result:
        th = result["threshold"]
        out_console.print(f"next dollar → {th['best_channel']} " + ", ".join(
            f"{k}: {v['g_per_usd']:.4g}/$" for k, v in th["channels"].items()))


# ----------------------------------------------------------------------------- energy
@app.command("energy")
@guarded
def energy_cmd(
    power_w: Annotated[float, typer.Option("--power-w", help="GPU board power during decode [W].")],
    decode_tokens_per_s: Annotated[float, typer.Option("--decode-tokens-per-s", help="Decode throughput [tok/s].")],
    usd_per_kwh: Annotated[float, typer.Option("--usd-per-kwh", help="Electricity price [$/kWh].")],
    pue: Annotated[float, typer.Option("--pue", help="Facility PUE (>= 1).")] = 1.0,
    clock_lock: Annotated[bool, typer.Option("--clock-lock/--no-clock-lock",
                                             help="Apply SM-clock locking's decode-energy recovery.")] = False,
    recovery: Annotated[float | None, typer.Option(
        "--recovery", help="Recovered share with --clock-lock; default 0.32 (note 11, H200, 'up to').")] = None,
    throughput_loss: Annotated[float, typer.Option("--throughput-loss", help="Throughput lost to locking [-].")] = 0.0,
    cpm_usd_per_mtok: Annotated[float | None, typer.Option(
        "--cpm-usd-per-mtok", help="Self-hosted CPM to fold the energy term into [$/MTok].")] = None,
    json_: JsonOpt = False,
):
    """Decode energy per token and its $/MTok operator cost, with and without SM-clock locking (note 11)."""
    from costcorrect.allocation import energy as en

    check_range("power_w", power_w, 0, None, lo_open=True)
    check_range("decode_tokens_per_s", decode_tokens_per_s, 0, None, lo_open=True)
    check_range("usd_per_kwh", usd_per_kwh, 0, None)
    check_range("pue", pue, 1, None)
    check_range("throughput_loss", throughput_loss, 0, 1, hi_open=True)
    rec = en.SM_CLOCK_LOCK_DECODE_ENERGY_RECOVERY["value"] if recovery is None else recovery
    check_range("recovery", rec, 0, 1, hi_open=True)
    base = float(en.decode_energy_usd_per_mtok(power_w, decode_tokens_per_s, usd_per_kwh, pue))
    locked = float(en.decode_energy_usd_per_mtok(power_w, decode_tokens_per_s, usd_per_kwh, pue, rec))
    result = {"energy_per_token_j": float(en.energy_per_token_j(power_w, decode_tokens_per_s)),
              "energy_usd_per_mtok": base, "energy_clock_locked_usd_per_mtok": locked,
              "recovery": rec, "recovery_source": en.SM_CLOCK_LOCK_DECODE_ENERGY_RECOVERY["source"]
              if recovery is None else "user", "clock_lock": clock_lock}
    if cpm_usd_per_mtok is not None:
        check_range("cpm_usd_per_mtok", cpm_usd_per_mtok, 0, None)
        result["cpm_with_energy_usd_per_mtok"] = float(en.cpm_with_energy_usd_per_mtok(
            cpm_usd_per_mtok, locked if clock_lock else base, throughput_loss if clock_lock else 0.0))
    if json_:
        _emit_json(result)
        return
    out_console.print(f"{result['energy_per_token_j']:.4g} J/token → ${base:.4g}/MTok at ${usd_per_kwh:g}/kWh, "
                      f"PUE {pue:g}; with SM-clock locking (−{rec:.0%}) ${locked:.4g}/MTok")
    if "cpm_with_energy_usd_per_mtok" in result:
        out_console.print(f"CPM with energy = ${result['cpm_with_energy_usd_per_mtok']:.4g}/MTok")


# ----------------------------------------------------------------------------- curriculum
@app.command("curriculum")
@guarded
def curriculum_cmd(
    setter_tokens: Annotated[float, typer.Option("--setter-tokens", help="Setter tokens per candidate.")],
    solver_tokens: Annotated[float, typer.Option("--solver-tokens", help="Solver tokens per attempt.")],
    solver_attempts: Annotated[int, typer.Option("--solver-attempts", help="Solver attempts per problem.")],
    price_usd_per_mtok: Annotated[float, typer.Option(
        "--price-usd-per-mtok", help="Token price for setter and solver [$/MTok].")],
    accept_rate: Annotated[float, typer.Option("--accept-rate", help="Verifier accept rate of candidates.")],
    useful_share: Annotated[float, typer.Option("--useful-share", help="Share of valid accepted problems useful.")],
    verifier_tokens: Annotated[float, typer.Option("--verifier-tokens", help="Soft verifier tokens.")] = 0.0,
    verifier_usd_per_mtok: Annotated[float | None, typer.Option(
        "--verifier-usd-per-mtok", help="Soft verifier price [$/MTok]; default --price-usd-per-mtok.")] = None,
    false_accept_rate: Annotated[float, typer.Option(
        "--false-accept-rate", help="Soft verifier: share of accepted problems that are invalid.")] = 0.0,
    hard_accept_rate: Annotated[float | None, typer.Option(
        "--hard-accept-rate", help="Compare with a hard (programmatic, zero-token, f=0) verifier at this α.")] = None,
    budget_usd: Annotated[float, typer.Option("--budget-usd", help="Iso-compute budget [$].")] = 1000.0,
    json_: JsonOpt = False,
):
    """Cost per useful training problem in three-party self-play; hard vs soft verifier at iso-compute (note 13)."""
    from costcorrect.allocation import curriculum as cu

    for name, v in (("setter_tokens", setter_tokens), ("solver_tokens", solver_tokens),
                    ("verifier_tokens", verifier_tokens), ("price_usd_per_mtok", price_usd_per_mtok)):
        check_range(name, v, 0, None)
    check_range("solver_attempts", solver_attempts, 1, None)
    check_range("accept_rate", accept_rate, 0, 1, lo_open=True)
    check_range("useful_share", useful_share, 0, 1, lo_open=True)
    check_range("false_accept_rate", false_accept_rate, 0, 1, hi_open=True)
    check_range("budget_usd", budget_usd, 0, None, lo_open=True)
    v_price = price_usd_per_mtok if verifier_usd_per_mtok is None else verifier_usd_per_mtok
    check_range("verifier_usd_per_mtok", v_price, 0, None)

    def pipeline(alpha, v_tokens, f):
        cand = float(cu.candidate_cost_usd(
            setter_tokens=setter_tokens, verifier_tokens=v_tokens, solver_tokens=solver_tokens,
            solver_attempts=solver_attempts, setter_usd_per_mtok=price_usd_per_mtok,
            verifier_usd_per_mtok=v_price, solver_usd_per_mtok=price_usd_per_mtok, accept_rate=alpha))
        useful = float(cu.cost_per_useful_problem_usd(cand, alpha, useful_share, f))
        return {"accept_rate": alpha, "false_accept_rate": f, "candidate_cost_usd": cand,
                "cost_per_useful_problem_usd": useful}

    result = {"soft": pipeline(accept_rate, verifier_tokens, false_accept_rate)}
    if hard_accept_rate is not None:
        check_range("hard_accept_rate", hard_accept_rate, 0, 1, lo_open=True)
        result["hard"] = pipeline(hard_accept_rate, 0.0, 0.0)
    result["iso_compute"] = cu.iso_compute(budget_usd, {k: v["cost_per_useful_problem_usd"] for k, v in result.items()})
    if json_:
        _emit_json(result)
        return
    for k in ("soft", "hard"):
        if k in result:
            r = result[k]
            out_console.print(f"{k} verifier: ${r['cost_per_useful_problem_usd']:.4g} per useful problem "
                              f"({result['iso_compute']['problems'][k]:.4g} problems for ${budget_usd:g})")

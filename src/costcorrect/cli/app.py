"""Typer app. Each command: validate inputs, call the library, render.

``--json`` prints only JSON on stdout; tables go to stdout for people; notes and
progress go to stderr; bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from costcorrect import units
from costcorrect.catalog import Catalog, price_label
from costcorrect.cli.common import (
    JsonOpt,
    OverlayOpt,
    ScenarioOpt,
    SetOpt,
    _emit_json,
    _fmt,
    _load,
    app,
    catalog_app,
    err_console,
    guarded,
    out_console,
)
from costcorrect.errors import InputError, check_range
from costcorrect.io import atomic_write_text, dumps
from costcorrect.serving.breakeven import breakeven_cells, crossover_summary


# ----------------------------------------------------------------------------- frontier
@app.command()
@guarded
def frontier(
    scenario: ScenarioOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for figures and frontier.json.")] = Path(
        "costcorrect-out"),
    json_: JsonOpt = False,
    catalog: OverlayOpt = None,
    figures: Annotated[bool, typer.Option("--figures/--no-figures",
                                          help="Write Figures 1-3 (PNG + SVG).")] = True,
    set_: SetOpt = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="closed-form (paper 01's decomposition) or simulate (adds simulated curves, "
                         "σ_co and τ_KV from the discrete-event simulator beside the closed form).")] = "closed-form",
):
    """The main job: CPM_served [$ per million SLO-compliant output tokens] of the five
    published serving systems on one model x GPU x contract, their Pareto set, the
    break-even surface and Figures 1-3."""
    from costcorrect.serving import frontier as fr

    if engine not in ("closed-form", "simulate"):
        raise InputError("--engine", engine, "closed-form or simulate")
    t0 = time.perf_counter()
    sc, cat = _load(scenario, catalog, set_)
    points = fr.frontier_points(cat, sc)
    surface = fr.scenario_breakeven(cat, sc, sc.gpu)
    simulated = sim_curves = None
    if engine == "simulate":
        from costcorrect.simulator.frontier_sim import simulated_curves, simulated_terms

        if not json_:
            err_console.print("simulating curves and capacities (about a minute)...")
        simulated = simulated_terms(sc, cat)
        sim_curves = simulated_curves(sc, cat, simulated)
        simulated["curves"] = sim_curves.to_dict(orient="records")
    written = []
    if figures:
        from costcorrect import charts

        curves = fr.frontier_curves(cat, sc)
        hw = fr.hardware_curves(cat, sc)
        written += charts.save_chart(charts.figure1_frontier(curves, points, simulated=sim_curves),
                                     out / "figure1_frontier")
        written += charts.save_chart(charts.figure2_breakeven(surface), out / "figure2_breakeven")
        written += charts.save_chart(charts.figure3_hardware(hw), out / "figure3_hardware")
    result = {**fr.frontier_summary(cat, sc, points, surface), "engine": engine,
              "figures": [str(p) for p in written]}
    if simulated is not None:
        result["simulated"] = simulated
    atomic_write_text(out / "frontier.json", dumps(result))
    if json_:
        _emit_json(result)
        return
    table = Table(title=f"CPM_served — {sc.model} on {sc.tensor_parallel}x {sc.gpu} at "
                        f"${result['price_usd_per_gpu_hour']:.3f}/GPU-h ({result['price_source']}); contract p99 TTFT "
                        f"{sc.slo.ttft_p99_ms:g} ms, TPOT {sc.slo.tpot_p99_ms:g} ms; "
                        f"P={sc.workload.prompt_tokens:g}, D={sc.workload.output_tokens:g} "
                        f"tokens (α={result['alpha']:.3f})")
    for col in ("system", "architecture", "TTFT p99 [ms]", "TPOT p99 [ms]",
                f"CPM_served [$/MTok {sc.token_convention}]", "α·c_prefill [$/MTok]",
                "(1-α)·c_decode [$/MTok]", "τ_KV [$/MTok]", "σ_co [$/MTok]", "Pareto"):
        table.add_column(escape(col), justify="right" if "[" in col else "left")
    for p in points:
        table.add_row(p["system"], p["architecture"], _fmt(p["ttft_p99_ms"], ".0f"),
                      _fmt(p["tpot_p99_ms"], ".1f"), _fmt(p["cpm_served_usd_per_mtok"]),
                      _fmt(p["prefill_term_usd_per_mtok"]), _fmt(p["decode_term_usd_per_mtok"]),
                      _fmt(p["tau_kv_usd_per_mtok"], ".4f"), _fmt(p["sigma_co_usd_per_mtok"]),
                      "yes" if p["pareto_optimal"] else "no")
    out_console.print(table)
    for p in points:
        if p["dominated_by"]:
            out_console.print(f"{p['system']}: dominated by {', '.join(p['dominated_by'])} "
                              f"(cheaper at a p99 TTFT contract of {p['ttft_p99_ms']:.0f} ms)")
    if simulated is not None:
        _print_simulated_terms(simulated)
    for p in written:
        err_console.print(f"wrote {p}")
    err_console.print(f"wrote {out / 'frontier.json'}  ({time.perf_counter() - t0:.2f} s)")


def _print_simulated_terms(sim: dict) -> None:
    t = Table("architecture (simulated)", escape("capacity [req/s]"), escape("CPM_served [$/MTok]"), "config",
              title=f"Simulator at the contract: {sim['instances']} x TP{sim['tensor_parallel']} replicas, "
                    f"{sim['num_requests']} requests per probe")
    from costcorrect.simulator.frontier_sim import config_label

    for arch, row in sim["architectures"].items():
        t.add_row(arch, _fmt(row["capacity_rate_per_s"], ".2f"), _fmt(row["cpm_served_usd_per_mtok"]),
                  escape(config_label(row)))
    out_console.print(t)
    terms = Table(escape("term [$/MTok]"), "simulated", "closed form")
    for arch, v in sim["sigma_co_usd_per_mtok"].items():
        terms.add_row(f"σ_co ({arch})", _fmt(v["simulated"]), _fmt(v["closed_form"]))
    tau = sim["tau_kv_usd_per_mtok"]
    terms.add_row(f"τ_KV (B = {sim['kv_bandwidth_gb_s']:g} GB/s)", _fmt(tau["simulated"], ".4f"),
                  _fmt(tau["closed_form"], ".4f"))
    out_console.print(terms)




# ----------------------------------------------------------------------------- kv
@app.command()
@guarded
def kv(
    model: Annotated[str, typer.Option("--model", help="Catalog model id, e.g. llama-2-70b.")],
    prompt_tokens: Annotated[int, typer.Option("--prompt-tokens", help="Prompt length P [tokens].")],
    bandwidth_gb_s: Annotated[float, typer.Option(
        "--bandwidth-gb-s", help="KV link bandwidth B [GB/s = 1e9 B/s]; default 50 (400 Gb/s).")] = 50.0,
    dtype: Annotated[str, typer.Option("--dtype", help="KV-cache dtype: bf16 or fp8.")] = "bf16",
    overlap_eta: Annotated[float, typer.Option("--eta", help="Overlap η in [0,1].")] = 0.0,
    catalog: OverlayOpt = None,
    json_: JsonOpt = False,
):
    """KV-cache bytes of one request and its transfer time t_KV = KV / B [ms] (01 §4.3)."""
    from costcorrect.serving.kv import kv_cache_bytes, kv_transfer_time_s
    from costcorrect.serving.setup import DTYPES, model_kv_bytes_per_token

    check_range("prompt_tokens", prompt_tokens, 1, None)
    check_range("bandwidth_gb_s", bandwidth_gb_s, 0, None, lo_open=True)
    check_range("eta", overlap_eta, 0, 1)
    if dtype not in DTYPES:
        raise InputError("dtype", dtype, f"one of {', '.join(DTYPES)}")
    cat = Catalog.load(catalog)
    row = cat.model(model)
    per_token = model_kv_bytes_per_token(row, dtype)
    kv_bytes = round(float(kv_cache_bytes(per_token, prompt_tokens)))
    t_ms = float(units.s_to_ms(kv_transfer_time_s(kv_bytes, bandwidth_gb_s)))
    links = [
        {"interconnect": r["id"], "bandwidth_gb_s": float(r["bandwidth_gb_s"]),
         "transfer_ms": float(units.s_to_ms(kv_transfer_time_s(kv_bytes, r["bandwidth_gb_s"])))}
        for _, r in cat.table("interconnects").iterrows()
    ]
    result = {
        "model": model, "attention": row["attention"], "dtype": dtype,
        "prompt_tokens": prompt_tokens, "kv_bytes_per_token": round(per_token),
        "kv_bytes": kv_bytes, "kv_gb": float(units.bytes_to_gb(kv_bytes)),
        "kv_gib": float(units.bytes_to_gib(kv_bytes)), "bandwidth_gb_s": bandwidth_gb_s,
        "transfer_ms": t_ms, "exposed_transfer_ms": t_ms * (1 - overlap_eta),
        "overlap_eta": overlap_eta, "by_interconnect": links,
    }
    if json_:
        _emit_json(result)
        return
    out_console.print(
        f"{model} ({row['attention']}, {dtype}): {result['kv_bytes_per_token']:,} B/token; "
        f"P={prompt_tokens:,} → {kv_bytes:,} B = {result['kv_gb']:.3f} GB = {result['kv_gib']:.3f} GiB; "
        f"t_KV at {bandwidth_gb_s:g} GB/s = {t_ms:.2f} ms")
    table = Table("interconnect", escape("B [GB/s]"), escape("t_KV [ms]"))
    for link in links:
        table.add_row(link["interconnect"], f"{link['bandwidth_gb_s']:g}", f"{link['transfer_ms']:.2f}")
    out_console.print(table)


# ----------------------------------------------------------------------------- breakeven
@app.command()
@guarded
def breakeven(
    gpu: Annotated[str | None, typer.Option("--gpu", help="Catalog GPU id; default: scenario's.")] = None,
    alpha_steps: Annotated[int | None, typer.Option("--alpha-steps", help="α grid points over [0.2, 0.97].")] = None,
    bandwidth_steps: Annotated[int | None, typer.Option(
        "--bandwidth-steps", help="B grid points over [25, 900] GB/s (log-spaced).")] = None,
    scenario: ScenarioOpt = None,
    catalog: OverlayOpt = None,
    json_: JsonOpt = False,
    set_: SetOpt = None,
):
    """Break-even surface CPM_co vs CPM_P/D [$/MTok] over α x B at each SLO bin (01 §4.5)."""
    if alpha_steps is not None:
        check_range("alpha_steps", alpha_steps, 2, 2000)
    if bandwidth_steps is not None:
        check_range("bandwidth_steps", bandwidth_steps, 2, 2000)
    from costcorrect.serving.frontier import scenario_breakeven

    sc, cat = _load(scenario, catalog, set_)
    gpu_id = gpu or sc.gpu
    cat.gpu(gpu_id)
    t0 = time.perf_counter()
    s = scenario_breakeven(cat, sc, gpu_id, alpha_steps, bandwidth_steps)
    elapsed = time.perf_counter() - t0
    if json_:
        cells = breakeven_cells(s)
        _emit_json(indent=None, obj={"gpu": gpu_id, "model": sc.model, "output_tokens": s.output_tokens,
                    "colocated_variant": "chunked-prefill", "overlap_eta": sc.overlap_eta,
                    "token_convention": sc.token_convention, "elapsed_s": elapsed,
                    "crossover": crossover_summary(s), "cells": cells})
        return
    for row in crossover_summary(s):
        out_console.print(
            f"SLO (TTFT {row['ttft_p99_ms']:g} ms, TPOT {row['tpot_p99_ms']:g} ms): disaggregation "
            f"cheaper on {row['disaggregated_cheaper_share']:.0%} of the α x B grid")
    err_console.print(f"{s.cpm_colocated_usd_per_mtok.size:,} cells in {elapsed * 1e3:.0f} ms")


# ----------------------------------------------------------------------------- cpm
@app.command()
@guarded
def cpm(
    gpu: Annotated[str, typer.Option("--gpu", help="Catalog GPU id, e.g. h100-sxm.")],
    num_gpus: Annotated[int, typer.Option("--num-gpus", help="GPUs that sustain the throughput [-].")],
    goodput_tokens_per_s: Annotated[float | None, typer.Option(
        "--goodput-tokens-per-s", help="SLO-compliant tokens per second of the whole deployment [tok/s].")] = None,
    prefill_tokens_per_s: Annotated[float | None, typer.Option(
        "--prefill-tokens-per-s", help="Prefill throughput of the deployment under the SLO [tok/s].")] = None,
    decode_tokens_per_s: Annotated[float | None, typer.Option(
        "--decode-tokens-per-s", help="Decode throughput of the deployment under the SLO [tok/s].")] = None,
    alpha: Annotated[float | None, typer.Option("--alpha", help="Prefill share α = P/(P+D) in [0, 1].")] = None,
    price_usd_per_gpu_hour: Annotated[float | None, typer.Option(
        "--price-usd-per-gpu-hour", help="Price per GPU-hour [$/h]; default: catalog default.")] = None,
    catalog: OverlayOpt = None,
    json_: JsonOpt = False,
):
    """CPM_served [$/MTok] from a measured or published throughput (01 §2), or α c_prefill +
    (1-α) c_decode from per-phase throughputs (01 §4.1), on a catalog GPU's price."""
    from costcorrect.serving.decomposition import cpm_served_usd_per_mtok

    check_range("num_gpus", num_gpus, 1, None)
    cat = Catalog.load(catalog)
    if price_usd_per_gpu_hour is None:
        row = cat.default_price(gpu)
        price, source = float(row["usd_per_gpu_hour"]), price_label(row)
    else:
        check_range("price_usd_per_gpu_hour", price_usd_per_gpu_hour, 0, None, lo_open=True)
        cat.gpu(gpu)
        price, source = price_usd_per_gpu_hour, "user"
    result = {"gpu": gpu, "num_gpus": num_gpus, "price_usd_per_gpu_hour": price, "price_source": source}
    if goodput_tokens_per_s is not None:
        check_range("goodput_tokens_per_s", goodput_tokens_per_s, 0, None, lo_open=True)
        result["cpm_served_usd_per_mtok"] = float(cpm_served_usd_per_mtok(price, num_gpus, goodput_tokens_per_s))
    elif None not in (prefill_tokens_per_s, decode_tokens_per_s, alpha):
        check_range("prefill_tokens_per_s", prefill_tokens_per_s, 0, None, lo_open=True)
        check_range("decode_tokens_per_s", decode_tokens_per_s, 0, None, lo_open=True)
        check_range("alpha", alpha, 0, 1)
        c_p = float(cpm_served_usd_per_mtok(price, num_gpus, prefill_tokens_per_s))
        c_d = float(cpm_served_usd_per_mtok(price, num_gpus, decode_tokens_per_s))
        result.update({"alpha": alpha, "c_prefill_usd_per_mtok": c_p, "c_decode_usd_per_mtok": c_d,
                       "cpm_served_usd_per_mtok": alpha * c_p + (1 - alpha) * c_d,
                       "token_convention": "prompt+output"})
    else:
        raise InputError("throughput", None,
                         "--goodput-tokens-per-s, or all of --prefill-tokens-per-s, --decode-tokens-per-s, --alpha")
    if json_:
        _emit_json(result)
        return
    out_console.print(f"CPM_served = ${result['cpm_served_usd_per_mtok']:.4f} per MTok "
                      f"({num_gpus} x {gpu} at ${price:.3f}/GPU-h, {source})")


# ----------------------------------------------------------------------------- validate
def _fmt_value(v) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if v.is_integer() and abs(v) >= 1000 else f"{v:.4g}"
    return escape(str(v))


@app.command()
@guarded
def validate(
    paper: Annotated[str | None, typer.Option("--paper", help="Paper number, e.g. 01.")] = None,
    json_: JsonOpt = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table.")] = False,
    measured: Annotated[Path | None, typer.Option(
        "--measured", help="A file in the measured format (silicon_sample.csv): simulate each row, report errors."),
    ] = None,
    per_row: Annotated[bool, typer.Option("--per-row", help="With --measured: every row's prediction.")] = False,
    cross_validate: Annotated[bool, typer.Option(
        "--cross-validate", help="With --measured: leave-one-model-out refit errors too.")] = False,
):
    """Recompute every computable number in the papers; status reproduced / erratum / not-reproduced."""
    if measured is not None:
        from costcorrect.cli.cmd_measured import run_validate_measured

        run_validate_measured(measured, per_row=per_row, json_=json_, cross_validate=cross_validate)
        return
    from costcorrect.validation import CLAIMS, evaluate

    if paper is not None:
        paper = paper.zfill(2)
        known = sorted({c.paper for c in CLAIMS.values()})
        if paper not in known:
            raise InputError("paper", paper, f"one of {', '.join(known)}")
    results = [r.as_dict() for r in evaluate(paper)]
    if json_:
        _emit_json({"claims": results})
        return
    if markdown:
        print("| id | source | paper | computed | unit | status | note |\n|---|---|---|---|---|---|---|")
        for r in results:
            cells = [r["id"], r["source"], str(r["paper_value"]), _fmt_value(r["computed_value"]),
                     r["unit"], f"**{r['status']}**", r["note"]]
            print("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return
    table = Table("id", "source", "paper", "computed", "unit", "status", "note", show_lines=False)
    style = {"reproduced": "green", "erratum": "yellow", "not-reproduced": "red"}
    for r in results:
        cv = r["computed_value"]
        table.add_row(r["id"], r["source"], escape(str(r["paper_value"])),
                      _fmt_value(cv), escape(r["unit"]),
                      f"[{style[r['status']]}]{r['status']}[/]", escape(r["note"]))
    out_console.print(table)


# ----------------------------------------------------------------------------- figures
@app.command()
@guarded
def figures(
    out: Annotated[Path, typer.Option("--out", help="Folder for the PNG and SVG files.")] = Path(
        "costcorrect-out"),
    scenario: ScenarioOpt = None,
    catalog: OverlayOpt = None,
    set_: SetOpt = None,
):
    """Write paper 01's Figures 1-3 (PNG + SVG) for a scenario."""
    from costcorrect import charts
    from costcorrect.serving import frontier as fr

    sc, cat = _load(scenario, catalog, set_)
    written = []
    written += charts.save_chart(charts.figure1_frontier(fr.frontier_curves(cat, sc),
                                                         fr.frontier_points(cat, sc)),
                                 out / "figure1_frontier")
    written += charts.save_chart(charts.figure2_breakeven(fr.scenario_breakeven(cat, sc, sc.gpu)),
                                 out / "figure2_breakeven")
    written += charts.save_chart(charts.figure3_hardware(fr.hardware_curves(cat, sc)),
                                 out / "figure3_hardware")
    for p in written:
        out_console.print(f"wrote {p}")


# ----------------------------------------------------------------------------- catalog
def _show_table(name: str, catalog: Path | None, json_: bool, columns: list[str]):
    cat = Catalog.load(catalog)
    df = cat.table(name)
    if json_:
        _emit_json({name: df.to_dict(orient="records")})
        return
    table = Table(*[escape(c) for c in columns], "source", "as_of", title=f"catalog: {name}")
    for _, r in df.iterrows():
        table.add_row(*[_fmt(r[c], "g") if isinstance(r[c], float) else str(r[c]) for c in columns],
                      escape(str(r["source"])[:70]), str(r["as_of"]))
    out_console.print(table)


@catalog_app.command("gpus")
@guarded
def catalog_gpus(catalog: OverlayOpt = None, json_: JsonOpt = False):
    """GPUs: HBM [GiB], HBM bandwidth [GB/s], dense BF16/FP8 [TFLOPS], NVLink [GB/s]."""
    _show_table("gpus", catalog, json_, ["id", "hbm_capacity_gib", "hbm_bandwidth_gb_s",
                                         "bf16_dense_tflops", "fp8_dense_tflops",
                                         "nvlink_bandwidth_gb_s"])


@catalog_app.command("models")
@guarded
def catalog_models(catalog: OverlayOpt = None, json_: JsonOpt = False):
    """Model layouts: layers, heads, KV heads, head dim, params [billions]."""
    _show_table("models", catalog, json_, ["id", "attention", "num_layers", "num_query_heads",
                                           "num_kv_heads", "head_dim", "total_params_b",
                                           "active_params_b"])


@catalog_app.command("prices")
@guarded
def catalog_prices(catalog: OverlayOpt = None, json_: JsonOpt = False):
    """Hourly prices [$ per GPU-hour] with provider, offering and date."""
    _show_table("prices", catalog, json_, ["gpu_id", "provider", "offering", "usd_per_gpu_hour"])


@catalog_app.command("systems")
@guarded
def catalog_systems(catalog: OverlayOpt = None, json_: JsonOpt = False):
    """The five published serving systems and their architecture knobs."""
    _show_table("systems", catalog, json_, ["id", "architecture", "chunk_tokens",
                                            "interconnect_id", "kv_overlap_eta"])


@catalog_app.command("interconnects")
@guarded
def catalog_interconnects(catalog: OverlayOpt = None, json_: JsonOpt = False):
    """KV-transfer links: bandwidth [GB/s] and scope."""
    _show_table("interconnects", catalog, json_, ["id", "bandwidth_gb_s", "scope"])


@catalog_app.command("claims")
@guarded
def catalog_claims(catalog: OverlayOpt = None, json_: JsonOpt = False):
    """Published headline numbers of the five systems."""
    _show_table("published_claims", catalog, json_, ["id", "metric", "value", "unit"])


def _import_command_modules() -> None:
    """Import every ``cli/cmd_*.py`` so its ``@app.command()`` functions register."""
    import importlib
    import pkgutil

    import costcorrect.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"costcorrect.cli.{info.name}")


_import_command_modules()


def main() -> None:
    app(prog_name="costcorrect")

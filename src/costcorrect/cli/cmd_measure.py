"""`costcorrect measure` and `costcorrect calibrate`: your own benchmark run in CPM_served (issue 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from costcorrect.catalog import Catalog
from costcorrect.cli.common import JsonOpt, OverlayOpt, SetOpt, _emit_json, _fmt, app, err_console, guarded, out_console
from costcorrect.io import atomic_write_text

FileArg = Annotated[Path, typer.Argument(help="Measurement file: vLLM result JSON, SGLang JSONL or per-request CSV.")]
FormatOpt = Annotated[str, typer.Option("--format", help="vllm | sglang | csv | auto (from the suffix).")]
RunOpt = Annotated[int, typer.Option("--run", help="sglang: which line (run) of the JSONL; -1 = last.")]
DurationOpt = Annotated[float | None, typer.Option("--duration-s", help="csv: run duration [s] (else from arrival_s).")]


@app.command("measure")
@guarded
def measure_cmd(
    file: FileArg,
    gpu: Annotated[str, typer.Option("--gpu", help="Catalog GPU id the run used, e.g. h100-sxm.")],
    num_gpus: Annotated[int, typer.Option("--num-gpus", help="GPUs that served the run [-].")],
    ttft: Annotated[float, typer.Option("--ttft-p99-ms", help="TTFT bound per request [ms].")],
    tpot: Annotated[float, typer.Option("--tpot-p99-ms", help="Mean-TPOT bound per request [ms].")],
    fmt: FormatOpt = "auto",
    price: Annotated[float | None, typer.Option("--price-usd-per-gpu-hour",
                                                help="Price [$/GPU-h]; default: the catalog's row.")] = None,
    convention: Annotated[str, typer.Option("--token-convention", help="output | prompt+output.")] = "output",
    run: RunOpt = -1,
    duration_s: DurationOpt = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for the 95% interval.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    catalog: OverlayOpt = None,
    json_: JsonOpt = False,
):
    """CPM_served [$ per million SLO-compliant tokens] of a benchmark run you measured:
    per-request SLO (TTFT <= T and mean TPOT <= U; failed requests never meet it), goodput,
    and a bootstrap 95% interval; the price comes from the catalog unless given."""
    from costcorrect.measure import measure_run, read_measurement

    m = read_measurement(file, fmt, run=run, duration_s=duration_s)
    res = measure_run(m, Catalog.load(catalog), gpu=gpu, num_gpus=num_gpus, ttft_slo_ms=ttft, tpot_slo_ms=tpot,
                      price_usd_per_gpu_hour=price, token_convention=convention, n_bootstrap=bootstrap, seed=seed)
    if json_:
        _emit_json(res)
        return
    for note in res["notes"]:
        err_console.print(f"note: {note}", markup=False, highlight=False)
    t = Table("quantity", "value", show_header=False, title=escape(f"{file.name} ({res['format']})"))
    lo, hi = res["cpm_served_ci95_usd_per_mtok"]
    cpm = res["cpm_served_usd_per_mtok"]
    rows = [
        ("requests (failed)", f"{res['num_requests']:,} ({res['num_failed']:,})"),
        ("duration [s]", _fmt(res["duration_s"], ",.2f")),
        ("SLO (TTFT, mean TPOT) [ms]", f"{ttft:g}, {tpot:g}"),
        ("SLO attainment", _fmt(res["slo_attainment"], ".4f")),
        (f"goodput [{convention} tokens/s]", _fmt(res["goodput_tokens_per_s"], ",.1f")),
        ("GPUs x price [$/GPU-h]", f"{num_gpus} x {res['price_usd_per_gpu_hour']:.3f} "
                                   f"({escape(res['price_source'])})"),
        (f"CPM_served [$/MTok {convention}]", _fmt(cpm, ".4f") if cpm is not None else escape(res["cpm_note"])),
        ("95% interval (bootstrap)", f"[{_fmt(lo, '.4f')}, {_fmt(hi, '.4f')}]"),
        ("TTFT p50 / p99 [ms]", f"{_fmt(res['ttft_ms']['p50'], '.1f')} / {_fmt(res['ttft_ms']['p99'], '.1f')}"),
        ("TPOT p50 / p99 [ms]", f"{_fmt(res['tpot_ms']['p50'], '.2f')} / {_fmt(res['tpot_ms']['p99'], '.2f')}"),
    ]
    for k, v in rows:
        t.add_row(escape(k), v)
    out_console.print(t)


@app.command("calibrate")
@guarded
def calibrate_cmd(
    file: FileArg,
    fmt: FormatOpt = "auto",
    scenario: Annotated[Path | None, typer.Option("--scenario", help="Simulator scenario of the measured deployment "
                                                  "(model, GPU, TP, architecture); default: embedded.")] = None,
    set_: SetOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Overlay YAML to write (fitted efficiency + provenance).")]
    = None,
    fit: Annotated[str, typer.Option("--fit", help="Comma-separated factors to fit.")] = "mfu,mbu,overhead_ms",
    max_evals: Annotated[int, typer.Option("--max-evals", help="Simulations the fit may spend.")] = 80,
    run: RunOpt = -1,
    duration_s: DurationOpt = None,
    catalog: OverlayOpt = None,
    json_: JsonOpt = False,
):
    """Fit the simulator's efficiency factors (MFU, MBU, per-iteration overhead) to a measured
    run by replaying its requests; writes a scenario overlay whose values say what they were
    fit to, and shows the error on the measured percentiles before and after."""
    from costcorrect.measure import read_measurement
    from costcorrect.simulator import apply_sim_overrides, load_sim_scenario
    from costcorrect.tuning.calibrate import calibrate, overlay_doc, overlay_yaml

    base = apply_sim_overrides(load_sim_scenario(scenario), set_)
    m = read_measurement(file, fmt, run=run, duration_s=duration_s)
    cat = Catalog.load(catalog or base.catalog_overlay)
    if not json_:
        err_console.print(f"fitting {fit} to {m.success.sum():,} replayed requests (<= {max_evals} simulations)...")
    res = calibrate(m, base, cat, fit=tuple(k.strip() for k in fit.split(",") if k.strip()), max_evals=max_evals)
    doc = overlay_doc(res, m, base)
    if out is not None:
        atomic_write_text(out, overlay_yaml(doc))
    if json_:
        _emit_json({**res, "overlay": doc, "out": str(out) if out else None})
        return
    t = Table("percentile", "measured", "before", "after", "error before", "error after",
              title=escape(f"calibration to {file.name}: rms log error {res['rms_log_error_before']:.4f} -> "
                           f"{res['rms_log_error_after']:.4f}"))
    for r in res["percentiles"]:
        t.add_row(r["metric"], _fmt(r["measured"], ".2f"), _fmt(r["before"], ".2f"), _fmt(r["after"], ".2f"),
                  _fmt(r["before_rel_error"], "+.1%"), _fmt(r["after_rel_error"], "+.1%"))
    out_console.print(t)
    f = Table("factor", "start", "fitted")
    for k, v in res["fitted"].items():
        f.add_row(k, f"{res['start'][k]:.4g}", f"{v:.4g} (fitted)")
    out_console.print(f)
    err_console.print(f"note: {res['arrivals']}; {res['evaluations']} simulations", markup=False, highlight=False)
    if out is not None:
        err_console.print(f"wrote {out}", markup=False, highlight=False)

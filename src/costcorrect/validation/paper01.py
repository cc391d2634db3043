"""Paper 01 (serving frontier): every computable number, recomputed."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from costcorrect import units
from costcorrect.serving import frontier as fr
from costcorrect.serving.decomposition import decompose, prefill_share, prompt_tokens_for_share
from costcorrect.serving.kv import (
    kv_cache_bytes,
    kv_transfer_tax_usd_per_mtok,
    kv_transfer_time_s,
)
from costcorrect.serving.roofline import single_stream_decode_tokens_per_s
from costcorrect.serving.setup import model_kv_bytes_per_token
from costcorrect.validation.registry import Claim, Context, register

L2 = "llama-2-70b"


def _kv_per_token(ctx: Context) -> float:
    return model_kv_bytes_per_token(ctx.catalog.model(L2), "bf16")


def _kv_gb(ctx: Context, prompt_tokens: int) -> float:
    return float(units.bytes_to_gb(kv_cache_bytes(_kv_per_token(ctx), prompt_tokens)))


def _link(ctx: Context, link_id: str) -> float:
    return float(ctx.catalog.interconnect(link_id)["bandwidth_gb_s"])


def _t_kv_ms(ctx: Context, link_id: str) -> float:
    t = kv_transfer_time_s(kv_cache_bytes(_kv_per_token(ctx), 4096), _link(ctx, link_id))
    return float(units.s_to_ms(t))


def _trace_alpha(name: str) -> float:
    path = resources.files("costcorrect") / "data" / "traces" / name
    with path.open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh)
    return float(prefill_share(df["ContextTokens"].mean(), df["GeneratedTokens"].mean()))


def _scenario(ctx: Context, **changes):
    return ctx.scenario.model_copy(update=changes)


def _cpm(ctx, system, alpha, ttft, tpot, *, gpu="h100-sxm", eta=None, bandwidth=None):
    """CPM_served of a catalog system at prefill share α (D = workload mean output)."""
    sc = ctx.scenario
    d_tokens = sc.workload.output_tokens
    setup = fr.setup_for(ctx.catalog, sc, gpu)
    knobs = fr.system_knobs(ctx.catalog, sc, system, gpu)
    return decompose(
        setup, knobs.architecture, prompt_tokens_for_share(alpha, d_tokens), d_tokens, ttft, tpot,
        bandwidth_gb_s=knobs.bandwidth_gb_s if bandwidth is None else bandwidth,
        overlap_eta=knobs.overlap_eta if eta is None else eta,
        chunk_tokens=knobs.chunk_tokens, queue_servers=sc.queue_servers,
        token_convention=sc.token_convention,
    )


def _crossover_alpha(co, pd_, alphas) -> float | None:
    """First α where the disaggregated system stops winning (or starts); None if no sign change."""
    with np.errstate(invalid="ignore"):
        diff = np.asarray(co) - np.asarray(pd_)
    ok = np.isfinite(diff)
    s = np.sign(diff[ok])
    a = np.asarray(alphas)[ok]
    flips = np.nonzero(s[1:] != s[:-1])[0]
    if flips.size == 0:
        return None
    i = flips[0]
    d0, d1 = diff[ok][i], diff[ok][i + 1]
    return float(a[i] + (a[i + 1] - a[i]) * d0 / (d0 - d1))


ALPHAS = np.linspace(0.2, 0.97, 155)


def _sarathi_distserve_crossover(ctx, gpu="h100-sxm", bandwidth=None, eta=None):
    co = _cpm(ctx, "sarathi-serve", ALPHAS, 500, 50, gpu=gpu).cpm_served_usd_per_mtok
    pdd = _cpm(ctx, "distserve", ALPHAS, 500, 50, gpu=gpu, bandwidth=bandwidth, eta=eta)
    return _crossover_alpha(co, pdd.cpm_served_usd_per_mtok, ALPHAS)


def _uplift(ctx, system, baseline, alpha, ttft, tpot, **kw) -> float:
    base = _cpm(ctx, baseline, alpha, ttft, tpot).cpm_served_usd_per_mtok
    new = _cpm(ctx, system, alpha, ttft, tpot, **kw).cpm_served_usd_per_mtok
    return float(base / new)


def _claim_value(ctx, claim_id, column="value"):
    df = ctx.catalog.table("published_claims")
    return df.loc[df["id"] == claim_id, column].iloc[0]


# ---------------------------------------------------------------- §4.3 KV arithmetic
register(Claim(
    "01-kv-bytes-per-token", "01", "§4.3", "Llama-2-70B BF16 KV bytes per token (2·80·8·128·2)",
    327680, "bytes/token", "arithmetic", _kv_per_token, decimals=0,
    note="= 320 KiB (the paper writes '320 KB', meaning KiB).",
))
register(Claim(
    "01-kv-4k", "01", "§4.3", "KV bytes of a 4,096-token Llama-2-70B prompt", 1.31, "GB",
    "arithmetic", lambda c: _kv_gb(c, 4096), decimals=2, expected_status="erratum",
    note="327,680 x 4,096 = 1,342,177,280 B = 1.342 GB = 1.25 GiB; the paper's 1.31 mixes "
         "units (1,310,720 KiB read as GB).",
))
register(Claim(
    "01-kv-16k", "01", "§4.3", "KV bytes of a 16,384-token Llama-2-70B prompt", 5.24, "GB",
    "arithmetic", lambda c: _kv_gb(c, 16384), decimals=2, expected_status="erratum",
    note="327,680 x 16,384 = 5.369 GB = 5.00 GiB; the paper's 5.24 repeats the KiB/GB mix.",
))
register(Claim(
    "01-tkv-nvlink4", "01", "§4.3", "t_KV of a 4K prompt over NVLink 4 (900 GB/s)", 1.5, "ms",
    "arithmetic", lambda c: _t_kv_ms(c, "nvlink4"), decimals=1,
    note="900 GB/s is NVLink 4's bidirectional figure; one direction carries 450 GB/s "
         "(see catalog interconnects).",
))
register(Claim(
    "01-tkv-roce400", "01", "§4.3", "t_KV of a 4K prompt over 400 Gb/s RoCE (50 GB/s)", 26, "ms",
    "arithmetic", lambda c: _t_kv_ms(c, "roce-400g"), decimals=0, expected_status="erratum",
    note="1.342 GB / 50 GB/s = 26.8 ms; the paper's 26 follows its 1.31 GB.",
))
register(Claim(
    "01-tkv-hdr", "01", "§4.3", "t_KV of a 4K prompt over HDR InfiniBand (25 GB/s)", 52, "ms",
    "arithmetic", lambda c: _t_kv_ms(c, "ib-hdr-200g"), decimals=0, expected_status="erratum",
    note="1.342 GB / 25 GB/s = 53.7 ms; the paper's 52 follows its 1.31 GB.",
))
register(Claim(
    "01-link-ratio", "01", "§4.3, §7.2", "t_KV ratio HDR IB vs NVLink 4 (900/25)", 36, "x",
    "arithmetic", lambda c: _link(c, "nvlink4") / _link(c, "ib-hdr-200g"), decimals=0,
    note="Like for like per direction the ratio is 450/25 = 18x: 900 GB/s counts both "
         "directions of NVLink, 25 GB/s one direction of HDR.",
))
register(Claim(
    "01-tau-kv-units", "01", "§4.3",
    "τ_KV = c_H·t_KV/((P+D)·b_dec)·1e6 as printed, c_H in $/h, t_KV in s: ratio to the "
    "unit-consistent value", 1.0, "x", "arithmetic",
    lambda c: _tau_units_ratio(c), decimals=3, expected_status="erratum",
    note="As printed the formula multiplies $/h by seconds; read literally it overstates the "
         "tax 3600x. costcorrect converts c_H to $/s. With consistent units the direct tax is "
         "small (Splitwise mix over HDR IB: see computed value in docs/serving-model.md); "
         "bandwidth matters mainly through the TTFT budget it consumes.",
))


def _tau_units_ratio(ctx: Context) -> float:
    setup = fr.setup_for(ctx.catalog, ctx.scenario, "h100-sxm")
    t = kv_transfer_time_s(kv_cache_bytes(_kv_per_token(ctx), 1150), 25.0)
    consistent = kv_transfer_tax_usd_per_mtok(setup.price_usd_per_gpu_hour, t, 1150, 210, 64, 0.0)
    literal = setup.price_usd_per_gpu_hour * t / ((1150 + 210) * 64) * 1e6
    return float(literal / consistent)


# ---------------------------------------------------------------- §4.2 α and the decode cap
register(Claim(
    "01-decode-cap", "01", "§4.2", "Single-stream decode cap on H100: 3350 GB/s / 140 GB", 24,
    "tokens/s", "arithmetic",
    lambda c: float(single_stream_decode_tokens_per_s(
        140e9, c.catalog.gpu("h100-sxm")["hbm_bandwidth_gb_s"])), decimals=0,
    note="With the catalog's 68.98B parameters (137.95 GB in BF16) the cap is 24.3 tok/s.",
))
register(Claim(
    "01-alpha-splitwise", "01", "§4.2", "α of the Azure conversation mix from ~1,150 / ~210 tokens",
    0.85, "-", "arithmetic", lambda c: float(prefill_share(1150, 210)), decimals=2,
))
register(Claim(
    "01-alpha-azure-conv-trace", "01", "§4.2",
    "α of the shipped Azure 2023 conversation trace (19,366 requests)", 0.85, "-", "arithmetic",
    lambda c: _trace_alpha("azure_llm_inference_2023_conv.csv"), decimals=2,
))
register(Claim(
    "01-alpha-azure-code-trace", "01", "§4.2", "α of the Azure 2023 code trace is above 0.95",
    "> 0.95", "-", "arithmetic", lambda c: _trace_alpha("azure_llm_inference_2023_code.csv"),
    check=lambda v: v > 0.95,
))

# ---------------------------------------------------------------- §5.3 hardware figures
for _gpu, _col, _val, _dec, _unit in [
    ("a100-sxm-80gb", "hbm_bandwidth_gb_s", 2.04, 2, "TB/s"),
    ("a100-sxm-80gb", "bf16_dense_tflops", 312, 0, "TFLOPS"),
    ("h100-sxm", "hbm_bandwidth_gb_s", 3.35, 2, "TB/s"),
    ("h100-sxm", "bf16_dense_tflops", 989, 0, "TFLOPS"),
    ("h200-sxm", "hbm_bandwidth_gb_s", 4.80, 2, "TB/s"),
    ("h200-sxm", "bf16_dense_tflops", 989, 0, "TFLOPS"),
]:
    register(Claim(
        f"01-spec-{_gpu}-{_col.split('_')[0]}", "01", "§4.2, §5.3",
        f"{_gpu} {_col} agrees with the catalog (datasheet)", _val, _unit, "citation",
        (lambda c, g=_gpu, k=_col, u=_unit: float(c.catalog.gpu(g)[k]) / (1000.0 if u == "TB/s" else 1.0)),
        decimals=_dec,
    ))

# ---------------------------------------------------------------- §6.1 cost-equivalence arithmetic
register(Claim(
    "01-splitwise-reported-cost-equivalent", "01", "§3.3, §6.1",
    "1.4x throughput at equal cost = 1 - 1/1.4 lower cost", 0.29, "fraction", "arithmetic",
    lambda c: 1 - 1 / 1.4, decimals=2,
))
register(Claim(
    "01-splitwise-predicted-cost-equivalent", "01", "§6.1", "1.45x = 1 - 1/1.45 lower cost",
    0.31, "fraction", "arithmetic", lambda c: 1 - 1 / 1.45, decimals=2,
))
register(Claim(
    "01-splitwise-gap", "01", "§6.1", "(1.45 - 1.40) / 1.40", 0.036, "fraction", "arithmetic",
    lambda c: (1.45 - 1.40) / 1.40, decimals=3,
))
register(Claim(
    "01-mooncake-gap", "01", "§6.1", "4.3x predicted vs 5x reported: within 14 %", 0.14,
    "fraction", "arithmetic", lambda c: 1 - 4.3 / 5.0, decimals=2,
))

# ---------------------------------------------------------------- citations of the five systems
register(Claim(
    "01-cite-splitwise-cost", "01", "§3.3, §6.1",
    "Splitwise's headline: 1.4x throughput 'at the same cost' (paper 01) — cost reduction the "
    "source states", 0.0, "fraction", "citation",
    lambda c: float(_claim_value(c, "splitwise-cost-reduction")), decimals=2,
    expected_status="erratum",
    note="Splitwise (ISCA'24 abstract): '1.4x higher throughput at 20% lower cost'; paper 01 "
         "restates it as 1.4x at the same cost (~29% lower cost at fixed throughput).",
))
register(Claim(
    "01-cite-sarathi-5.6x", "01", "§3.2, §4.4",
    "Sarathi-Serve's 5.6x is on Llama-2-70B / A100 / TP4 (paper 01) — model the source names",
    "llama-2-70b", "-", "citation",
    lambda c: str(_claim_value(c, "sarathi-serve-falcon-180b-capacity", "model")),
    expected_status="erratum",
    note="Sarathi-Serve (OSDI'24 abstract) reports 5.6x for Falcon-180B with pipeline "
         "parallelism; its Llama-2-class gains are 2.6x (Mistral-7B) and 3.7x (Yi-34B). Paper "
         "01's σ_co ≈ 15 % is read back from the misattributed 5.6x.",
))
register(Claim(
    "01-cite-mooncake-5x", "01", "§3.3, §6.1",
    "Mooncake reports 5x throughput at fixed cost (paper 01) — largest uplift in FAST'25",
    5.0, "x", "citation",
    lambda c: 1.0 + float(_claim_value(c, "mooncake-effective-capacity-max")), decimals=0,
    expected_status="erratum",
    note="FAST'25: effective request capacity +59 % to +498 % (1.59x-5.98x) on real traces "
         "under SLOs; arXiv v1: up to +525 % in simulation. No '5x at fixed cost' appears.",
))

# ---------------------------------------------------------------- §5-§6 model claims
register(Claim(
    "01-crossover-sarathi-distserve", "01", "§6.1 (1)",
    "DistServe vs Sarathi-Serve crossover α at (500, 50) on H100 / NVLink", 0.45, "-", "model",
    lambda c: _sarathi_distserve_crossover(c), check=lambda v: v is not None and abs(v - 0.45) <= 0.05,
    expected_status="not-reproduced",
    note="Our mechanism puts the two within a few percent of each other over most of α and "
         "their first sign change (computed value) is far from 0.45; the calibration.csv behind "
         "the paper's 0.45 is not public.",
))
register(Claim(
    "01-uplift-splitwise-vllm", "01", "§6.1 (2)",
    "Splitwise vs vLLM throughput at equal cost, α=0.85, (500, 50), H100", 1.45, "x", "model",
    lambda c: _uplift(c, "splitwise", "vllm", 0.85, 500, 50), rel_tol=0.05,
    expected_status="not-reproduced",
    note="Our first-principles value is close to Splitwise's reported 1.4x but more than 5 % "
         "from the paper's 1.45x prediction.",
))
register(Claim(
    "01-uplift-mooncake", "01", "§6.1 (3)",
    "Mooncake vs vLLM at α=0.85, B=900 GB/s, η=0.7, (1000, 80)", 4.3, "x", "model",
    lambda c: _uplift(c, "mooncake", "vllm", 0.85, 1000, 80, eta=0.7, bandwidth=900.0),
    rel_tol=0.10, expected_status="not-reproduced",
    note="A 4x+ gap needs a far weaker colocated baseline than continuous batching at a relaxed "
         "(1000, 80) contract; Mooncake's gains come from KV-cache reuse and long-context "
         "traces, which the bare decomposition does not model.",
))
register(Claim(
    "01-eta-fit", "01", "§6.2",
    "η that closes the Mooncake gap to the reported 5x (paper fits 0.7)", 0.7, "-", "model",
    lambda c: _eta_fit(c), check=lambda v: v is not None and abs(v - 0.7) <= 0.1,
    expected_status="not-reproduced",
    note="No η in [0, 1] lifts our Mooncake-vs-vLLM uplift to 5x: with consistent units the "
         "transfer term is too small for η to move the ratio much (computed value null).",
))
register(Claim(
    "01-eta-band-shift", "01", "§6.2",
    "η ∈ [0.3, 0.8] moves the DistServe/Sarathi crossover by at most 0.05 in α (HDR IB)",
    "<= 0.05", "-", "model", lambda c: _eta_band_shift(c),
    check=lambda v: v is not None and v <= 0.05,
))
register(Claim(
    "01-sigma-chunked", "01", "§4.4",
    "Chunked-prefill colocation slack ≈ 15 % at (500, 50), Llama-2-70B conversational", 0.15,
    "fraction", "model", lambda c: _sigma_fraction(c, "sarathi-serve", 500, 50), rel_tol=0.33,
    expected_status="not-reproduced",
    note="Our σ_co share for chunked prefill is a few percent: piggy-backed chunks share the "
         "decode pass's weight read. Paper 01 derives 15 % from a misattributed 5.6x.",
))
register(Claim(
    "01-tight-tpot-increment", "01", "§4.4",
    "Tightening TPOT p99 50 → 30 ms raises chunked-prefill cost by ≈ 20 %", 0.20, "fraction",
    "model", lambda c: _tight_tpot(c), rel_tol=0.25, expected_status="not-reproduced",
    note="Our chunked-prefill cost rises more than 20 %: at 30 ms the decode batch that fits "
         "beside a 512-token chunk roughly halves.",
))
register(Claim(
    "01-slack-clip", "01", "§6.3",
    "vLLM colocation slack clipped at realized utilization at λ = 4 req/s per H100", 0.05,
    "fraction", "model", lambda c: _clipped_slack(c), rel_tol=0.5,
    expected_status="not-reproduced",
    note="At 4 req/s per H100 our vLLM deployment is above its SLO capacity (utilization "
         "clips at 1), so the clip leaves the full modeled slack; the paper's 5 % needs a "
         "utilization near 5 %.",
))
register(Claim(
    "01-vllm-dominated", "01", "§5.1, §9",
    "Continuous-batching colocation (vLLM) is Pareto-dominated at (500, 50) on H100", True, "-",
    "model", lambda c: _vllm_dominated(c, "h100-sxm"), check=lambda v: v is True,
    expected_status="not-reproduced",
    note="vLLM's prefill-first schedule reaches a p99 TTFT of ~150 ms; held to that contract the "
         "best other system is only ~0.3 % cheaper, a tie inside the 0.5 % Pareto tolerance. At "
         "the 500 ms contract itself vLLM costs ~35 % more than P/D, so it is dominated in cost, "
         "not on the (TTFT, cost) frontier.",
))
register(Claim(
    "01-vllm-dominated-all-gpus", "01", "§5.1, §5.3",
    "vLLM is Pareto-dominated on A100, H100, H200 and B200 at (500, 50)", True, "-", "model",
    lambda c: all(_vllm_dominated(c, g) for g in ("a100-sxm-80gb", "h100-sxm", "h200-sxm", "b200")),
    check=lambda v: v is True, expected_status="not-reproduced",
    note="Dominated on A100 (Sarathi-Serve and P/D are ~5 % cheaper at vLLM's TTFT), a tie on H100, "
         "and on the frontier on H200 and B200, where at vLLM's ~90-170 ms p99 TTFT every other "
         "architecture costs 7-9 % more.",
))


def _eta_fit(ctx):
    etas = np.linspace(0.0, 1.0, 101)
    ups = np.array([_uplift(ctx, "mooncake", "vllm", 0.85, 1000, 80, eta=e, bandwidth=900.0)
                    for e in etas])
    hit = np.nonzero(ups >= 5.0)[0]
    return float(etas[hit[0]]) if hit.size else None


def _eta_band_shift(ctx):
    a = [_sarathi_distserve_crossover(ctx, bandwidth=25.0, eta=e) for e in (0.3, 0.8)]
    if a[0] is None and a[1] is None:
        return 0.0
    if a[0] is None or a[1] is None:
        return None
    return abs(a[0] - a[1])


def _sigma_fraction(ctx, system, ttft, tpot):
    alpha = fr.workload_alpha(ctx.scenario)
    return float(_cpm(ctx, system, alpha, ttft, tpot).sigma_co_fraction)


def _tight_tpot(ctx):
    alpha = fr.workload_alpha(ctx.scenario)
    base = _cpm(ctx, "sarathi-serve", alpha, 500, 50).cpm_served_usd_per_mtok
    tight = _cpm(ctx, "sarathi-serve", alpha, 500, 30).cpm_served_usd_per_mtok
    return float(tight / base - 1.0)


def _clipped_slack(ctx):
    """vLLM's slack share clipped at the utilization 4 req/s per H100 means (01 §6.3)."""
    from costcorrect.serving.decomposition import clip_colocation_slack, token_convention_factor

    sc = ctx.scenario
    p_tokens, d_tokens = sc.workload.prompt_tokens, sc.workload.output_tokens
    d = _cpm(ctx, "vllm", fr.workload_alpha(sc), 500, 50)
    setup = fr.setup_for(ctx.catalog, sc, "h100-sxm")
    # Capacity in requests/s per GPU: compliant prompt+output tokens/s over (P + D), per GPU.
    cpm_total = d.cpm_served_usd_per_mtok / token_convention_factor(p_tokens, d_tokens, sc.token_convention)
    tokens_per_s = setup.price_usd_per_hour / units.SECONDS_PER_HOUR / (cpm_total / units.TOKENS_PER_MTOK)
    capacity_rps_per_gpu = tokens_per_s / (p_tokens + d_tokens) / setup.num_gpus
    return float(clip_colocation_slack(d.sigma_co_fraction, 4.0 / capacity_rps_per_gpu))


def _vllm_dominated(ctx, gpu):
    pts = fr.frontier_points(ctx.catalog, ctx.scenario, gpu)
    vllm = [p for p in pts if p["system"] == "vllm"]
    return bool(vllm) and not vllm[0]["pareto_optimal"]


def _distserve_scaling_ratio(ctx: Context) -> float:
    """Prefill term of DistServe on OPT-66B scaled by parameter count, over the direct
    Llama-2-70B value (01 §4.6: c_prefill is linear in n within ±10 %)."""
    sc = ctx.scenario
    p, d = sc.workload.prompt_tokens, sc.workload.output_tokens
    out = {}
    for model in ("opt-66b", L2):
        s = fr.setup_for(ctx.catalog, sc.model_copy(update={"model": model}), "h100-sxm")
        out[model] = (decompose(s, "disaggregated", p, d, 500, 50, bandwidth_gb_s=900.0, overlap_eta=0.0,
                                queue_servers=sc.queue_servers), s.active_params)
    (opt, n_opt), (llama, n_llama) = out["opt-66b"], out[L2]
    scaled = opt.prefill_term_usd_per_mtok * n_llama / n_opt
    return float(scaled / llama.prefill_term_usd_per_mtok)


register(Claim(
    "01-distserve-opt66b-scaling", "01", "§4.6",
    "DistServe's OPT-66B prefill cost scaled by parameter count lands within ±10 % of the direct "
    "Llama-2-70B value (ratio)", "1 ± 0.10", "x", "model", _distserve_scaling_ratio,
    check=lambda v: abs(v - 1.0) <= 0.10,
    note="Direct check of the scaling behind the ±10 % band: same H100 TP4 prefill mechanism on both "
         "layouts (OPT-66B: 64 layers, MHA, 9216 hidden).",
))

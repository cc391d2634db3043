"""Measured serving points in AIConfigurator's ``silicon_sample.csv`` format, rebuilt as scenarios.

The format (34 columns) is documented in ``data/measured/README.md``. This module parses
the text into typed :class:`MeasuredRow` objects and rebuilds each row as a plain dict of
scenario fields (catalog model and GPU ids, engine, precision, parallel layout, closed-loop
client concurrency, ISL/OSL, measured TTFT/TPOT). Rows that cannot be rebuilt come back in
a ``skipped`` list as ``{"id", "reason"}`` -- never dropped silently, never an exception.

Parsing works on text (:func:`parse_measured_csv`); :func:`read_measured` is the one thin
file-reading wrapper, for the CLI.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

from costcorrect.errors import InputError

#: The exact header of the measured format, in order.
COLUMNS = (
    "id", "silicon_data_source", "backend", "backend_version", "model_path", "system",
    "precision", "mode", "isl", "osl", "gemm_quant_mode", "moe_quant_mode", "batch_size",
    "tp_size", "pp_size", "attention_dp_size", "moe_tp_size", "moe_ep_size",
    "prefill_batch_size", "prefill_num_workers", "prefill_tp_size", "prefill_pp_size",
    "prefill_attention_dp_size", "prefill_moe_tp_size", "prefill_moe_ep_size",
    "decode_batch_size", "decode_num_workers", "decode_tp_size", "decode_pp_size",
    "decode_attention_dp_size", "decode_moe_tp_size", "decode_moe_ep_size",
    "silicon_ttft_ms", "silicon_tpot_ms",
)
_INT_COLUMNS = {c for c in COLUMNS if c.endswith(("_size", "_workers")) or c in ("isl", "osl")}
_FLOAT_COLUMNS = {"silicon_ttft_ms", "silicon_tpot_ms"}

#: ``model_path`` as written upstream -> catalog model id. Several ids name the same
#: layout: FP8/Instruct checkpoints and the ``zhipuai`` alias of ``zai-org/GLM-5``.
MODEL_PATH_TO_ID = {
    "meta-llama/Llama-3.1-8B-Instruct": "llama-3.1-8b",
    "meta-llama/Llama-3.1-8B": "llama-3.1-8b",
    "nvidia/Llama-3.1-8B-Instruct-FP8": "llama-3.1-8b",
    "meta-llama/Llama-3.1-70B": "llama-3.1-70b",
    "meta-llama/Llama-3.1-70B-Instruct": "llama-3.1-70b",
    "nvidia/Llama-3.1-70B-Instruct-FP8": "llama-3.1-70b",
    "meta-llama/Llama-3.1-405B": "llama-3.1-405b",
    "Qwen/Qwen3-32B": "qwen3-32b",
    "Qwen/Qwen3-32B-FP8": "qwen3-32b",
    "Qwen/Qwen3-235B-A22B": "qwen3-235b-a22b",
    "Qwen/Qwen3-235B-A22B-FP8": "qwen3-235b-a22b",
    "Qwen/Qwen3.5-397B-A17B": "qwen3.5-397b-a17b",
    "deepseek-ai/DeepSeek-V3": "deepseek-v3",
    "deepseek-ai/DeepSeek-R1": "deepseek-r1",
    "openai/gpt-oss-120b": "gpt-oss-120b",
    "moonshotai/Kimi-K2.5": "kimi-k2.5",
    "zhipuai/GLM-5": "glm-5",
    "zai-org/GLM-5": "glm-5",
    "zai-org/GLM-5-FP8": "glm-5",
    "MiniMaxAI/MiniMax-M2.5": "minimax-m2.5",
    "mistralai/Mixtral-8x7B-v0.1": "mixtral-8x7b",
}
#: AIConfigurator system name -> (catalog GPU id, NVLink-domain GPUs). The domain sizes
#: are the ``nvlink_domain_gpus`` of ``gpus.csv`` (8 per HGX node, 72 per NVL72 rack).
SYSTEM_TO_GPU = {
    "h100_sxm": ("h100-sxm", 8),
    "h200_sxm": ("h200-sxm", 8),
    "b200_sxm": ("b200", 8),
    "b300_sxm": ("b300", 8),
    "gb200": ("gb200", 72),
    "gb300": ("gb300", 72),
    "a100_sxm": ("a100-sxm-80gb", 8),
}
ENGINES = ("vllm", "sglang", "trtllm")
#: Models whose layout is MoE (for the meaning of empty/0 MoE parallel fields).
MOE_MODELS = {"mixtral-8x7b", "deepseek-v3", "deepseek-r1", "qwen3-235b-a22b", "gpt-oss-120b",
              "kimi-k2.5", "glm-5", "minimax-m2.5", "qwen3.5-397b-a17b"}

_CONCURRENCY_RE = re.compile(r"(?:^|;)\s*silicon_concurrency=(\d+)\s*(?:;|$)")
_MEASURED_RE = re.compile(r"(?:^|;)\s*measured=([^;]+)")


@dataclass(frozen=True)
class MeasuredRow:
    """One row of the measured format, typed. Empty cells are ``None``."""

    id: str
    silicon_data_source: str
    backend: str
    backend_version: str | None
    model_path: str
    system: str
    precision: str | None
    mode: str
    isl: int | None
    osl: int | None
    gemm_quant_mode: str | None
    moe_quant_mode: str | None
    batch_size: int | None
    tp_size: int | None
    pp_size: int | None
    attention_dp_size: int | None
    moe_tp_size: int | None
    moe_ep_size: int | None
    prefill_batch_size: int | None
    prefill_num_workers: int | None
    prefill_tp_size: int | None
    prefill_pp_size: int | None
    prefill_attention_dp_size: int | None
    prefill_moe_tp_size: int | None
    prefill_moe_ep_size: int | None
    decode_batch_size: int | None
    decode_num_workers: int | None
    decode_tp_size: int | None
    decode_pp_size: int | None
    decode_attention_dp_size: int | None
    decode_moe_tp_size: int | None
    decode_moe_ep_size: int | None
    silicon_ttft_ms: float | None
    silicon_tpot_ms: float | None

    @property
    def client_concurrency(self) -> int | None:
        """The benchmark client's concurrency, ``silicon_concurrency=N`` in the source. [requests]"""
        m = _CONCURRENCY_RE.search(self.silicon_data_source or "")
        return int(m.group(1)) if m else None

    @property
    def measured_on(self) -> str | None:
        """The ``measured=`` date of the source, if recorded."""
        m = _MEASURED_RE.search(self.silicon_data_source or "")
        return m.group(1).strip() if m else None


def _cell_int(col: str, raw: str, row_id: str) -> int | None:
    s = raw.strip()
    if s == "":
        return None
    try:
        f = float(s)
    except ValueError:
        raise InputError(f"measured[{row_id}].{col}", raw, "an integer or empty") from None
    if not math.isfinite(f) or f != int(f):
        raise InputError(f"measured[{row_id}].{col}", raw, "an integer or empty")
    return int(f)


def _cell_float(col: str, raw: str, row_id: str) -> float | None:
    s = raw.strip()
    if s == "":
        return None
    try:
        f = float(s)
    except ValueError:
        raise InputError(f"measured[{row_id}].{col}", raw, "a number or empty") from None
    return f if math.isfinite(f) else None


def parse_measured_csv(text: str, origin: str = "measured") -> list[MeasuredRow]:
    """Parse text in the measured format into typed rows.

    The header must be exactly :data:`COLUMNS` (same names, same order); otherwise an
    :class:`InputError` names the first difference. A cell that cannot be typed raises an
    :class:`InputError` naming the row id and column.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(origin, "(empty file)", "a CSV with the measured-format header") from None
    header = [h.strip() for h in header]
    if tuple(header) != COLUMNS:
        missing = [c for c in COLUMNS if c not in header]
        extra = [c for c in header if c not in COLUMNS]
        what = (f"missing {missing}" if missing else f"unexpected {extra}" if extra
                else "columns in a different order")
        raise InputError(f"{origin} header", what, "the 34 columns of silicon_sample.csv, in order")
    out: list[MeasuredRow] = []
    for lineno, cells in enumerate(reader, start=2):
        if not cells or all(c.strip() == "" for c in cells):
            continue
        if len(cells) != len(COLUMNS):
            raise InputError(f"{origin} line {lineno}", f"{len(cells)} cells", f"{len(COLUMNS)} cells")
        raw = dict(zip(COLUMNS, cells, strict=True))
        rid = raw["id"].strip()
        vals: dict = {}
        for f in fields(MeasuredRow):
            c = f.name
            if c in _INT_COLUMNS:
                vals[c] = _cell_int(c, raw[c], rid)
            elif c in _FLOAT_COLUMNS:
                vals[c] = _cell_float(c, raw[c], rid)
            else:
                s = raw[c].strip()
                vals[c] = s if (s or c in ("id", "silicon_data_source", "backend", "model_path",
                                           "system", "mode")) else None
        out.append(MeasuredRow(**vals))
    return out


def read_measured(path: str | Path) -> list[MeasuredRow]:
    """Read a measured-format CSV file (the only I/O in this module)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError("measured", str(p), f"a readable CSV file ({exc.strerror})") from None
    return parse_measured_csv(text, origin=p.name)


# --------------------------------------------------------------------------- rebuilding


def _weights_precision(row: MeasuredRow) -> tuple[str, dict]:
    """(weights precision, extra precision fields) from the precision/quant-mode labels."""
    label = (row.precision or "").lower()
    gemm = (row.gemm_quant_mode or "").lower()
    moe = (row.moe_quant_mode or "").lower()
    if label in ("", "bf16", "fp16"):
        return "bf16", {"scope": "linear"}
    if label == "fp8":
        return "fp8", {"scope": "linear"}
    if label == "fp4":
        # gpt-oss ships MXFP4 MoE weights; upstream labels them 'nvfp4' on Hopper
        # (data/measured/README.md). Other fp4 checkpoints are NVIDIA's NVFP4.
        fmt = "mxfp4" if row.model_path.startswith("openai/gpt-oss") else "nvfp4"
        scope = "routed_experts" if fmt == "mxfp4" else "linear"
        return "fp4", {"fp4_format": fmt, "scope": scope}
    if label == "int4" or gemm.startswith("int4") or moe.startswith("int4"):
        # Kimi-K2.5: INT4 (group 32) routed experts only; attention/shared/dense stay BF16.
        return "int4", {"scope": "routed_experts"}
    raise ValueError(f"precision label {row.precision!r} (gemm {row.gemm_quant_mode!r}, "
                     f"moe {row.moe_quant_mode!r}) not mapped")


def _deg(v: int | None) -> int:
    """A parallel degree; empty or 0 (upstream's 'unused') means 1."""
    return 1 if not v else int(v)


def _layout(prefix: str, row: MeasuredRow, model_id: str, domain: int, assumptions: list[str]) -> dict:
    """tp/attention-dp/moe-tp/moe-ep of one replica (agg) or one worker (disagg role)."""
    g = lambda name: getattr(row, f"{prefix}{name}")  # noqa: E731
    tp, pp, adp = _deg(g("tp_size")), _deg(g("pp_size")), _deg(g("attention_dp_size"))
    if pp != 1:
        raise ValueError(f"{prefix or ''}pp_size={pp}: pipeline parallelism is not modelled")
    gpus = tp * adp * pp
    moe_tp_raw, moe_ep_raw = g("moe_tp_size"), g("moe_ep_size")
    is_moe = model_id in MOE_MODELS
    if is_moe and not moe_tp_raw and not moe_ep_raw:
        moe_tp, moe_ep = gpus, 1
        assumptions.append(f"{prefix}moe_tp/moe_ep not given: experts assumed tensor-parallel over all "
                           f"{gpus} GPUs (engines' default without expert parallelism)")
    else:
        moe_tp, moe_ep = _deg(moe_tp_raw), _deg(moe_ep_raw)
    if is_moe and moe_tp * moe_ep != gpus:
        raise ValueError(
            f"inconsistent {prefix or ''}layout: tp x attention_dp x pp = {tp} x {adp} x {pp} = {gpus} GPUs "
            f"but moe_tp x moe_ep = {moe_tp} x {moe_ep} = {moe_tp * moe_ep}")
    if gpus > domain:
        raise ValueError(
            f"{prefix or ''}tp x attention_dp = {tp} x {adp} = {gpus} GPUs per replica exceeds the "
            f"{domain}-GPU NVLink domain of {row.system} (multi-node or an encoding artefact; the file does not say)")
    key = (lambda k: f"{prefix}{k}") if prefix else (lambda k: k)
    return {
        key("tensor_parallel"): tp,
        key("attention_data_parallel"): adp,
        key("expert_parallel"): moe_ep if is_moe else 1,
        key("moe_tensor_parallel"): moe_tp if is_moe else 1,
        key("gpus_per_replica") if not prefix else key("gpus_per_worker"): gpus,
    }


def rebuild_row(row: MeasuredRow, known_models: set[str] | None = None) -> dict:
    """Rebuild one measured row as a dict of scenario fields; ``ValueError`` says why not.

    Fields: ``id``, ``model``, ``gpu``, ``engine``, ``precision {weights, kv_cache, scope,
    [fp4_format]}``, ``tensor_parallel``, ``expert_parallel``, ``attention_data_parallel``,
    ``moe_tensor_parallel``, ``architecture`` (``colocated``/``disaggregated``), for
    disaggregated rows ``prefill_*``/``decode_*`` degrees and ``prefill_num_workers``/
    ``decode_num_workers``, ``workload {arrival: closed, concurrency, num_requests,
    prompt_tokens, output_tokens}``, ``measured {ttft_ms, tpot_ms}``, and ``source`` (the
    upstream labels kept for grouping) and ``assumptions`` (what the file does not record
    and we filled in).
    """
    assumptions: list[str] = []
    model_id = MODEL_PATH_TO_ID.get(row.model_path)
    if model_id is None or (known_models is not None and model_id not in known_models):
        raise ValueError(f"unknown model {row.model_path!r} (no catalog layout)")
    if row.system not in SYSTEM_TO_GPU:
        raise ValueError(f"unknown system {row.system!r} (known: {', '.join(sorted(SYSTEM_TO_GPU))})")
    gpu_id, domain = SYSTEM_TO_GPU[row.system]
    engine = (row.backend or "").lower()
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {row.backend!r} (known: {', '.join(ENGINES)})")
    conc = row.client_concurrency
    if conc is None or conc < 1:
        raise ValueError("no silicon_concurrency= in silicon_data_source (client concurrency unknown)")
    if not row.isl or not row.osl or row.isl < 1 or row.osl < 1:
        raise ValueError(f"isl/osl missing or < 1 (isl={row.isl}, osl={row.osl})")
    if row.silicon_ttft_ms is None or row.silicon_tpot_ms is None:
        raise ValueError("silicon_ttft_ms or silicon_tpot_ms missing")
    if row.silicon_ttft_ms <= 0 or row.silicon_tpot_ms <= 0:
        raise ValueError(f"non-positive measurement (ttft {row.silicon_ttft_ms}, tpot {row.silicon_tpot_ms})")
    weights, extra = _weights_precision(row)
    assumptions.append("kv_cache dtype not recorded: engine default assumed (bf16, the activation dtype)")
    assumptions.append("num_requests not recorded: 10 x concurrency assumed (InferenceX default)")
    out: dict = {
        "id": row.id,
        "model": model_id,
        "gpu": gpu_id,
        "engine": engine,
        "precision": {"weights": weights, "kv_cache": "bf16", **extra},
    }
    mode = (row.mode or "").lower()
    if mode == "agg":
        out["architecture"] = "colocated"
        out.update(_layout("", row, model_id, domain, assumptions))
    elif mode == "disagg":
        out["architecture"] = "disaggregated"
        if not row.prefill_num_workers or not row.decode_num_workers:
            raise ValueError("disaggregated row without prefill_num_workers/decode_num_workers "
                             "(P:D worker counts unknown)")
        p = _layout("prefill_", row, model_id, domain, assumptions)
        d = _layout("decode_", row, model_id, domain, assumptions)
        out.update(p)
        out.update(d)
        out["prefill_num_workers"] = int(row.prefill_num_workers)
        out["decode_num_workers"] = int(row.decode_num_workers)
        # The replica-level keys default to the decode worker's layout (issue 14 contract:
        # role keys default to the replica's values).
        out["tensor_parallel"] = d["decode_tensor_parallel"]
        out["expert_parallel"] = d["decode_expert_parallel"]
        out["attention_data_parallel"] = d["decode_attention_data_parallel"]
        out["moe_tensor_parallel"] = d["decode_moe_tensor_parallel"]
    else:
        raise ValueError(f"unknown mode {row.mode!r} (known: agg, disagg)")
    out["workload"] = {
        "arrival": "closed",
        "concurrency": int(conc),
        "num_requests": int(10 * conc),
        "prompt_tokens": {"dist": "fixed", "mean": int(row.isl)},
        "output_tokens": {"dist": "fixed", "mean": int(row.osl)},
    }
    out["measured"] = {"ttft_ms": float(row.silicon_ttft_ms), "tpot_ms": float(row.silicon_tpot_ms)}
    out["source"] = {
        "model_path": row.model_path, "system": row.system, "backend": row.backend,
        "backend_version": row.backend_version, "mode": row.mode, "precision": row.precision,
        "gemm_quant_mode": row.gemm_quant_mode, "moe_quant_mode": row.moe_quant_mode,
        "batch_size": row.batch_size, "measured_on": row.measured_on,
    }
    out["assumptions"] = assumptions
    return out


def rebuild_rows(rows: list[MeasuredRow], known_models: set[str] | None = None,
                 ) -> tuple[list[dict], list[dict]]:
    """Rebuild every row: ``(scenarios, skipped)`` with ``skipped = [{"id", "reason"}]``.

    Every input row ends up in exactly one of the two lists, in input order.
    """
    built: list[dict] = []
    skipped: list[dict] = []
    for r in rows:
        try:
            built.append(rebuild_row(r, known_models))
        except ValueError as exc:
            skipped.append({"id": r.id, "reason": str(exc)})
    return built, skipped


def summarize(rows: list[MeasuredRow]) -> dict:
    """Distinct models, engines, modes, GPUs (with row counts) and their combinations.

    Returns a plain dict: ``{"rows", "models", "engines", "modes", "systems", "precisions",
    "combinations": [{"model_path", "precision", "mode", "backend", "system", "n"}]}``;
    each of ``models``/``engines``/``modes``/``systems``/``precisions`` maps a label to its
    row count (sorted by label). A blank precision is reported as ``bf16``.
    """
    def count(values) -> dict:
        return dict(sorted(Counter(values).items()))

    prec = [(r.precision or "bf16") for r in rows]
    combos = Counter((r.model_path, r.precision or "bf16", r.mode, r.backend, r.system) for r in rows)
    return {
        "rows": len(rows),
        "models": count(r.model_path for r in rows),
        "engines": count(r.backend for r in rows),
        "modes": count(r.mode for r in rows),
        "systems": count(r.system for r in rows),
        "precisions": count(prec),
        "combinations": [
            {"model_path": m, "precision": p, "mode": mo, "backend": b, "system": s, "n": n}
            for (m, p, mo, b, s), n in sorted(combos.items())
        ],
    }

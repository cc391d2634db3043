"""Execution-time predictors: how long one engine iteration takes, from the batch's shape.

An iteration processes ``p`` prefill tokens (chunks of prompts, each after ``o`` tokens
already cached) and ``d`` decode tokens whose contexts sum to ``S``. Two predictors:

- :class:`RooflinePredictor` — first principles (01 §4.2, :mod:`costcorrect.serving.roofline`):
  ``t = max(FLOPs / (N F mfu), bytes / (N H mbu)) + all-reduce + overhead`` with
  FLOPs = 2 n_active (p + d) + 4 L a (Σ χ(o + χ/2) + S) and
  bytes = W + kv (S + p + d). Both are linear in ``S``, so a run of ``k`` decode-only
  iterations (S grows by d each) has a closed-form total time: the engine skips ahead
  over such spans instead of stepping token by token.
- :class:`TablePredictor` — a user's measured iteration times (CSV of batch shape → ms),
  interpolated linearly in (prefill tokens, decode tokens, mean decode context), nearest
  outside the measured hull; the same engine then runs on profiled data.

Both expose the same three methods; times are in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costcorrect import units
from costcorrect.errors import InputError
from costcorrect.serving.roofline import ServingSetup


@dataclass(frozen=True)
class RooflinePredictor:
    """Roofline iteration time of one replica, as plain-float coefficients.

    Built from a :class:`ServingSetup`; ``comm_latency_s`` is a fixed cost per collective
    call (all-reduce or all-to-all) that the bandwidth-only model lacks.

    MoE (issue 14 §4): the weight bytes of an iteration over ``n`` tokens are
    ``W_ne + S [n>0] + A E (1 - (1 - k/E)^n)`` -- the non-expert weights, the shared
    experts, and the expected distinct routed experts the batch's tokens touch (uniform
    independent routing, :func:`costcorrect.serving.layout.expected_distinct_experts`),
    not all experts and not the active share ``n k / E``. Within a decode span ``n = b``
    is constant, so spans keep their closed form. Dense models have ``moe_experts = 0``
    and read ``weight_bytes`` every iteration.

    Communication per token (ring over NVLink at ``tp_link_bytes_per_s`` per direction):
    attention all-reduce over the TP group of each attention-DP rank (``n / adp`` tokens),
    dense-FFN all-reduce likewise, MoE all-reduce over ``moe_tp`` for the tokens routed to
    an expert-parallel group, and for ``ep > 1`` an all-to-all dispatch + combine moving
    ``k h`` activations per token, ``(ep-1)/ep`` of them off-GPU.
    """

    flops_per_token: float  # 2 n_active [FLOP/token]
    flops_per_attn_token: float  # 4 L a: prefill attention [FLOP per token of context attended]
    compute_flops_per_s: float  # N F mfu [FLOP/s]
    weight_bytes: float  # W (dense) or non-expert W (MoE) [bytes]
    kv_bytes_per_token: float  # [bytes/token]
    memory_bytes_per_s: float  # N H mbu [bytes/s]
    allreduce_s_per_token: float  # collective time per token in the batch [s/token]
    fixed_s: float  # overhead + collective call latencies [s]
    flops_per_decode_attn_token: float = -1.0  # 4 L a_decode (MLA absorbed); < 0: same as prefill
    kv_bytes_per_seq: float = 0.0  # constant KV/state bytes read per decode token [bytes]
    moe_experts: float = 0.0  # E (0: dense)
    moe_k: float = 0.0  # routed experts per token k
    moe_expert_bytes: float = 0.0  # one routed expert, all MoE layers, at storage precision [bytes]
    moe_shared_bytes: float = 0.0  # shared experts read when n > 0 [bytes]

    @classmethod
    def from_setup(cls, setup: ServingSetup, comm_latency_s: float = 0.0) -> RooflinePredictor:
        n = setup.num_gpus
        eff = setup.efficiency
        link = setup.tp_link_bytes_per_s
        hb = setup.hidden_size * setup.activation_bytes
        moe = setup.moe
        tp, adp = setup.tensor_parallel, max(setup.attention_dp, 1)
        layers = setup.num_layers
        ring = (lambda g: 2.0 * (g - 1) / g if g > 1 else 0.0)  # noqa: E731
        if moe is None:
            # two all-reduces per layer (attention out, MLP out) over the TP group
            per_token = layers * 2.0 * ring(tp) * hb / adp / link
            calls = 2.0 * layers if tp > 1 else 0.0
        else:
            lm = moe.num_moe_layers
            ep, mtp = max(setup.expert_parallel, 1), setup.moe_tp
            dense_layers = layers - lm
            per_token = (layers + dense_layers) * ring(tp) * hb / adp / link  # attention + dense FFN
            reach = 1.0 - (1.0 - 1.0 / ep) ** moe.experts_per_token  # share of tokens an EP group gets
            per_token += lm * ring(mtp) * hb * reach / link
            if ep > 1:
                per_token += lm * 2.0 * moe.experts_per_token * hb * (ep - 1) / ep / n / link
            calls = ((layers + dense_layers) if tp > 1 else 0.0) + lm * ((mtp > 1) + 2.0 * (ep > 1))
        if n <= 1:
            per_token, calls = 0.0, 0.0
        attn_layers = setup.attention_layers or layers
        dec_dim = setup.decode_attention_dim or setup.attention_dim
        return cls(
            flops_per_token=2.0 * setup.active_params,
            flops_per_attn_token=4.0 * attn_layers * setup.attention_dim,
            compute_flops_per_s=n * setup.peak_flops_per_s * eff.mfu,
            weight_bytes=setup.weight_bytes if moe is None else moe.nonexpert_read_bytes,
            kv_bytes_per_token=setup.kv_bytes_per_token,
            memory_bytes_per_s=n * setup.hbm_bytes_per_s * eff.mbu,
            allreduce_s_per_token=per_token,
            fixed_s=float(units.ms_to_s(eff.overhead_ms)) + calls * comm_latency_s,
            flops_per_decode_attn_token=4.0 * attn_layers * dec_dim,
            kv_bytes_per_seq=setup.kv_bytes_per_seq,
            moe_experts=float(moe.num_experts) if moe else 0.0,
            moe_k=float(moe.experts_per_token) if moe else 0.0,
            moe_expert_bytes=moe.expert_bytes if moe else 0.0,
            moe_shared_bytes=moe.shared_read_bytes if moe else 0.0,
        )

    def weights_read(self, tokens: float) -> float:
        """Weight bytes an iteration over ``tokens`` tokens reads. [bytes]"""
        if self.moe_experts <= 0.0 or tokens <= 0:
            return self.weight_bytes
        e = self.moe_experts
        return (self.weight_bytes + self.moe_shared_bytes
                + self.moe_expert_bytes * e * (1.0 - (1.0 - self.moe_k / e) ** tokens))

    @property
    def _dec_attn(self) -> float:
        return self.flops_per_attn_token if self.flops_per_decode_attn_token < 0 else self.flops_per_decode_attn_token

    # -- one iteration ---------------------------------------------------------------------
    def iteration_s(self, prefill_tokens: float, prefill_attn: float, decode_tokens: float,
                    decode_ctx_sum: float) -> float:
        """Time of one iteration. [s]

        prefill_attn : Σ over chunks of χ (o + χ/2) [tokens²]; decode_ctx_sum : Σ contexts [tokens].
        """
        tokens = prefill_tokens + decode_tokens
        flops = (self.flops_per_token * tokens + self.flops_per_attn_token * prefill_attn
                 + self._dec_attn * decode_ctx_sum)
        moved = (self.weights_read(tokens) + self.kv_bytes_per_token * (decode_ctx_sum + tokens)
                 + self.kv_bytes_per_seq * decode_tokens)
        return (max(flops / self.compute_flops_per_s, moved / self.memory_bytes_per_s)
                + self.allreduce_s_per_token * tokens + self.fixed_s)

    # -- runs of decode-only iterations -------------------------------------------------------
    def _decode_lines(self, b: int, ctx_sum0: float):
        """Iteration j of a decode run costs max(c0 + c1 j, m0 + m1 j) + e. [s]"""
        fc, fm = self.compute_flops_per_s, self.memory_bytes_per_s
        fa = self._dec_attn
        c0 = (self.flops_per_token * b + fa * ctx_sum0) / fc
        c1 = fa * b / fc
        m0 = (self.weights_read(b) + self.kv_bytes_per_token * (ctx_sum0 + b) + self.kv_bytes_per_seq * b) / fm
        m1 = self.kv_bytes_per_token * b / fm
        e = self.allreduce_s_per_token * b + self.fixed_s
        return c0, c1, m0, m1, e

    def decode_run_s(self, b: int, ctx_sum0: float, k: int) -> float:
        """Total time of ``k`` decode iterations of ``b`` requests starting at context sum ``ctx_sum0``. [s]

        Context sum grows by ``b`` per iteration; exact sum of the piecewise-linear times.
        """
        if k <= 0:
            return 0.0
        c0, c1, m0, m1, e = self._decode_lines(b, ctx_sum0)
        # compute line minus memory line changes sign at most once, at j*.
        dd0, dd1 = c0 - m0, c1 - m1
        if dd1 == 0.0:  # parallel lines: one wins throughout (compute is `first` below)
            split = k if dd0 >= 0 else 0
        elif dd1 > 0:  # first j with compute >= memory
            split = min(max(math.ceil(-dd0 / dd1), 0), k)
        else:  # first j with compute < memory
            split = min(max(math.floor(-dd0 / dd1) + 1, 0), k)
        # before split: the line that loses for j -> +inf wins; after: the other.
        if dd1 > 0:  # compute grows faster: memory bound first, then compute bound
            first, second = (m0, m1), (c0, c1)
        else:
            first, second = (c0, c1), (m0, m1)
        total = e * k
        total += _line_sum(first[0], first[1], 0, split)
        total += _line_sum(second[0], second[1], split, k)
        return total

    def decode_steps_within(self, b: int, ctx_sum0: float, k_max: int, elapsed_s: float) -> int:
        """How many whole decode iterations (≤ k_max) finish within ``elapsed_s``. [-]"""
        lo, hi = 0, k_max
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.decode_run_s(b, ctx_sum0, mid) <= elapsed_s:
                lo = mid
            else:
                hi = mid - 1
        return lo


def _line_sum(a0: float, a1: float, j_from: int, j_to: int) -> float:
    """Σ_{j=j_from}^{j_to-1} (a0 + a1 j)."""
    n = j_to - j_from
    if n <= 0:
        return 0.0
    return n * a0 + a1 * (j_from + j_to - 1) * n / 2.0


class TablePredictor:
    """Measured iteration times, interpolated. CSV columns:
    ``prefill_tokens, decode_tokens, decode_context_tokens, time_ms`` (one row per measured
    batch shape; ``decode_context_tokens`` is the mean context of the decode tokens).
    """

    COLUMNS = ("prefill_tokens", "decode_tokens", "decode_context_tokens", "time_ms")

    def __init__(self, prefill_tokens, decode_tokens, decode_context_tokens, time_ms, source: str = "table"):
        from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

        x = np.column_stack([prefill_tokens, decode_tokens, decode_context_tokens]).astype(float)
        y = units.ms_to_s(np.asarray(time_ms, dtype=float))
        if len(y) < 1:
            raise InputError("latency_table", source, "at least one measured row")
        self.source = source
        # Scale axes so the triangulation is not dominated by the context axis.
        self._scale = np.maximum(x.max(axis=0), 1.0)
        xs = x / self._scale
        self._nearest = NearestNDInterpolator(xs, y)
        varying = np.ptp(xs, axis=0) > 0
        self._dims = np.flatnonzero(varying)
        self._linear = None
        if len(self._dims) >= 1 and len(y) > len(self._dims) + 1:
            try:
                pts = xs[:, self._dims]
                if len(self._dims) == 1:
                    from scipy.interpolate import interp1d

                    order = np.argsort(pts[:, 0])
                    self._linear = interp1d(pts[order, 0], y[order], bounds_error=False, fill_value=np.nan)
                else:
                    self._linear = LinearNDInterpolator(pts, y)
            except Exception:  # degenerate geometry (e.g. coplanar points): nearest only
                self._linear = None

    @classmethod
    def from_csv(cls, path: str | Path) -> TablePredictor:
        import pandas as pd

        p = Path(path)
        try:
            df = pd.read_csv(p)
        except (OSError, ValueError) as exc:
            raise InputError("latency_table", str(p), f"a readable CSV ({exc})") from None
        missing = [c for c in cls.COLUMNS if c not in df.columns]
        if missing:
            raise InputError("latency_table", str(p), f"columns {', '.join(cls.COLUMNS)} (missing {missing[0]})")
        for c in cls.COLUMNS:
            vals = pd.to_numeric(df[c], errors="coerce")
            bad = np.flatnonzero(~np.isfinite(vals.to_numpy(dtype=float)) | (vals.to_numpy(dtype=float) < 0))
            if len(bad):
                raise InputError(f"latency_table {p.name} line {bad[0] + 2} column {c}", df[c].iloc[bad[0]],
                                 "a number >= 0")
        return cls(df["prefill_tokens"], df["decode_tokens"], df["decode_context_tokens"], df["time_ms"], str(p))

    def _predict(self, p, d, ctx_mean):
        x = np.column_stack(np.broadcast_arrays(np.asarray(p, float), np.asarray(d, float),
                                                np.asarray(ctx_mean, float))) / self._scale
        out = np.full(len(x), np.nan)
        if self._linear is not None:
            sub = x[:, self._dims]
            out = np.asarray(self._linear(sub[:, 0] if len(self._dims) == 1 else sub), dtype=float).ravel()
        miss = ~np.isfinite(out)
        if miss.any():
            out[miss] = self._nearest(x[miss])
        return out

    def iteration_s(self, prefill_tokens, prefill_attn, decode_tokens, decode_ctx_sum) -> float:
        ctx = decode_ctx_sum / decode_tokens if decode_tokens else 0.0
        return float(self._predict([prefill_tokens], [decode_tokens], [ctx])[0])

    def _run_times(self, b, ctx_sum0, k):
        j = np.arange(k)
        return self._predict(np.zeros(k), np.full(k, b), (ctx_sum0 + j * b) / b)

    def decode_run_s(self, b: int, ctx_sum0: float, k: int) -> float:
        return float(self._run_times(b, ctx_sum0, k).sum()) if k > 0 else 0.0

    def decode_steps_within(self, b: int, ctx_sum0: float, k_max: int, elapsed_s: float) -> int:
        if k_max <= 0:
            return 0
        cum = np.cumsum(self._run_times(b, ctx_sum0, k_max))
        return int(np.searchsorted(cum, elapsed_s, side="right"))

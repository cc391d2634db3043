"""The break-even surface between colocated and disaggregated serving (01 §4.5, §5.2).

Over a grid of prefill share α and KV-link bandwidth B, at each SLO bin, compare the
chunked-prefill colocated cost (σ_co, chunk χ) with the disaggregated cost
((1-η) τ_KV). The output length D is held at the workload's mean and the prompt length
follows α: ``P = α D / (1-α)``, so high α is the long-prompt corner. One vectorised
call per architecture evaluates the whole grid; colocation never sees B, so it is
computed on the (bin, α) plane and broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costcorrect.serving.decomposition import decompose, prompt_tokens_for_share
from costcorrect.serving.roofline import ServingSetup


@dataclass(frozen=True)
class BreakevenSurface:
    alpha: np.ndarray  # (A,) [-]
    bandwidth_gb_s: np.ndarray  # (B,) [GB/s]
    ttft_p99_ms: np.ndarray  # (S,) [ms]
    tpot_p99_ms: np.ndarray  # (S,) [ms]
    prompt_tokens: np.ndarray  # (A,) [tokens]
    output_tokens: float  # [tokens]
    cpm_colocated_usd_per_mtok: np.ndarray  # (S, A, B)
    cpm_disaggregated_usd_per_mtok: np.ndarray  # (S, A, B)

    @property
    def difference_usd_per_mtok(self) -> np.ndarray:
        """CPM_co - CPM_P/D: positive where disaggregation is cheaper. (S, A, B)"""
        with np.errstate(invalid="ignore"):
            return self.cpm_colocated_usd_per_mtok - self.cpm_disaggregated_usd_per_mtok

    def crossover_bandwidth_gb_s(self) -> np.ndarray:
        """Per (bin, α): the smallest grid B at which P/D is no costlier; NaN if none. (S, A)"""
        wins = self.cpm_disaggregated_usd_per_mtok <= self.cpm_colocated_usd_per_mtok
        any_win = wins.any(axis=2)
        first = wins.argmax(axis=2)
        return np.where(any_win, self.bandwidth_gb_s[first], np.nan)


def breakeven_surface(
    setup: ServingSetup,
    alpha,
    bandwidth_gb_s,
    slo_bins_ms,
    output_tokens: float,
    *,
    overlap_eta: float = 0.5,
    chunk_tokens: float = 512,
    queue_servers: int = 1,
    token_convention: str = "output",
) -> BreakevenSurface:
    """Evaluate CPM_co and CPM_P/D over (SLO bin, α, B) in one broadcast pass.

    Parameters
    ----------
    alpha : array (A,) -- prefill shares in (0, 1). [-]
    bandwidth_gb_s : array (B,) -- KV link bandwidths. [GB/s]
    slo_bins_ms : sequence of (ttft_p99_ms, tpot_p99_ms). [ms]
    output_tokens : mean output length D held fixed. [tokens]
    """
    a = np.asarray(alpha, dtype=float)
    bw = np.asarray(bandwidth_gb_s, dtype=float)
    bins = np.asarray(slo_bins_ms, dtype=float).reshape(-1, 2)
    ttft = bins[:, 0][:, None, None]
    tpot = bins[:, 1][:, None, None]
    prompt = prompt_tokens_for_share(a, output_tokens)[None, :, None]
    common = dict(queue_servers=queue_servers, token_convention=token_convention)
    co = decompose(setup, "chunked", prompt, output_tokens, ttft, tpot,
                   chunk_tokens=chunk_tokens, **common).cpm_served_usd_per_mtok
    pd_ = decompose(setup, "disaggregated", prompt, output_tokens, ttft, tpot,
                    bandwidth_gb_s=bw[None, None, :], overlap_eta=overlap_eta,
                    **common).cpm_served_usd_per_mtok
    shape = (bins.shape[0], a.size, bw.size)
    return BreakevenSurface(
        alpha=a,
        bandwidth_gb_s=bw,
        ttft_p99_ms=bins[:, 0],
        tpot_p99_ms=bins[:, 1],
        prompt_tokens=prompt.ravel(),
        output_tokens=float(output_tokens),
        cpm_colocated_usd_per_mtok=np.broadcast_to(co, shape),
        cpm_disaggregated_usd_per_mtok=np.broadcast_to(pd_, shape),
    )


def crossover_summary(surface: BreakevenSurface) -> list[dict]:
    """Per SLO bin: the share of the α x B grid where P/D is cheaper, and the crossover line.

    The ``breakeven`` rows of ``costcorrect frontier --json`` and of the web explorer's API.
    """
    x = surface.crossover_bandwidth_gb_s()
    diff = surface.difference_usd_per_mtok
    rows = []
    for i in range(len(surface.ttft_p99_ms)):
        pd_wins = np.isfinite(diff[i]) & (diff[i] >= 0)
        rows.append({
            "ttft_p99_ms": surface.ttft_p99_ms[i], "tpot_p99_ms": surface.tpot_p99_ms[i],
            "disaggregated_cheaper_share": float(pd_wins.mean()),
            "crossover": [{"alpha": a, "bandwidth_gb_s": b}
                          for a, b in zip(surface.alpha, x[i], strict=True) if np.isfinite(b)],
        })
    return rows


def breakeven_cells(surface: BreakevenSurface) -> list[dict]:
    """Every (SLO bin, α, B) cell with both costs, as ``costcorrect breakeven --json`` lists them."""
    s = surface
    S, A, B = s.cpm_colocated_usd_per_mtok.shape
    co, pdd = s.cpm_colocated_usd_per_mtok, s.cpm_disaggregated_usd_per_mtok
    return [
        {"ttft_p99_ms": float(s.ttft_p99_ms[i]), "tpot_p99_ms": float(s.tpot_p99_ms[i]),
         "alpha": float(s.alpha[j]), "prompt_tokens": float(s.prompt_tokens[j]),
         "bandwidth_gb_s": float(s.bandwidth_gb_s[k]),
         "cpm_colocated_usd_per_mtok": float(co[i, j, k]),
         "cpm_disaggregated_usd_per_mtok": float(pdd[i, j, k])}
        for i in range(S) for j in range(A) for k in range(B)
    ]

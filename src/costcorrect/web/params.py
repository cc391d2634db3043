"""Query parameters of the explorer's API: parse, range-check, and map onto a Scenario.

Every control value arrives as a string. Each one is parsed and range-checked here, and
bad input raises :class:`costcorrect.errors.InputError` naming the *query parameter* (the
page shows the message next to the control of that name) and the allowed range. The
ranges are those of :class:`costcorrect.scenario.Scenario` where it has one, narrowed to
what a browser control needs (no 10-million-token prompts on a slider).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costcorrect.catalog import Catalog
from costcorrect.errors import InputError
from costcorrect.scenario import Scenario, scenario_from_dict


@dataclass(frozen=True)
class NumberControl:
    """One numeric query parameter: ``lo``..``hi`` (open ends where flagged), optional int."""

    name: str
    lo: float
    hi: float
    lo_open: bool = False
    integer: bool = False
    #: Dotted path of the scenario field it sets; ``None`` = not a scenario field.
    path: str | None = None
    label: str = ""

    @property
    def allowed(self) -> str:
        kind = "an integer" if self.integer else "a number"
        left = "(" if self.lo_open else "["
        return f"{kind} in {left}{self.lo:g}, {self.hi:g}]"

    def parse(self, raw: str | None) -> float | int | None:
        """``None``/empty → ``None``; else the checked value, or :class:`InputError`."""
        if raw is None or str(raw).strip() == "":
            return None
        text = str(raw).strip()
        try:
            value = float(text)
        except ValueError:
            raise InputError(self.name, text, self.allowed) from None
        ok = math.isfinite(value) and (value > self.lo if self.lo_open else value >= self.lo) and value <= self.hi
        if self.integer and ok:
            ok = value.is_integer()
        if not ok:
            raise InputError(self.name, text, self.allowed)
        return int(value) if self.integer else value


#: Numeric controls, by query-parameter name. Scenario bounds: SLO (0, 600000] / (0, 60000] ms,
#: tokens (0, 1e7], TP [1, 64], price (0, 1000] $/h, η [0, 1].
NUMBERS: dict[str, NumberControl] = {c.name: c for c in (
    NumberControl("ttft_p99_ms", 10, 600_000, path="slo.ttft_p99_ms", label="TTFT p99 contract [ms]"),
    NumberControl("tpot_p99_ms", 1, 60_000, path="slo.tpot_p99_ms", label="TPOT p99 bound [ms]"),
    NumberControl("eta", 0, 1, path="overlap_eta", label="KV-transfer overlap η [–]"),
    NumberControl("price_usd_per_gpu_hour", 0, 1000, lo_open=True, path="price_usd_per_gpu_hour",
                  label="price [$ per GPU-hour]"),
    NumberControl("tensor_parallel", 1, 64, integer=True, path="tensor_parallel",
                  label="tensor parallel [GPUs per instance]"),
    NumberControl("prompt_tokens", 1, 1_000_000, path="workload.prompt_tokens", label="prompt P [tokens]"),
    NumberControl("output_tokens", 1, 1_000_000, path="workload.output_tokens", label="output D [tokens]"),
    NumberControl("alpha_steps", 2, 400, integer=True, label="α grid points"),
    NumberControl("bandwidth_steps", 2, 400, integer=True, label="B grid points"),
    NumberControl("bandwidth_gb_s", 0, 100_000, lo_open=True, label="my KV link B [GB/s]"),
    # cost-correct calculator (02 §4)
    NumberControl("price_in_usd_per_mtok", 0, 10_000, label="input price [$ per MTok]"),
    NumberControl("price_out_usd_per_mtok", 0, 10_000, label="output price [$ per MTok]"),
    NumberControl("reasoning_multiplier", 1, 1_000, label="reasoning multiplier R [–]"),
    NumberControl("rollout_ratio", 0, 10_000, label="rollout ratio ρ̄ [–]"),
    NumberControl("accept_rate", 0, 1, lo_open=True, label="accept rate α [–]"),
    NumberControl("answer_tokens", 1, 10_000_000, label="answer tokens N [tokens]"),
    NumberControl("spread_pct", 1, 90, label="tornado range ± [%]"),
    # threshold plane (04 A.1; `costcorrect threshold`)
    NumberControl("eta_rho", -100, 100, label="η_ρ, elasticity of α in rollouts [–]"),
    NumberControl("eta_t", 0, 1_000, lo_open=True, label="η_T, elasticity of α in training [–]"),
    NumberControl("rho", 0, 1_000_000, lo_open=True, label="ρ, rollouts per query [–]"),
    NumberControl("t_cost_usd", 0, 1e9, lo_open=True, label="T·c_T, training $ per query [$]"),
    NumberControl("i_cost_usd", 0, 1e9, lo_open=True, label="ρ·c_I, rollout $ per query [$]"),
    # routing premium (05 eq. 7; `costcorrect routing premium`)
    NumberControl("kappa", 0, 1, label="κ, classifier calibration [–]"),
    NumberControl("delta", 0, 100, label="Δ, workload heterogeneity [–]"),
    NumberControl("gamma", 0, 100, label="γ, classifier overhead share [–]"),
)}

#: Query parameters that pick a catalog row, and the catalog table holding the ids.
CHOICES = {"model": "models", "gpu": "gpus", "link": "interconnects"}


def number(name: str, raw: str | None):
    return NUMBERS[name].parse(raw)


def choice(catalog: Catalog, name: str, raw: str | None) -> str | None:
    """A catalog id for ``name`` (model, gpu, link), or ``None`` when not given."""
    if raw is None or str(raw).strip() == "":
        return None
    value = str(raw).strip()
    ids = [str(i) for i in catalog.table(CHOICES[name])["id"]]
    if value not in ids:
        raise InputError(name, value, "one of " + ", ".join(sorted(ids)))
    return value


#: Query parameter → dotted scenario path (for remapping the scenario's own errors).
_PATH_OF = {c.name: c.path for c in NUMBERS.values() if c.path} | {"model": "model", "gpu": "gpu"}
_NAME_OF = {v: k for k, v in _PATH_OF.items()}


def scenario_with(base: Scenario, values: dict) -> Scenario:
    """``base`` with the given query-parameter values (already parsed) applied and re-validated.

    ``None`` values are left at the base scenario's value. A validation error of the
    scenario is reported under the query-parameter name when there is one.
    """
    doc = base.model_dump()
    for name, value in values.items():
        if value is None:
            continue
        node = doc
        parts = _PATH_OF[name].split(".")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    try:
        return scenario_from_dict(doc, "scenario")
    except InputError as exc:
        path = exc.field.removeprefix("scenario.")
        raise InputError(_NAME_OF.get(path, path), exc.value, exc.allowed) from None


def cli_set_args(values: dict) -> list[str]:
    """The ``--set key=value`` arguments that give the CLI the same scenario (for tests/docs)."""
    out = []
    for name, value in values.items():
        if value is not None and name in _PATH_OF:
            out += ["--set", f"{_PATH_OF[name]}={value}"]
    return out

"""Closed-loop fast path: jump over the periodic steady state instead of simulating it.

A closed-loop benchmark (``arrival: closed``, ``concurrency: C``) with fixed prompt and
output lengths on one pool of replicas is a deterministic system: a request is sent
exactly when one finishes, and every scheduling decision depends only on the discrete
state (who is waiting, how far each prompt is prefilled, each decode's context and
remaining tokens, the KV blocks held). Iteration times depend only on that state too. So
once the engine passes through the same discrete state twice -- same requests in the
same queues at the same progress, the same plan in flight with the same time left, the
same ages (now - arrival, now - first token) -- everything after the second visit repeats
the stretch between the two visits, shifted in time by the period ``Δt``.

:func:`run_closed_loop` simulates with the ordinary engine, fingerprints the state at
quiet points after a request finishes, and on the first repeat jumps ``m`` whole periods
ahead: the records of the requests that finished inside the period are replayed ``m``
times (shifted by ``j Δt``), the request counter advances by ``m`` periods, and every
pending time (events, plans, in-flight requests, links) moves by ``m Δt``. The last
period(s) and the drain after the final request are simulated normally, so the summary
is the full simulation's, not an approximation of it (tests compare the two; ages and
times are fingerprinted to 1 ns, so floating-point drift can only delay a detection,
not fake one).

It also records, when asked, the **schedule trace**: every executed plan (prefill tokens,
prefill attention, decode batch, decode context, steps) and, per request, the plans at
which it arrived, got its first token and finished. For a single-pool closed loop that
schedule does not depend on the efficiency parameters (arrivals come only at iteration
boundaries), so mean TTFT and TPOT are exact linear functionals of the iteration
durations -- which is what lets :mod:`costcorrect.simulator.measured_validation` fit
engine profiles in milliseconds per evaluation.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from costcorrect.simulator.config import SimScenario
from costcorrect.simulator.engine import _ITER, _SPAN, Engine, Replica, Request
from costcorrect.simulator.metrics import Recorder

_NS = 1e9


def fast_path_applies(sc: SimScenario) -> bool:
    """Closed loop, fixed lengths, one pool (colocated/chunked) -- where the jump is exact."""
    wl = sc.workload
    return (wl.arrival == "closed" and wl.prompt_tokens.dist == "fixed" and wl.output_tokens.dist == "fixed"
            and sc.architecture != "disaggregated")


@dataclass
class Trace:
    """Executed plans and per-request plan indices of one run (see module docstring).

    plans : (P, 5) array of ``steps, prefill_tokens, prefill_attn, decode_batch, decode_ctx_sum0``.
    requests : (R, 5) int array of ``arrival_plan, first_token_plan, finish_plan, output_tokens,
        multiplicity`` -- a request arriving before plan ``a`` (index of the first plan it can
        wait on), first token at the end of plan ``f``, finished at the end of plan ``e``.
    """

    plans: np.ndarray
    requests: np.ndarray


@dataclass
class ClosedLoopResult:
    recorder: Recorder
    engine: Engine
    jumped_periods: int = 0
    period_requests: int = 0
    period_s: float = 0.0
    arrivals: int = 0
    trace: Trace | None = None
    extras: dict = field(default_factory=dict)


class _TracingReplica(Replica):
    def wake(self, now: float, version: int) -> None:
        eng = self.engine
        if version == self.version and self.plan is not None and eng.tracing:
            plan = self.plan
            idx = len(eng.plan_log)
            if plan[0] == _SPAN:
                _, _start, k, b, ctx0, _end = plan
                eng.plan_log.append((k, 0.0, 0.0, b, ctx0))
            else:
                chunks, with_decode = plan[1], plan[2]
                p_tok, p_attn = 0, 0.0
                for req, tokens in chunks:
                    p_tok += tokens
                    p_attn += tokens * (req.prefilled + tokens / 2.0)
                    if req.first_token_s < 0 and req.prefilled + tokens >= req.target:
                        eng.req_log[req.rid][1] = idx
                b = self.b if with_decode else 0
                eng.plan_log.append((1, p_tok, p_attn, b, (b * self.s + self.sum_off) if b else 0.0))
        super().wake(now, version)


class _LoopEngine(Engine):
    """The engine with plan/request logging and the periodic jump."""

    def __init__(self, recorder: Recorder, tracing: bool):
        super().__init__(recorder)
        self.tracing = tracing
        self.plan_log: list[tuple] = []
        self.req_log: dict[int, list[int]] = {}
        self.records: list[tuple] = []  # finished so far, for replaying a period (rid, arrival, first, finish, ...)

    def arrive(self, req: Request, now: float) -> None:
        if self.tracing:
            self.req_log[req.rid] = [len(self.plan_log), -1, -1, req.output, 1]
        super().arrive(req, now)

    def finish(self, req: Request, now: float) -> None:
        self.records.append((req.rid, req.arrival_s, req.first_token_s, now, req.prompt, req.output,
                             req.preemptions, req.itl_max_s))
        if self.tracing:
            self.req_log[req.rid][2] = len(self.plan_log) - 1
        super().finish(req, now)


def _in_flight(rep: Replica) -> list[Request]:
    reqs = {}
    for r in rep.waiting:
        reqs[r.rid] = r
    for r in rep.prefilling:
        reqs[r.rid] = r
    for entry in rep.heap:
        if entry[2] == entry[3].epoch:
            reqs[entry[3].rid] = entry[3]
    if rep.plan is not None and rep.plan[0] == _ITER:
        for r, _ in rep.plan[1]:
            reqs[r.rid] = r
    return [reqs[k] for k in sorted(reqs)]


def _fingerprint(eng: _LoopEngine) -> tuple:
    """Discrete state + relative times of every replica, canonical in request order."""
    now = eng.now
    ns = lambda x: round((x - now) * _NS)  # noqa: E731
    out = [eng.in_flight]
    for rep in eng.front:
        reqs = _in_flight(rep)
        rank = {r.rid: i for i, r in enumerate(reqs)}
        s = rep.s
        out.append(tuple((r.target, r.prefilled, r.generated, r.output, r.blocks, r.preemptions,
                          ns(r.arrival_s), ns(r.first_token_s) if r.first_token_s >= 0 else None)
                         for r in reqs))
        out.append(tuple(rank[r.rid] for r in rep.waiting))
        out.append(tuple(rank[r.rid] for r in rep.prefilling))
        decode = sorted((rank[e[3].rid], e[3].off + s, e[0] - s) for e in rep.heap if e[2] == e[3].epoch)
        out.append(tuple(decode))
        out.append(tuple(rank[r.rid] for r, ep in rep.admitted if r.epoch == ep))
        out.append((rep.other_blocks, rep.b, rep.load))
        plan = rep.plan
        if plan is None:
            out.append(None)
        elif plan[0] == _SPAN:
            _, start, k, b, ctx0, end = plan
            out.append((_SPAN, k, b, ctx0, ns(start), ns(end)))
        else:
            out.append((_ITER, tuple((rank[r.rid], t) for r, t in plan[1]), plan[2], ns(plan[3])))
    return tuple(out)


def _shift(eng: _LoopEngine, dt: float) -> None:
    """Move every pending time of the engine by ``dt`` seconds (a pure time translation)."""
    eng.events = [(t + dt, kind, seq, a, b) for (t, kind, seq, a, b) in eng.events]
    heapq.heapify(eng.events)
    eng.now += dt
    for rep in eng.front + eng.decode_pool:
        rep.link_free_s += dt if rep.link_free_s > 0 else 0.0
        plan = rep.plan
        if plan is not None:
            if plan[0] == _SPAN:
                rep.plan = (plan[0], plan[1] + dt, plan[2], plan[3], plan[4], plan[5] + dt)
            else:
                rep.plan = (plan[0], plan[1], plan[2], plan[3] + dt, *plan[4:])
        for r in _in_flight(rep):
            r.arrival_s += dt
            if r.first_token_s >= 0:
                r.first_token_s += dt
            if r.last_emit_s >= 0:
                r.last_emit_s += dt
    eng.last_arrival_s += dt


def run_closed_loop(sc: SimScenario, dep, *, fast: bool = True, trace: bool = False,
                    max_fingerprints: int = 4096) -> ClosedLoopResult:
    """Simulate a closed-loop, fixed-length, single-pool scenario on a built deployment.

    ``fast=False`` is the plain simulation (same engine, no jump), for comparison.
    Returns the recorder (summaries), the jump made, and optionally the schedule trace.
    """
    if not fast_path_applies(sc):
        raise ValueError("run_closed_loop needs arrival closed, fixed lengths and one pool")
    rec = Recorder(sc.slo.ttft_p99_ms, sc.slo.tpot_p99_ms, sc.token_convention, None,
                   tpot_basis=sc.slo.tpot_basis)
    eng = _LoopEngine(rec, trace)
    eng.dispatch = sc.dispatch
    eng.first_arrival_s = math.inf
    eng.last_arrival_s = -math.inf
    bs = sc.block_size_tokens
    eng.front = [_TracingReplica(eng, i, sc.architecture, dep.predictor, dep.kv_blocks, bs, sc.max_batch_requests,
                                 sc.max_batch_tokens, sc.chunk_tokens) for i in range(sc.replicas)]
    wl = sc.workload
    prompt = max(round(wl.prompt_tokens.mean), wl.prompt_tokens.min)
    output = max(round(wl.output_tokens.mean), wl.output_tokens.min)
    total = int(wl.num_requests)
    cap = dep.kv_blocks * bs
    if prompt + output > cap:
        from costcorrect.errors import InputError

        raise InputError("request tokens", prompt + output,
                         f"<= {cap} (the replica's whole KV cache: {dep.kv_blocks} blocks of {bs})")
    state = {"issued": 0, "rid": 0}
    ready: deque = deque()

    def make(t: float) -> Request | None:
        if state["issued"] >= total:
            return None
        req = Request(state["rid"], t, prompt, output)
        state["rid"] += 1
        state["issued"] += 1
        eng.first_arrival_s = min(eng.first_arrival_s, t)
        eng.last_arrival_s = max(eng.last_arrival_s, t)
        return req

    for _ in range(min(int(wl.concurrency), total)):
        ready.append(make(0.0))

    def on_finish(now: float) -> None:
        r = make(now)
        if r is not None:
            ready.append(r)

    eng.on_finish = on_finish
    seen: dict[tuple, tuple] = {}
    out = ClosedLoopResult(rec, eng)

    def check() -> None:
        if ready or state["issued"] >= total:
            return
        fp = _fingerprint(eng)
        mark = (state["issued"], eng.now, len(eng.records))
        prev = seen.get(fp)
        if prev is None:
            if len(seen) < max_fingerprints:
                seen[fp] = mark
            return
        d_req = mark[0] - prev[0]
        dt = mark[1] - prev[1]
        if d_req <= 0 or dt <= 0:
            return
        m = (total - state["issued"]) // d_req - 1
        if m < 1:
            return
        cycle = eng.records[prev[2]:mark[2]]
        for j in range(1, m + 1):
            sh = j * dt
            for rid, arr, first, fin, p, o, pre, itl in cycle:
                rec.add(rid, arr + sh, first + sh, fin + sh, p, o, pre, itl)
        if trace:
            for rid, *_ in cycle:
                eng.req_log[rid][4] += m
        state["issued"] += m * d_req
        state["rid"] += m * d_req
        eng.finished += m * d_req
        _shift(eng, m * dt)
        out.jumped_periods, out.period_requests, out.period_s = m, d_req, dt
        eng.check = None

    if fast:
        # Fingerprint only every C finishes: a period of C requests -- every client slot
        # once, the usual case -- is still caught at its phase (longer periods at a multiple),
        # and the O(C) fingerprint costs O(1) per finished request.
        step = max(int(wl.concurrency), 1)

        def gated() -> None:
            if eng.finished % step == 0:
                check()

        eng.check = gated

    def next_arrival():
        return ready.popleft() if ready else None

    eng.run(next_arrival)
    rec.close()
    out.arrivals = state["issued"]
    if eng.in_flight != 0 or rec.n != state["issued"]:
        raise RuntimeError(f"closed loop lost requests: {state['issued']} sent, {rec.n} finished")
    if trace:
        plans = np.asarray(eng.plan_log, dtype=float).reshape(-1, 5)
        reqs = np.asarray(list(eng.req_log.values()), dtype=np.int64).reshape(-1, 5)
        out.trace = Trace(plans, reqs)
    return out


def summarize(res: ClosedLoopResult) -> dict:
    """The simulator summary's latency keys for a closed-loop run. [ms] / [s]"""
    rec = res.recorder
    return {
        "num_requests": rec.n,
        "ttft_ms": rec.ttft.summary(),
        "tpot_ms": rec.tpot.summary(),
        "e2e_ms": rec.e2e.summary(),
        "duration_s": rec.duration_s,
        "preemptions": rec.preemptions,
        "throughput_tokens_per_s": rec.served_tokens / rec.duration_s if rec.duration_s > 0 else 0.0,
        "jumped_periods": res.jumped_periods,
        "period_requests": res.period_requests,
        "period_s": res.period_s,
    }

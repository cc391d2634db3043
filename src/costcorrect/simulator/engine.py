"""Discrete-event engine: requests, replicas with a paged KV cache, schedulers, KV links.

Entities
--------
- :class:`Request` — one prompt/output pair and its timestamps.
- :class:`Replica` — one tensor-parallel group running one scheduler over a paged KV
  cache (``block_size`` tokens per block; capacity = HBM − weights − activations).
- pools — the replicas a dispatcher spreads arrivals over (colocated/chunked), or a
  prefill pool and a decode pool joined by per-prefill-replica KV links (disaggregated).

Schedulers (``Replica.mode``)
-----------------------------
- ``colocated`` — vLLM-style continuous batching, prefill-prioritised: if waiting requests
  fit (KV blocks, ``max_batch_tokens``, ``max_batch_requests``) the next iteration is a
  prefill-only batch of them and running decodes pause; else every running request decodes.
- ``chunked`` — Sarathi-Serve-style: each iteration carries every running decode plus
  prefill chunks filling the remaining ``chunk_tokens`` budget, FCFS.
- ``prefill`` / ``decode`` — the two pools of disaggregation. A prefill replica runs
  prefill-only batches, emits the first token, then queues the KV on its outgoing link
  (bandwidth B; FIFO, so a slow link backs up). Decode may start once (1−η) of the
  transfer has landed (layer-wise streaming overlaps the rest with the first decode
  steps); the link stays busy for the whole transfer and the prefill replica frees the
  blocks when it ends.

KV exhaustion preempts the most recently admitted decode (vLLM's recompute policy): its
blocks are freed and it re-enters the queue to prefill prompt + generated tokens again.

Speed: decode-only stretches are not stepped token by token. Each replica keeps a decode
step counter ``s``; a request that joined at step s0 with context c0 has context
``s + (c0 − s0)``, so the running set is summarised by (count, Σ offsets, offsets mod block)
and the engine jumps to the next completion, block exhaustion, or interrupting arrival in
one closed-form step (:meth:`RooflinePredictor.decode_run_s`). Work per request is O(log b).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import deque
from collections.abc import Callable

from costcorrect.simulator.metrics import Recorder

# plan kinds
_ITER, _SPAN = 1, 2
# event kinds (ordering at equal times: wakes before link events before arrivals)
_WAKE, _KV_READY, _RELEASE = 0, 1, 2


class Request:
    __slots__ = (
        "arrival_s",
        "blocks",
        "epoch",
        "finish_step",
        "first_token_s",
        "generated",
        "itl_max_s",
        "join_gap_s",
        "join_iter",
        "kv_ready",
        "last_emit_s",
        "off",
        "output",
        "preemptions",
        "prefilled",
        "prompt",
        "replica",
        "rid",
        "target",
    )

    def __init__(self, rid: int, arrival_s: float, prompt: int, output: int):
        self.rid = rid
        self.arrival_s = arrival_s
        self.prompt = prompt
        self.output = output
        self.generated = 0
        self.target = prompt  # tokens the next prefill must cache (prompt + generated on recompute)
        self.prefilled = 0
        self.first_token_s = -1.0
        self.preemptions = 0
        self.off = 0  # context - decode step, while decoding
        self.epoch = 0  # bumped when leaving the decode set (lazy heap deletion)
        self.blocks = 0  # KV blocks held outside the decode-set formula
        self.kv_ready = False  # disaggregated: KV has arrived, join decode directly
        self.replica = None
        self.finish_step = 0  # decode step at which the last output token is produced
        self.join_iter = 0  # replica iteration count when this request joined the decode set
        self.join_gap_s = 0.0  # time from its last token to joining (KV transfer, recompute wait) [s]
        self.last_emit_s = -1.0  # time of the last token emitted before joining [s]
        self.itl_max_s = 0.0  # longest gap between two consecutive output tokens so far [s]


class Replica:
    """One TP group: a paged KV cache, a scheduler and a current plan."""

    def __init__(self, engine: Engine, idx: int, mode: str, predictor, total_blocks: int, block_size: int,
                 max_seqs: int, max_batch_tokens: int, chunk_tokens: int):
        self.engine = engine
        self.idx = idx
        self.mode = mode
        self.pred = predictor
        self.total_blocks = total_blocks
        self.bs = block_size
        self.max_seqs = max_seqs
        self.max_batch_tokens = max_batch_tokens
        self.chunk_tokens = chunk_tokens
        self.watermark = max(1, total_blocks // 100)  # vLLM keeps 1 % of blocks free at admission
        self.waiting: deque[Request] = deque()
        self.prefilling: deque[Request] = deque()
        self.heap: list = []  # (finish_step, rid, epoch, req)
        self.admitted: list[Request] = []  # decode set in admission order (LIFO preemption)
        self.b = 0
        self.sum_off = 0
        self.phase = [0] * block_size
        self._extra_cache: dict[int, int] = {}
        # Longest-iteration suffix maxima (monotonic stack) for per-request max inter-token latency:
        # a request finishing now asks for the longest iteration since it joined.
        self.iters = 0
        self._stall_s = 0.0  # prefill-only time since running decodes last produced a token [s]
        self.itl_iters: list[int] = []
        self.itl_durs: list[float] = []
        self.s = 0
        self.other_blocks = 0  # blocks held by prefilling / transferring requests
        self.plan = None
        self.version = 0
        self.load = 0  # in-flight requests routed here (dispatch)
        self.peak_blocks = 0
        # disaggregated prefill: outgoing KV link
        self.link_free_s = 0.0

    # -- KV accounting -------------------------------------------------------------------------
    def decode_blocks(self, s: int) -> int:
        """Blocks the decode set holds at step ``s``: Σ ceil(context_i / block).

        The rounding term depends on the phase counts and on ``s mod block`` only; it is
        cached until the decode set changes (joins and leaves clear the cache).
        """
        bs = self.bs
        key = s % bs
        extra = self._extra_cache.get(key)
        if extra is None:
            extra = 0
            for r, c in enumerate(self.phase):
                if c:
                    extra += c * ((-(key + r)) % bs)
            self._extra_cache[key] = extra
        return (self.b * s + self.sum_off + extra) // bs

    def _push_iteration(self, duration_s: float) -> None:
        iters, durs = self.itl_iters, self.itl_durs
        while durs and durs[-1] <= duration_s:
            durs.pop()
            iters.pop()
        iters.append(self.iters)
        durs.append(duration_s)

    def close_itl(self, req: Request) -> None:
        """Fold the longest iteration since ``req`` joined (plus its join gap) into its max ITL."""
        i = bisect.bisect_right(self.itl_iters, req.join_iter)
        longest = self.itl_durs[i] if i < len(self.itl_durs) else 0.0
        gap = req.join_gap_s + longest
        if gap > req.itl_max_s:
            req.itl_max_s = gap

    def used_blocks(self) -> int:
        return self.decode_blocks(self.s) + self.other_blocks

    def _join_decode(self, req: Request) -> None:
        ctx = req.target  # tokens cached; the next decode step writes one more
        req.join_iter = self.iters
        req.join_gap_s = self.engine.now - req.last_emit_s if req.last_emit_s >= 0 else 0.0
        req.off = ctx - self.s
        req.blocks = 0
        req.finish_step = self.s + (req.output - req.generated)
        self.b += 1
        self.sum_off += req.off
        self.phase[req.off % self.bs] += 1
        self._extra_cache.clear()
        heapq.heappush(self.heap, (req.finish_step, req.rid, req.epoch, req))
        admitted = self.admitted
        admitted.append((req, req.epoch))
        if len(admitted) > 2 * self.b + 64:  # drop finished/preempted entries (amortised O(1))
            self.admitted = [e for e in admitted if e[0].epoch == e[1]]

    def _leave_decode(self, req: Request) -> None:
        self.b -= 1
        self.sum_off -= req.off
        self.phase[req.off % self.bs] -= 1
        self._extra_cache.clear()
        req.epoch += 1

    def _preempt_one(self) -> bool:
        """Evict the most recently admitted decode (vLLM recompute): it re-queues first."""
        while self.admitted:
            req, epoch = self.admitted.pop()
            if req.epoch != epoch:
                continue
            remaining = req.finish_step - self.s
            self.close_itl(req)
            req.last_emit_s = self.engine.now  # its next token comes after the recompute
            self._leave_decode(req)
            req.generated = req.output - remaining
            req.target = req.prompt + req.generated
            req.prefilled = 0
            req.kv_ready = False
            req.preemptions += 1
            self.engine.preemptions += 1
            self.waiting.appendleft(req)
            return True
        return False

    # -- scheduling ----------------------------------------------------------------------------
    def notify(self, now: float) -> None:
        """New work arrived (request or KV): start if idle, cut a decode span short if running."""
        if self.plan is None:
            self._schedule(now)
        elif self.plan[0] == _SPAN:
            _, start, k, b, ctx0, _end = self.plan
            j = self.pred.decode_steps_within(b, ctx0, k, now - start)
            k_new = min(j + 1, k)
            if k_new < k:
                end = start + self.pred.decode_run_s(b, ctx0, k_new)
                self.plan = (_SPAN, start, k_new, b, ctx0, end)
                self.version += 1
                self.engine.push(end, _WAKE, self, self.version)

    def wake(self, now: float, version: int) -> None:
        if version != self.version or self.plan is None:
            return
        plan = self.plan
        self.plan = None
        if plan[0] == _SPAN:
            _, _start, k, b, ctx0, _end = plan
            self.s += k
            self.iters += k
            # Token gaps: the first step also carries any stall that preceded it; after that,
            # iteration times grow along a decode run (context grows), so the last is the longest.
            first = self.pred.decode_run_s(b, ctx0, 1)
            last = self.pred.decode_run_s(b, ctx0, k) - self.pred.decode_run_s(b, ctx0, k - 1)
            self._push_iteration(max(self._stall_s + first, last))
            self._stall_s = 0.0
        else:
            self.iters += 1
            if self.mode != "prefill":
                if plan[2] or not self.b:  # decodes advanced (or none were waiting): a token gap closes
                    self._push_iteration(self._stall_s + plan[4])
                    self._stall_s = 0.0
                else:  # prefill-only iteration with running decodes: they stall
                    self._stall_s += plan[4]
            self._finish_iteration(now, plan)
        self._pop_finished(now)
        self._schedule(now)

    def _pop_finished(self, now: float) -> None:
        heap = self.heap
        while heap and heap[0][0] <= self.s:
            _, _, epoch, req = heapq.heappop(heap)
            if epoch != req.epoch:
                continue
            self.close_itl(req)
            self._leave_decode(req)
            self.engine.finish(req, now)

    def _clean_heap_top(self) -> None:
        heap = self.heap
        while heap and heap[0][2] != heap[0][3].epoch:
            heapq.heappop(heap)

    def _finish_iteration(self, now: float, plan) -> None:
        chunks, with_decode = plan[1], plan[2]
        if with_decode:
            self.s += 1
        eng = self.engine
        for req, tokens in chunks:
            req.prefilled += tokens
            if req.prefilled < req.target:
                continue
            if self.mode == "chunked":
                if self.prefilling and self.prefilling[0] is req:
                    self.prefilling.popleft()
                else:
                    self.prefilling.remove(req)
            req.generated += 1
            if req.first_token_s < 0:
                req.first_token_s = now
            elif req.last_emit_s >= 0 and now - req.last_emit_s > req.itl_max_s:  # recompute stall
                req.itl_max_s = now - req.last_emit_s
            req.last_emit_s = now
            if req.generated >= req.output:
                self.other_blocks -= req.blocks
                req.blocks = 0
                eng.finish(req, now)
            elif self.mode == "prefill":
                eng.start_transfer(req, self, now)  # blocks stay held until the link is done
            else:
                self.other_blocks -= req.blocks
                self._join_decode(req)

    def _choose(self):
        """The next plan under this replica's scheduler, or None when there is no work."""
        if self.mode == "chunked":
            return self._plan_chunked()
        if self.mode == "prefill":
            return self._plan_prefill_batch()
        # colocated / decode: prefill-prioritised, as vLLM's default scheduler
        self._admit_kv_ready()
        plan = self._plan_prefill_batch()
        if plan is None and self.b:
            plan = self._plan_span()
            if plan is None:  # preemption emptied the decode set: prefill what waits
                plan = self._plan_prefill_batch()
        return plan

    def _schedule(self, now: float) -> None:
        plan = self._choose()
        if plan is None:
            self.plan = None
            return
        if plan[0] == _ITER:
            chunks, with_decode = plan[1], plan[2]
            p_tokens = 0
            p_attn = 0.0
            for req, tokens in chunks:
                p_tokens += tokens
                p_attn += tokens * (req.prefilled + tokens / 2.0)
            b = self.b if with_decode else 0
            dur = self.pred.iteration_s(p_tokens, p_attn, b, b * self.s + self.sum_off if b else 0.0)
            end = now + dur
            self.plan = (_ITER, chunks, with_decode, end, dur)
        else:
            _, k, b, ctx0, dur = plan
            end = now + dur
            self.plan = (_SPAN, now, k, b, ctx0, end)
        self.version += 1
        self.engine.push(end, _WAKE, self, self.version)
        # Blocks only grow within a plan, so its end state is its peak.
        steps = plan[1] if plan[0] == _SPAN else (1 if plan[2] else 0)
        used = self.decode_blocks(self.s + steps) + self.other_blocks
        if used > self.peak_blocks:
            self.peak_blocks = used

    def _admit_kv_ready(self) -> None:
        """Decode pool: requests whose KV landed join the running set if blocks allow."""
        waiting = self.waiting
        while waiting and waiting[0].kv_ready and self.b < self.max_seqs:
            req = waiting[0]
            need = -(-(req.target + 1) // self.bs)
            if self.used_blocks() + need + self.watermark > self.total_blocks and self.b > 0:
                break
            waiting.popleft()
            self._join_decode(req)

    def _plan_prefill_batch(self):
        waiting = self.waiting
        if not waiting or waiting[0].kv_ready:
            return None
        chunks = []
        tokens = 0
        used = self.used_blocks()
        running = self.b
        while waiting and not waiting[0].kv_ready:
            req = waiting[0]
            need = -(-req.target // self.bs)
            if chunks and tokens + req.target > self.max_batch_tokens:
                break
            if running + len(chunks) >= self.max_seqs:
                break
            if used + need + self.watermark > self.total_blocks and (chunks or running or self.other_blocks):
                break
            waiting.popleft()
            req.blocks = need
            req.prefilled = 0
            self.other_blocks += need
            used += need
            chunks.append((req, req.target))
            tokens += req.target
        if not chunks:
            return None
        return (_ITER, chunks, False)

    def _plan_chunked(self):
        waiting = self.waiting
        while waiting and self.b + len(self.prefilling) < self.max_seqs:
            req = waiting[0]
            need = -(-req.target // self.bs)
            busy = self.b or self.prefilling or self.other_blocks
            if self.used_blocks() + need + self.watermark > self.total_blocks and busy:
                break
            waiting.popleft()
            req.blocks = need
            req.prefilled = 0
            self.other_blocks += need
            self.prefilling.append(req)
        if self.prefilling and self.chunk_tokens > self.b:
            if self.b:
                self._ensure_blocks(1)  # victims re-queue in `waiting`, not admitted this round
            return self._chunk_plan()
        if self.b:
            plan = self._plan_span()
            if plan is not None:
                return plan
        if self.prefilling:
            return self._chunk_plan()
        return None

    def _chunk_plan(self):
        """Every running decode plus FCFS prefill chunks filling the token budget."""
        budget = self.chunk_tokens - self.b
        chunks = []
        for req in self.prefilling:
            take = min(req.target - req.prefilled, budget)
            chunks.append((req, take))
            budget -= take
            if budget <= 0:
                break
        return (_ITER, chunks, self.b > 0)

    def _ensure_blocks(self, k: int) -> bool:
        """Preempt until ``k`` more decode steps fit; False if the decode set emptied."""
        while self.b and self.decode_blocks(self.s + k) + self.other_blocks > self.total_blocks:
            self._preempt_one()
        return self.b > 0

    def _plan_span(self):
        self._clean_heap_top()
        if not self.heap:
            return None
        k = self.heap[0][0] - self.s
        if k <= 0:
            k = 1
        if self.engine.max_span_steps is not None:  # benchmark baseline: step token by token
            k = min(k, self.engine.max_span_steps)
        avail = self.total_blocks - self.other_blocks
        if self.decode_blocks(self.s + k) > avail:
            # largest k' with the blocks still fitting; preempt if not even one step fits
            lo, hi = 0, k
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if self.decode_blocks(self.s + mid) <= avail:
                    lo = mid
                else:
                    hi = mid - 1
            if lo == 0:  # not one step fits: preempt, then plan the survivors
                if not self._ensure_blocks(1):
                    return None
                return self._plan_span()
            k = lo
        ctx0 = self.b * self.s + self.sum_off
        return (_SPAN, k, self.b, ctx0, self.pred.decode_run_s(self.b, ctx0, k))


class Engine:
    """The event loop over pools of replicas; see the module docstring."""

    def __init__(self, recorder: Recorder, progress: Callable[[int], None] | None = None):
        self.events: list = []
        self.seq = 0
        self.recorder = recorder
        self.progress = progress
        self.front: list[Replica] = []  # where arrivals go
        self.decode_pool: list[Replica] = []
        self.kv_bytes_per_token = 0.0
        self.link_bytes_per_s = math.inf
        self.overlap_eta = 0.0
        self.rr = 0
        self.dispatch = "least-loaded"
        self.finished = 0
        self.preemptions = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.on_finish: Callable[[float], None] | None = None
        self.check: Callable[[], None] | None = None  # called at quiet points (see run)
        self.now = 0.0
        self.max_span_steps: int | None = None  # None = closed-form skip-ahead over decode runs

    def push(self, t: float, kind: int, a, b) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, kind, self.seq, a, b))

    def _pick(self, pool: list[Replica]) -> Replica:
        if len(pool) == 1:
            return pool[0]
        if self.dispatch == "round-robin":
            self.rr = (self.rr + 1) % len(pool)
            return pool[self.rr]
        best = pool[0]
        for r in pool:
            if r.load < best.load:
                best = r
        return best

    def arrive(self, req: Request, now: float) -> None:
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight
        rep = self._pick(self.front)
        req.replica = rep
        rep.load += 1
        rep.waiting.append(req)
        rep.notify(now)

    def start_transfer(self, req: Request, src: Replica, now: float) -> None:
        t_kv = self.kv_bytes_per_token * req.target / self.link_bytes_per_s
        start = max(now, src.link_free_s)
        src.link_free_s = start + t_kv
        dest = self._pick(self.decode_pool)
        dest.load += 1
        src.load -= 1
        self.push(start + (1.0 - self.overlap_eta) * t_kv, _KV_READY, req, dest)
        self.push(start + t_kv, _RELEASE, src, req.blocks)
        req.blocks = 0

    def finish(self, req: Request, now: float) -> None:
        rep = req.replica
        rep.load -= 1
        self.in_flight -= 1
        self.finished += 1
        self.recorder.add(req.rid, req.arrival_s, req.first_token_s, now, req.prompt, req.output,
                          req.preemptions, req.itl_max_s)
        if self.progress is not None and self.finished % 1000 == 0:
            self.progress(self.finished)
        if self.on_finish is not None:
            self.on_finish(now)

    def run(self, next_arrival: Callable[[], Request | None]) -> None:
        """Process events until no arrival and no event remains.

        ``self.check``, when set, is called at quiet points (no arrival pending, time about
        to advance, a request finished since the last call); it may replace ``self.events``
        (the closed-loop fast path jumps whole periods ahead there).
        """
        events = self.events
        pending = None
        last_checked = -1
        while True:
            if pending is None:
                pending = next_arrival()  # closed loops add arrivals as requests finish
            if events and (pending is None or events[0][0] <= pending.arrival_s):
                if (pending is None and self.check is not None and self.finished != last_checked
                        and events[0][0] > self.now):
                    last_checked = self.finished
                    self.check()
                    events = self.events
                t, kind, _, a, b = heapq.heappop(events)
                self.now = t
                if kind == _WAKE:
                    a.wake(t, b)
                elif kind == _KV_READY:
                    a.kv_ready = True
                    a.replica = b
                    b.waiting.append(a)
                    b.notify(t)
                else:  # _RELEASE: the link finished sending; free the prefill-side blocks
                    a.other_blocks -= b
                    a.notify(t)
            elif pending is not None:
                self.now = pending.arrival_s
                self.arrive(pending, pending.arrival_s)
                pending = None
            else:
                break

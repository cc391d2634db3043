"""Run tuning tasks on local cores or on Ray; results come back to the driver.

A *task* is a plain dict (picklable, Ray-serialisable): the base scenario as a mapping,
the configuration's overrides, the request count, the SLO bins and the search settings.
:func:`run_task` evaluates it anywhere costcorrect is installed and returns the rows;
the driver alone writes part files, so workers on other Ray nodes need no shared disk.

- ``local``: :class:`concurrent.futures.ProcessPoolExecutor` over ``workers`` processes
  (default: all cores); ``workers=1`` runs in-process.
- ``ray``: ``ray.init()`` (a local Ray, or ``address=`` an existing cluster such as
  ``ray://head:10001`` or ``auto``), one ``@ray.remote(num_cpus=1)`` task per config.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

from costcorrect.errors import InputError

BACKENDS = ("local", "ray")
_CATALOGS: dict = {}


def _catalog(overlay: str | None):
    from costcorrect.catalog import Catalog

    if overlay not in _CATALOGS:
        _CATALOGS[overlay] = Catalog.load(overlay)
    return _CATALOGS[overlay]


def run_task(task: dict) -> dict:
    """Evaluate one configuration (all its SLO bins) at one request count."""
    from costcorrect.simulator import apply_sim_overrides, sim_scenario_from_dict
    from costcorrect.tuning.capacity import evaluate_config

    sc = sim_scenario_from_dict(task["scenario"], "tune scenario")
    sc = apply_sim_overrides(sc, task["overrides"])
    sc = sc.model_copy(update={"workload": sc.workload.model_copy(update={"num_requests": task["num_requests"]})})
    res = evaluate_config(sc, _catalog(task.get("catalog_overlay")), task["bins"], target=task["target"],
                          rel_tol=task["rel_tol"])
    return {"task_id": task["task_id"], **res}


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


class LocalBackend:
    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        self._pool = None

    def run(self, tasks: Iterable[dict]) -> Iterator[dict]:
        tasks = list(tasks)
        if not tasks:
            return
        if self.workers == 1 or len(tasks) == 1:
            for t in tasks:
                yield run_task(t)
            return
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        pending = {self._pool.submit(run_task, t) for t in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class RayBackend:
    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None):
        try:
            import ray
        except ImportError:
            raise InputError("--backend", "ray", "an install with Ray (pip install 'costcorrect[ray]')") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            kw = {"address": address} if address else {"num_cpus": workers or default_workers()}
            try:
                ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
                         configure_logging=False, **kw)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise InputError("--address", address, f"a reachable Ray cluster ({exc})") from None
            self._started = True
        self._remote = ray.remote(num_cpus=1)(run_task)
        self.workers = int(ray.cluster_resources().get("CPU", 1))

    def run(self, tasks: Iterable[dict]) -> Iterator[dict]:
        ray = self._ray
        pending = [self._remote.remote(t) for t in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def make_backend(name: str, address: str | None = None, workers: int | None = None):
    if name not in BACKENDS:
        raise InputError("--backend", name, "local or ray")
    if workers is not None and workers < 1:
        raise InputError("--workers", workers, "an integer >= 1")
    if name == "ray":
        return RayBackend(address, workers)
    if address:
        raise InputError("--address", address, "only with --backend ray")
    return LocalBackend(workers)


ProgressFn = Callable[[dict], None]

"""Flow runs started warm.

A served flow run is a process of its own until its next suspend (DESIGN rule 13), and Prefect
starts each one as a fresh interpreter ("spawn"), which imports Prefect and the project again
before the run does anything: about 3.5 s of CPU on our machines, paid at every step a person
records. Started from a forkserver that imported them once, a run is a fork: milliseconds.

Prefect (3.9) asks `multiprocessing` for the "spawn" context in `run_flow_in_subprocess`, the one
place a served flow's run is started (runner/_starter_direct.py). `warm_flow_runs` gives that
module a view of `multiprocessing` in which "spawn" is the forkserver; everything else is as
before. Should a later Prefect start runs some other way, they simply start cold again, and
tests/flows/test_warm_runs.py fails to say so.

A run started this way is still a process of its own (separate memory, its own database
connections, stopped with the serve process's group); it begins with Prefect and the project
already imported and reads its settings from the environment the runner gives it, as before.
"""

import multiprocessing
import multiprocessing.context
from collections.abc import Iterable
from typing import Any

import prefect.flow_engine


class _SpawnIsTheForkserver:
    """`multiprocessing` as prefect.flow_engine sees it: asked for "spawn", the forkserver."""

    def __init__(self, forkserver: multiprocessing.context.BaseContext) -> None:
        self._forkserver = forkserver

    def get_context(self, method: str | None = None) -> multiprocessing.context.BaseContext:
        if method == "spawn":
            return self._forkserver
        return multiprocessing.get_context(method)

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing, name)


def warm_flow_runs(modules: Iterable[str]) -> None:
    """Start this process's served flow runs from a forkserver that has imported Prefect's engine
    and `modules` (the flows' modules). Called before the first run starts."""
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["prefect.flow_engine", *modules])
    prefect.flow_engine.multiprocessing = _SpawnIsTheForkserver(forkserver)  # type: ignore[assignment]

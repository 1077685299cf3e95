"""The serve process: one process that serves every deployment the project defines.

Started by `safeguard serve` (so by `make run`) with PREFECT_API_URL set; runs until stopped.
"""

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import TerminationSignal
from prefect.runner import Runner

from deployments import DeploymentSpec, deployments
from deployments.warm import warm_flow_runs
from safeguard.orchestration import DEPLOYMENT_NAME
from safeguard.settings import get_settings


def deployment_options(spec: DeploymentSpec, *, schedules: bool = True) -> dict[str, Any]:
    """Return how `spec`'s flow is deployed: under the project's deployment name, the sweep with
    its interval schedule unless `schedules` is off (tests run sweeps themselves)."""
    every = get_settings().sweep_every_minutes
    return {
        "name": DEPLOYMENT_NAME,
        "tags": list(spec.tags),
        "description": spec.description,
        "interval": timedelta(minutes=every) if spec.swept and schedules else None,
        "parameters": spec.parameters,
    }


def runner_deployment(spec: DeploymentSpec, *, schedules: bool = True) -> RunnerDeployment:
    """Return the deployment of `spec`'s flow, as `serve_on` registers it."""
    deployment = spec.flow.to_deployment(**deployment_options(spec, schedules=schedules))
    # to_deployment is "sync-compatible": called outside an event loop it returns the deployment.
    assert isinstance(deployment, RunnerDeployment)
    return deployment


def serve_on(runner: Runner, specs: Iterable[DeploymentSpec], *, schedules: bool = True) -> None:
    """Register each of `specs` with `runner`, which will run their flow runs.

    Added as flows, not as deployments read back from their entrypoints: the runner then starts
    each run from the flow it holds, in a process forked from one that has imported them already
    (deployments/warm.py), instead of a new interpreter importing everything again.
    """
    specs = tuple(specs)
    warm_flow_runs(sorted({spec.flow.fn.__module__ for spec in specs}))
    for spec in specs:
        runner.add_flow(spec.flow, **deployment_options(spec, schedules=schedules))


def main() -> None:
    # Each flow run is a process of its own until its next suspend: cap how many run at once, so a
    # burst (many cases started, or resumed after an outage) queues instead of exhausting memory.
    settings = get_settings()
    runner = Runner(limit=settings.serve_limit)
    serve_on(runner, deployments(settings))
    with contextlib.suppress(KeyboardInterrupt, TerminationSignal):  # Ctrl-C or SIGTERM: stop
        asyncio.run(runner.start())


if __name__ == "__main__":
    main()

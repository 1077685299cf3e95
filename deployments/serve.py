"""The serve process: one process that serves every deployment the project defines.

Started by `safeguard serve` (so by `make run`) with PREFECT_API_URL set; runs until stopped.
"""

from datetime import timedelta

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from deployments import DeploymentSpec, deployments
from safeguard.orchestration import DEPLOYMENT_NAME
from safeguard.settings import get_settings


def runner_deployment(spec: DeploymentSpec, *, schedules: bool = True) -> RunnerDeployment:
    """Return the deployment of `spec`'s flow under the project's deployment name.

    The sweep gets its interval schedule unless `schedules` is off (tests run sweeps themselves).
    """
    every = get_settings().sweep_every_minutes
    deployment = spec.flow.to_deployment(
        name=DEPLOYMENT_NAME,
        tags=list(spec.tags),
        description=spec.description,
        interval=timedelta(minutes=every) if spec.swept and schedules else None,
        parameters=spec.parameters,
    )
    # to_deployment is "sync-compatible": called outside an event loop it returns the deployment.
    assert isinstance(deployment, RunnerDeployment)
    return deployment


def main() -> None:
    # Each flow run is a process of its own until its next suspend: cap how many run at once, so a
    # burst (many cases started, or resumed after an outage) queues instead of exhausting memory.
    settings = get_settings()
    serve(
        *(runner_deployment(spec) for spec in deployments(settings)),
        print_starting_message=False,
        limit=settings.serve_limit,
    )


if __name__ == "__main__":
    main()

"""Every deployment the project defines: one per registered process (its flow, named in its
declaration) and the platform's own flows (the sweep, the selfcheck). Served locally by
`safeguard serve` (deployments/serve.py) and registered on a work pool by deployments/prefect.yaml.
"""

import importlib
from dataclasses import dataclass, field
from typing import Any

from prefect import Flow

from flows.selfcheck import selfcheck
from flows.sweep import sweep
from models import registry
from models.errors import InputError
from safeguard import wiring
from safeguard.orchestration import DEPLOYMENT_NAME
from safeguard.settings import Settings


@dataclass(frozen=True)
class DeploymentSpec:
    """A flow and how it is deployed; `entrypoint` is what deployments/prefect.yaml must name."""

    flow: Flow[Any, Any]
    entrypoint: str  # relative to the project root, e.g. "flows/selfcheck.py:selfcheck"
    tags: tuple[str, ...] = ()
    description: str = ""
    swept: bool = False  # runs on the sweep schedule (SAFEGUARD_SWEEP_EVERY_MINUTES)
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        """Return "<flow>/<deployment>", the name run_deployment and the API use."""
        return f"{self.flow.name}/{DEPLOYMENT_NAME}"


PLATFORM: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        flow=sweep,
        entrypoint="flows/sweep.py:sweep",
        tags=("platform", "escalation"),
        description="Sweeps every clock: writes the notices due to the outbox and delivers them.",
        swept=True,
    ),
    DeploymentSpec(
        flow=selfcheck,
        entrypoint="flows/selfcheck.py:selfcheck",
        tags=("platform",),
        description="Checks the database is migrated and the clock policy loads.",
    ),
)


def deployments(settings: Settings) -> tuple[DeploymentSpec, ...]:
    """Return every deployment: each registered process's flow, then the platform's."""
    wiring.processes(settings)
    policy = wiring.policy(settings)
    specs = []
    for decl in registry.processes():
        flow = process_flow(decl.flow)
        if flow.name != decl.code:
            raise InputError(
                f"process {decl.code!r}: its flow {decl.flow} is named {flow.name!r}; "
                f"name it {decl.code!r} (cases start it as '{decl.code}/{DEPLOYMENT_NAME}')"
            )
        specs.append(
            DeploymentSpec(
                flow=flow,
                entrypoint=decl.flow_path,
                tags=(decl.code,),
                description=f"One case: {policy.process(decl.code).title}.",
            )
        )
    return (*specs, *PLATFORM)


def process_flow(entrypoint: str) -> Flow[Any, Any]:
    """Return the flow a process declaration names as "module:function"."""
    module, _, name = entrypoint.partition(":")
    flow = getattr(importlib.import_module(module), name, None)
    if not isinstance(flow, Flow):
        raise InputError(f"{entrypoint} is not a Prefect flow: check the process's declaration")
    return flow

"""Every deployment the project defines, in one list: served locally by `safeguard serve`
(deployments/serve.py) and registered on a work pool by deployments/prefect.yaml.
"""

from dataclasses import dataclass, field
from typing import Any

from prefect import Flow

from flows.allegation import allegation
from flows.selfcheck import selfcheck
from flows.sweep import sweep

DEPLOYMENT_NAME = "safeguard"


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


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        flow=allegation,
        entrypoint="flows/allegation.py:allegation",
        tags=("allegation",),
        description="One allegation case (LADO process) from initial consideration to closure.",
    ),
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

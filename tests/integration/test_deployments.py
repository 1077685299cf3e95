"""deployments/prefect.yaml registers the same deployments that `safeguard serve` serves."""

from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

from deployments import DEPLOYMENT_NAME, DEPLOYMENTS

ROOT = Path(__file__).resolve().parents[2]


def test_prefect_yaml_matches_the_served_deployments(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)  # prefect.yaml entry points are relative to the project root
    config = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
    registered = {(d["name"], d["entrypoint"]) for d in config["deployments"]}
    assert registered == {(DEPLOYMENT_NAME, spec.entrypoint) for spec in DEPLOYMENTS}
    for spec in DEPLOYMENTS:
        assert load_flow_from_entrypoint(spec.entrypoint).name == spec.flow.name
    for deployment in config["deployments"]:
        assert deployment["work_pool"]["name"] == "safeguard"

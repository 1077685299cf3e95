"""deployments/prefect.yaml registers the same deployments that `safeguard serve` serves."""

from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

from deployments import deployments
from safeguard.orchestration import DEPLOYMENT_NAME
from safeguard.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


def test_prefect_yaml_matches_the_served_deployments(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)  # prefect.yaml entry points are relative to the project root
    config = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
    registered = {(d["name"], d["entrypoint"]) for d in config["deployments"]}
    specs = deployments(get_settings())
    assert registered == {(DEPLOYMENT_NAME, spec.entrypoint) for spec in specs}
    for spec in specs:
        assert load_flow_from_entrypoint(spec.entrypoint).name == spec.flow.name
    for deployment in config["deployments"]:
        assert deployment["work_pool"]["name"] == "safeguard"


def test_the_sweep_is_served_on_its_schedule(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from deployments.serve import runner_deployment

    monkeypatch.setenv("SAFEGUARD_SWEEP_EVERY_MINUTES", "7")
    specs = deployments(get_settings())
    [sweep] = [spec for spec in specs if spec.flow.name == "sweep"]
    served = runner_deployment(sweep)
    [schedule] = served.schedules or []
    assert schedule.schedule.interval == timedelta(minutes=7)  # type: ignore[union-attr]
    assert runner_deployment(sweep, schedules=False).schedules in (None, [])
    others = [runner_deployment(s) for s in specs if s.flow.name != "sweep"]
    assert all(not d.schedules for d in others)  # cases run when started, never on a schedule
    config = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
    [registered] = [d for d in config["deployments"] if d["entrypoint"] == sweep.entrypoint]
    assert registered["schedules"] == [{"interval": 900}]

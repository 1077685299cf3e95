"""`safeguard policy`: the clock policy in force, with its sources; checking an override file."""

from pathlib import Path

import typer
from rich.table import Table

from models import registry
from models.policy import StepPolicy, load_policy
from safeguard import wiring
from safeguard.cli.common import console, print_json
from safeguard.settings import get_settings

app = typer.Typer(
    help="Clock policy: deadlines, reminders, escalation ladders and their sources.",
    no_args_is_help=True,
)


@app.command()
def show(
    process: str | None = typer.Argument(
        None, help="One process, by its code (as the policy names it)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Print the effective policy (England defaults plus the authority's override) with sources."""
    policy = wiring.policy(get_settings())
    chosen = policy.processes
    if process:
        found = policy.process(process)  # refuses an unknown name, listing the processes
        chosen = {process: found}
    if as_json:
        data = policy.model_dump(mode="json")
        data["processes"] = {k: v.model_dump(mode="json") for k, v in chosen.items()}
        for key, proc in chosen.items():  # the calendar each clock counts on, defaults resolved
            for name, step in proc.steps.items():
                data["processes"][key]["steps"][name]["calendar"] = (
                    "local" if step.local_days else "legal"
                )
        print_json(data)
        return
    out = console()
    out.print(
        f"Policy: {policy.policy.name} ({policy.policy.revision}); read from {', '.join(policy.files)}"
    )
    closures = ", ".join(f"{c.date} {c.name}" for c in policy.calendar.closures) or "none"
    out.print(f"Local closure days: {closures}")
    out.print(
        f"Rationale due {policy.rationale.due} after a decision recorded without it "
        f"({policy.rationale.confidence.value}); notices to be acknowledged within "
        f"{policy.notices.acknowledge_within} ({policy.notices.confidence.value})."
    )
    for label, rungs, confidence in (
        ("A decision without rationale", policy.rationale.escalation, policy.rationale.confidence),
        ("An overdue action", policy.actions.escalation, policy.actions.confidence),
    ):
        ladder = "; ".join(f"+{r.after}: {', '.join(r.notify)}" for r in rungs)
        out.print(f"{label} goes up: {ladder} ({confidence.value})")
    for key, proc in chosen.items():
        if proc.on_start_notify:
            out.print(
                f"[{key}] a new case is told, for information, to: {', '.join(proc.on_start_notify)}"
            )
        if proc.action_escalation:
            ladder = "; ".join(f"+{r.after}: {', '.join(r.notify)}" for r in proc.action_escalation)
            out.print(f"[{key}] an overdue action goes up its own ladder: {ladder}")
        table = Table(
            "step",
            "due",
            "counts from",
            "owner",
            "reminders",
            "escalation",
            "conf.",
            "source",
            title=f"{proc.title} [{key}]",
            show_lines=True,
            expand=True,
        )
        for name, step in proc.steps.items():
            table.add_row(
                f"{name}\n({step.ref})",
                _due(step),
                step.counts_from,
                step.owner.value,
                ", ".join(f"{r} before" for r in step.reminders) or "-",
                _ladder(step),
                step.confidence.value,
                step.source,
            )
        out.print(table)


@app.command()
def check(file: Path = typer.Argument(..., help="The authority's override file (TOML).")) -> None:
    """Validate an override file against the England defaults (exit 0 if usable, 2 if not)."""
    settings = get_settings()
    wiring.processes(settings)
    policy = load_policy(file, registry.policy_files())
    registry.check_policy(policy)
    closures = len(policy.calendar.closures)
    print(
        f"ok: {file} is a valid override ({closures} local closure day{'s' if closures != 1 else ''} in force)"
    )


def _due(step: StepPolicy) -> str:
    text = str(step.due)
    text += "\n(local closures count)" if step.local_days else "\n(legal working days)"
    if step.measured_only:
        text += "\n(measured only)"
    if step.window:
        text += "\n(the person's own window: never chased)"
    if step.unscheduled:
        text += "\n(recorded if it happens: never due)"
    if step.late_needs_reason:
        text += "\n(after its due day only with the reason)"
    if step.approver_roles:
        text += "\napproved by: " + ", ".join(step.approver_roles)
    elif step.approver:
        text += f"\napproved by: {step.approver} or more senior"
    if step.repeats:
        text += "\n(repeats)"
    if step.extendable_to:
        text += f"\nextendable to {step.extendable_to} ({step.extension_approver})"
    if step.targets:
        text += "\ntargets: " + ", ".join(map(str, step.targets))
    if step.stoppable:
        text += f"\nstoppable by {step.stop_approver}; reviewed after {step.stop_review_first}, then every {step.stop_review_every}"
    if step.panel_required_for:
        text += "\npanel required for: " + ", ".join(step.panel_required_for)
    return text


def _ladder(step: StepPolicy) -> str:
    lines = [f"+{rung.after}: {', '.join(rung.notify)}" for rung in step.escalation]
    if step.late_notify:
        lines.append(f"recorded late: told {', '.join(step.late_notify)}")
    if step.done_notify:
        lines.append(f"done: told {', '.join(step.done_notify)} (information)")
    return "\n".join(lines) or "-"

"""Follow-up commands: the rationale of a decision, and an action's status between meetings."""

from zoneinfo import ZoneInfo

import typer

from models import followup
from models.db import session_scope
from models.wallclock import system_clock
from safeguard import wiring
from safeguard.cli.common import MAX_ID, console, parse_day
from safeguard.settings import get_settings

action_app = typer.Typer(help="Actions agreed at meetings.", no_args_is_help=True)


def rationale(
    decision_id: int = typer.Argument(..., metavar="DECISION_ID", min=1, max=MAX_ID),
    text: str = typer.Option(..., "--text", help="Why the decision was made."),
    author: str = typer.Option(..., "--as", help="Your staff id."),
) -> None:
    """Add the rationale of a decision (append-only: a correction is another entry)."""
    settings = get_settings()
    with session_scope(wiring.engine(settings)) as session:
        followup.add_rationale(
            session=session,
            decision_id=decision_id,
            text=text,
            author_id=author,
            now=system_clock(),
        )
    console().print(f"rationale recorded for decision {decision_id}")


@action_app.command("update")
def update_action(
    action_id: int = typer.Argument(..., metavar="ACTION_ID", min=1, max=MAX_ID),
    status: str = typer.Option(..., "--status", help="done, not_needed or carried_forward."),
    author: str = typer.Option(..., "--as", help="Your staff id."),
    reason: str | None = typer.Option(None, "--reason", help="Why (needed unless done)."),
    due: str | None = typer.Option(None, "--due", help="The new due date (carried_forward)."),
) -> None:
    """Update an action: its owner, their line managers, or the process's overseer (a LADO manager)."""
    settings = get_settings()
    engine, policy, calendar = wiring.casework(settings)
    with session_scope(engine) as session:
        action = followup.update_action(
            session=session,
            policy=policy,
            calendar=calendar,
            action_id=action_id,
            status=status,
            reason=reason,
            new_due=parse_day(due, ZoneInfo(settings.timezone), "--due") if due else None,
            author_id=author,
            now=system_clock(),
        )
    console().print(f"action {action_id}: {action.status.value}, due {action.due_on}")

"""Follow-up commands: the rationale of a decision, and an action's status between meetings."""

from zoneinfo import ZoneInfo

import typer

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
    with wiring.casework(get_settings()) as cx:
        cx.add_rationale(decision_id, text, author)
    console().print(f"rationale recorded for decision {decision_id}")


@action_app.command("update")
def update_action(
    action_id: int = typer.Argument(..., metavar="ACTION_ID", min=1, max=MAX_ID),
    status: str = typer.Option(
        ..., "--status", help="done, not_needed, carried_forward or transferred."
    ),
    author: str = typer.Option(..., "--as", help="Your staff id."),
    reason: str | None = typer.Option(None, "--reason", help="Why (needed unless done)."),
    due: str | None = typer.Option(None, "--due", help="The new due date (carried_forward)."),
    to_case: str | None = typer.Option(
        None, "--to-case", help="The case that carries it on (transferred)."
    ),
) -> None:
    """Update an action: its owner, their line managers, or the process's overseer (a LADO manager)."""
    settings = get_settings()
    new_due = parse_day(due, ZoneInfo(settings.timezone), "--due") if due else None
    with wiring.casework(settings) as cx:
        action = cx.update_action(
            action_id, status, author, reason=reason, new_due=new_due, to_case=to_case
        )
    console().print(f"action {action_id}: {action.status.value}, due {action.due_on}")

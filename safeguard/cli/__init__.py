"""`safeguard`: the command line. Every bad input gets one line on stderr and exit status 2."""

import importlib
import sys
from contextlib import suppress

import typer
from sqlalchemy import exc as sa_exc

from models import registry
from models.db import Unreachable, database_message
from models.errors import FieldErrors, InputError
from safeguard import wiring
from safeguard.cli import (
    calendar,
    cases,
    clocks,
    db,
    doctor,
    followup,
    notices,
    policy,
    records,
    report,
    service,
    staff,
)
from safeguard.cli.common import visible
from safeguard.settings import get_settings

app = typer.Typer(
    name="safeguard",
    help="Allegations, placement disruptions and complaints run as timed, audited processes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(calendar.app, name="calendar")
app.add_typer(policy.app, name="policy")
app.add_typer(staff.app, name="staff")
app.add_typer(db.app, name="db")
app.add_typer(db.audit_app, name="audit")
app.command("start")(cases.start)
app.add_typer(cases.case_app, name="case")
app.add_typer(followup.action_app, name="action")
app.command("record")(cases.record)
app.command("rationale")(followup.rationale)
app.command("status")(cases.status)
app.command("sweep")(notices.sweep)
app.command("notices")(notices.notices)
app.command("ack")(notices.ack)
app.add_typer(clocks.app, name="clock")
app.add_typer(report.app, name="report")
app.add_typer(records.child_app, name="child")
app.add_typer(records.carer_app, name="carer")
app.command("serve")(service.serve)
app.command("web")(service.web)
app.command("demo")(service.demo)
app.command("doctor")(doctor.doctor)


def add_process_commands() -> None:
    """Add each process's own commands (`safeguard allegation start` ...), named by its declaration
    (`ProcessDecl.cli`), once: the installed processes', and those SAFEGUARD_PROCESSES names (a
    module that cannot be loaded is reported by the commands that need it, as always)."""
    with suppress(InputError):
        wiring.processes(get_settings())
    for decl in registry.processes():
        if decl.cli and decl.code not in _added:
            module, _, name = decl.cli.partition(":")
            app.add_typer(
                getattr(importlib.import_module(module), name), name=decl.command or decl.code
            )
            _added.add(decl.code)
        if decl.figures and f"report:{decl.code}" not in _added:  # `safeguard report NAME`
            report.add_figures(decl.report_name, decl.figures_title or decl.code)
            _added.add(f"report:{decl.code}")


_added: set[str] = set()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 bad input)."""
    add_process_commands()
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="safeguard", standalone_mode=False)
    except Unreachable as exc:
        _fail(str(exc))
        return 1
    except InputError as exc:
        _fail(in_cli_words(exc))
        return 2
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        said = database_message(exc)
        if "database is locked" in said:  # SQLite: another writer held it past busy_timeout
            _fail("the database is busy: other writes held it for more than a minute; nothing was changed: try again")  # fmt: skip
        else:
            _fail(f"cannot reach the database: {said}; check SAFEGUARD_DATABASE_URL")
        return 1
    except sa_exc.SQLAlchemyError as exc:
        # Caught at the edge and told without the statement or its values (DESIGN rule 2).
        _fail(f"the database refused this: {database_message(exc)}; nothing was changed")
        return 2
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except typer.Abort:
        return 130
    except typer.TyperException as exc:  # usage errors from typer's own click: one line, exit 2
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "safeguard"
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _fail(f"{message} (see '{where} --help')")
        return 2
    return result if isinstance(result, int) else 0


# A service names the field it refuses (`at`, `key`, `late_reason`): the CLI says its option instead,
# `--` and the field's name with dashes, except where the option is named otherwise.
OPTION_OF = {"new_due": "--due"}


def in_cli_words(refused: InputError) -> str:
    """Return a refusal as the CLI says it: a field a service named becomes the option the user
    typed ("at 2026-11-03 10:00 is in the future" -> "--at 2026-11-03 10:00 is in the future")."""
    if isinstance(refused, FieldErrors) and refused.arguments and refused.fields:
        field, message = refused.fields[0]
        option = OPTION_OF.get(field, "--" + field.replace("_", "-"))
        return f"{option}{refused.sep}{message}"
    return str(refused)


def _fail(message: str) -> None:
    message = visible(message.replace("Value error, ", ""))
    print("error: " + " ".join(message.split()), file=sys.stderr)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

"""`safeguard doctor`: is this installation set up right? Each check one line: ok, or what to fix.
Nothing is changed, except a test notice sent to one person when asked (`--send-to`)."""

from dataclasses import dataclass

import typer
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.db import current_revision, database_message, head_revision, make_engine
from models.errors import InputError
from models.staff import mask_address
from models.tables import Staff, StaffAddress
from notifications.addresses import check_address
from notifications.channels import send_with_apprise
from notifications.delivery import send_to_addresses
from notifications.notify import NotifyChannel, is_notify
from safeguard import orchestration, wiring
from safeguard.cli.common import console, print_json
from safeguard.settings import Settings, get_settings
from web.oidc import ProviderError
from web.service import provider_of


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    said: str


def doctor(
    send_to: str | None = typer.Option(
        None, "--send-to", metavar="STAFF_ID", help="Also send this person a test notice."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Check the settings: the database and its migrations, the clock policy, every staff address,
    the Prefect API, the web address; exit 1 if anything needs fixing."""
    settings = get_settings()
    found: list[Finding] = []
    engine = make_engine(settings.database)
    try:
        revision = current_revision(engine)
    except InputError as exc:
        found.append(Finding("database", False, str(exc)))
        revision = None
    else:
        found.append(Finding("database", True, engine.url.render_as_string(hide_password=True)))
        current = revision == head_revision()
        found.append(Finding("migrations", current, "current" if current else f"at {revision or 'nothing'}, not {head_revision()}: run 'safeguard db upgrade'"))  # fmt: skip
    try:
        wiring.policy(settings)
        found.append(Finding("clock policy", True, "loads" + (f" with {settings.policy_file}" if settings.policy_file else "")))  # fmt: skip
    except InputError as exc:
        found.append(Finding("clock policy", False, str(exc)))
    if revision == head_revision():
        found += _addresses(engine, send_to, wiring.notify_channel(settings))
    try:
        found.append(Finding("Prefect API", True, orchestration.check_api(settings)))
    except InputError as exc:
        found.append(Finding("Prefect API", False, str(exc)))
    found += _sign_in(settings, engine if revision == head_revision() else None)
    unset = "not set: notices link to http://127.0.0.1; set SAFEGUARD_WEB_URL to the address people reach"  # fmt: skip
    found.append(Finding("web address", bool(settings.web_url), settings.web_url or unset))
    if as_json:
        print_json([f.__dict__ for f in found])
    else:
        table = Table("check", "", "what was found, or what to fix", title="safeguard doctor")
        for f in found:
            table.add_row(f.check, "ok" if f.ok else "FIX", f.said)
        console().print(table)
    if not all(f.ok for f in found):
        raise typer.Exit(1)


def _sign_in(settings: Settings, engine: Engine | None) -> list[Finding]:
    """With the council's identity provider on: it answers, and who cannot sign in through it."""
    provider = provider_of(settings)
    if provider is None:
        return [Finding("sign-in", True, "with a password (SAFEGUARD_SIGN_IN=password)")]
    try:
        found = [Finding("identity provider", True, provider.check())]
    except ProviderError as failed:
        said = f"{settings.oidc_issuer}: {failed.reason}; check SAFEGUARD_OIDC_ISSUER"
        found = [Finding("identity provider", False, said)]
    if engine is not None and settings.sign_in == "oidc":
        with Session(engine) as session:
            unlinked = session.exec(
                select(Staff.id).where(col(Staff.active), col(Staff.sign_in_id).is_(None))
            ).all()
        said = f"{len(unlinked)} cannot sign in (no sign-in id): {', '.join(unlinked[:10])}"
        if len(unlinked) > 10:
            said += ", ..."
        found.append(Finding("sign-in ids", not unlinked, said if unlinked else "everyone has one"))  # fmt: skip
    return found


def _addresses(engine: Engine, send_to: str | None, notify: NotifyChannel | None) -> list[Finding]:
    """Every active person's addresses parse (each named masked); a test notice on request."""
    found: list[Finding] = []
    try:
        with Session(engine) as session:
            people = session.exec(select(Staff.id).where(col(Staff.left_on).is_(None))).all()
            addresses = session.exec(select(StaffAddress.staff_id, StaffAddress.url)).all()
    except Exception as exc:
        return [Finding("staff addresses", False, database_message(exc))]
    by_person: dict[str, list[str]] = {}
    for staff_id, url in addresses:
        by_person.setdefault(staff_id, []).append(url)
    bad = []
    for staff_id in people:
        urls = by_person.get(staff_id, [])
        if not urls:
            bad.append(f"{staff_id} has no address")
        for url in urls:
            try:
                check_address(url)
            except InputError:
                bad.append(f"{staff_id}: {mask_address(url)} does not parse")
    said = f"{len(people)} active people, every address parses" if not bad else "; ".join(bad[:10])
    found.append(Finding("staff addresses", not bad, said))
    notified = sorted({s for s, u in addresses if s in people and is_notify(u)})
    if notified and notify is None:
        said = f"{len(notified)} people have GOV.UK Notify addresses ({', '.join(notified[:5])}) but SAFEGUARD_NOTIFY_API_KEY is not set"  # fmt: skip
        found.append(Finding("GOV.UK Notify", False, said))
    elif notify is not None:
        found.append(Finding("GOV.UK Notify", True, f"{notify.settings.base_url}: {len(notify.settings.templates)} template(s) mapped"))  # fmt: skip
    if send_to:
        urls = by_person.get(send_to, [])
        text = "A test notice from 'safeguard doctor': nothing to do."
        sent, _ = send_to_addresses(
            urls, sender=send_with_apprise, notify=notify, kind="doctor",
            subject="Safeguard: a test notice", text=text, html=f"<p>{text}</p>",
        )  # fmt: skip
        ok = bool(sent.delivered)
        found.append(Finding(f"test notice to {send_to}", ok, "delivered" if ok else "; ".join(sent.errors) or "not delivered"))  # fmt: skip
    return found

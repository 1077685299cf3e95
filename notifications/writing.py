"""Writing the notices due to the outbox (DESIGN rule 7): each with its recipients (who is who in
its case, and the staff directory), its bodies rendered once it has its id, and its deliveries,
in one transaction. An insert that meets an existing key does nothing, so two sweeps at once write
each notice once.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import registry
from models.calendar import WorkingCalendar
from models.cases import parties_of
from models.cases.parties import CaseParties
from models.db import dialect_insert, in_chunks
from models.enums import Role
from models.escalation import Directory, DueNotice, Kind, resolve
from models.policy import Policy
from models.tables import Case, Notice, NoticeDelivery, Staff, StaffAddress, StaffRole
from models.wallclock import Clock, system_clock
from notifications.ack_links import ack_path
from notifications.render import render


def load_directory(session: Session) -> Directory:
    """Return the staff directory: line managers of everyone, roles and addresses of the active."""
    managers = dict(session.exec(select(Staff.id, Staff.line_manager_id)).all())
    active = set(session.exec(select(Staff.id).where(col(Staff.active).is_(True))).all())
    roles: dict[str, set[Role]] = {s: set() for s in active}
    for staff_id, role in session.exec(select(StaffRole.staff_id, StaffRole.role)).all():
        if staff_id in roles:
            roles[staff_id].add(Role(role))
    addresses: dict[str, list[str]] = {}
    for staff_id, url in session.exec(
        select(StaffAddress.staff_id, StaffAddress.url).order_by(col(StaffAddress.id))
    ).all():
        addresses.setdefault(staff_id, []).append(url)
    return Directory(
        managers=managers,
        roles={s: frozenset(r) for s, r in roles.items()},
        addresses={s: tuple(u) for s, u in addresses.items()},
    )


@dataclass(frozen=True)
class CaseInfo:
    parties: CaseParties
    process: str  # its process's code: the notice names the process by its title


def load_cases(session: Session, case_ids: Iterable[int]) -> dict[int, CaseInfo]:
    """Return who is who in each case (its parties) and its process, for the notices."""
    ids = sorted(set(case_ids))
    info: dict[int, CaseInfo] = {}
    for chunk in in_chunks(ids):
        parties = parties_of(session, chunk)
        for case_id, process in session.exec(
            select(Case.id, Case.process).where(col(Case.id).in_(chunk))
        ).all():
            info[case_id or 0] = CaseInfo(parties[case_id or 0], process)
    return info


def names_of(session: Session, staff_ids: Iterable[str]) -> dict[str, str]:
    """Return each person's name (a notice names the people who must act, never their ids)."""
    names: dict[str, str] = {}
    for chunk in in_chunks(sorted(set(staff_ids))):
        names.update(
            session.exec(select(Staff.id, Staff.name).where(col(Staff.id).in_(chunk))).all()
        )
    return names


@dataclass
class Written:
    notice_id: int | None  # None in a dry run
    key: str
    kind: str
    reference: str
    recipients: list[str]
    unfilled: list[str]


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in in_chunks(list(keys)):
        found.update(session.exec(select(Notice.key).where(col(Notice.key).in_(chunk))).all())
    return found


def write_notices(
    session: Session,
    due: Sequence[DueNotice],
    *,
    policy: Policy,
    calendar: WorkingCalendar,
    directory: Directory,
    cases: dict[int, CaseInfo],
    now: datetime,
    web_url: str | None,
    dry_run: bool = False,
    clock: Clock = system_clock,
) -> list[Written]:
    """Write each due notice with its deliveries; a key already written is left alone. Its
    deliveries may be sent from the real moment they are written (`clock()`). Each links to its
    case's page in the web app at `web_url` (and, asking to be acknowledged, to its acknowledgement:
    each delivery gets its own one-click link as it is sent, notifications/ack_links.py)."""
    ready = clock()
    written: list[Written] = []
    ack_within = policy.notices.acknowledge_within
    ack_due = calendar.end_of_day(calendar.due(now, ack_within).due)
    insert = dialect_insert(session)
    bodies: list[dict[str, Any]] = []  # rendered once the notice has its id; written in one batch
    resolved = [
        (notice, resolve(notice, cases[notice.case_id].parties, directory)) for notice in due
    ]
    names = {} if dry_run else names_of(session, (p for _, r in resolved for p in r.people))
    web = web_url.rstrip("/") if web_url else None
    for notice, recipients in resolved:
        info = cases[notice.case_id]
        people = sorted(recipients.people.items())
        if notice.kind is Kind.unacknowledged and not people:
            # The top of the line-management chain: nobody further up to tell, and never anyone
            # below. The notice waits no longer; the case page says it stopped there.
            if not dry_run:
                _stopped_at_the_top(session, int(notice.facts["notice_id"]))
            continue
        if notice.kind is Kind.information and not people:
            continue  # nobody to inform (no child in the case): nothing to write
        if dry_run:
            written.append(
                Written(
                    None,
                    notice.key,
                    notice.kind.value,
                    notice.reference,
                    [p for p, _ in people],
                    list(recipients.unfilled),
                )
            )
            continue
        values = {
            "key": notice.key,
            "case_id": notice.case_id,
            "kind": notice.kind.value,
            "clock": notice.clock,
            "matter": notice.matter or notice.clock,
            "rung": notice.rung,
            "due_at": notice.due_at,
            "created_at": now,
            "subject": "",
            "body_text": "",
            "body_html": "",
            "detail": {**notice.facts, "unfilled": list(recipients.unfilled)},
            "ack_due_at": ack_due if notice.kind.needs_acknowledgement and people else None,
        }
        statement = (
            insert(Notice)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(Notice.__table__.c.id)  # type: ignore[attr-defined]
        )
        notice_id = session.execute(statement).scalar()
        if notice_id is None:  # another sweep wrote it first
            continue
        text = render(
            notice_id=notice_id,
            key=notice.key,
            kind=notice.kind,
            reference=notice.reference,
            rung=notice.rung,
            clock=notice.clock,
            facts=notice.facts,
            recipients=[(names.get(p, p), ", ".join(why)) for p, why in people],
            unfilled=recipients.unfilled,
            ack_within=str(ack_within),
            link=f"{web}/cases/{notice.reference}" if web else None,
            ack_link=f"{web}{ack_path(notice_id)}" if web else None,
            process=policy.process(info.process).title,
            take_up=_taken_up(notice, web),
        )
        bodies.append({"nid": notice_id, "s": text.subject[:300], "t": text.text, "h": text.html})
        session.add_all(
            NoticeDelivery(
                notice_id=notice_id,
                staff_id=person,
                because=", ".join(why)[:200],
                next_attempt_at=ready,
            )
            for person, why in people
        )
        written.append(
            Written(
                notice_id,
                notice.key,
                notice.kind.value,
                notice.reference,
                [p for p, _ in people],
                list(recipients.unfilled),
            )
        )
    if bodies:
        table = Notice.__table__  # type: ignore[attr-defined]
        session.execute(
            table.update()
            .where(table.c.id == sa.bindparam("nid"))
            .values(
                subject=sa.bindparam("s"), body_text=sa.bindparam("t"), body_html=sa.bindparam("h")
            ),
            bodies,
        )
    session.flush()
    return written


def _stopped_at_the_top(session: Session, notice_id: int) -> None:
    """Mark a notice whose recipients have nobody above them: its acknowledgement clock stops."""
    notice = session.get(Notice, notice_id)
    if notice is not None and notice.ack_due_at is not None:
        notice.ack_due_at = None
        notice.detail = {**notice.detail, "nobody_above": True}
        session.add(notice)


def take_up_path(reference: str, what: str, item_id: int) -> str:
    """The page that starts another process about a case's action or decision (models/process.py:
    `take_up`), its form filled in: a path carrying ids only, never the item's words."""
    return f"/cases/{reference}/take-up/{what}/{item_id}"


def _taken_up(notice: DueNotice, web: str | None) -> tuple[str, str] | None:
    """What a notice at the top of its ladder offers (e.g. "Challenge this") and its link, where a
    process takes such things up; None otherwise."""
    taker = registry.taking_up()
    if not (web and taker and notice.facts.get("top_rung")):
        return None
    if notice.kind is Kind.action_overdue:
        path = take_up_path(notice.reference, "action", notice.facts["action_id"])
    else:
        path = take_up_path(notice.reference, "decision", notice.facts["decision_id"])
    return taker.take_up_words, f"{web}{path}"

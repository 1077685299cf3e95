"""The staff directory: who people are, their roles, their line manager and where notices reach them.

Service functions take a session and the moment (`now`); they check everything before writing, so
bad input changes nothing. A whole team is imported in one transaction: all rows or none.
Addresses are validated here (not at 3 a.m. during a sweep) and only ever leave masked.
"""

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from models import audit
from models.enums import Role, role_list
from models.errors import InputError
from models.tables import Staff, StaffAddress, StaffRole

StaffId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
ID_RULE = "lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64"


class NewStaff(BaseModel):
    """A person to add, as given on the command line or in an import file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: StaffId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    roles: tuple[Role, ...] = Field(min_length=1)
    line_manager: StaffId | None = None
    addresses: tuple[Annotated[str, Field(max_length=2000)], ...] = ()
    independent: bool = False  # external to the authority (RPR 2006 reg 2)
    # who the council's identity provider says they are (models/single_sign_on.py)
    sign_in_id: Annotated[str, Field(max_length=320)] | None = None

    @field_validator("sign_in_id")
    @classmethod
    def _sign_in_id(cls, value: str | None) -> str | None:
        return check_sign_in_id(value) if value is not None else None

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a name cannot be blank")
        if "\x00" in value:
            raise ValueError("a name cannot contain a NUL character (\\u0000)")
        return value.strip()

    @field_validator("roles", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v for v in value.replace(",", " ").replace(";", " ").split() if v]
        if not isinstance(value, list | tuple):
            raise ValueError(
                f"give the roles as a list of names or one line of names, not {type(value).__name__}"
            )
        for v in value:
            if not isinstance(v, str) or v not in Role.__members__:
                raise ValueError(f"{v!r} is not a role; roles: {role_list()}")
        return tuple(dict.fromkeys(value))

    @field_validator("addresses", mode="before")
    @classmethod
    def _addresses(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str):
            value = value.split()
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError("give the addresses as a list of Apprise URLs or one line of them")
        return value

    @field_validator("addresses")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def check_sign_in_id(value: str) -> str | None:
    """A sign-in id as kept (trimmed, lower-case; None if blank), or ValueError saying why not."""
    kept = value.strip().lower()
    if any(c.isspace() or not c.isprintable() for c in kept):
        raise ValueError(
            "a sign-in id is one word, as the identity provider gives it (an email, a user name "
            "or an object id), with no spaces"
        )
    return kept or None


def mask_address(url: str) -> str:
    """Return an address with its secret part hidden: the scheme and a short fingerprint only."""
    fingerprint = hashlib.sha256(url.encode()).hexdigest()[:6]
    if url.lower().startswith(("notify-email:", "notify-sms:")):  # GOV.UK Notify
        return f"{url.split(':', 1)[0].lower()}:…#{fingerprint}"
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    return f"{scheme}://…#{fingerprint}"


@dataclass(frozen=True)
class StaffView:
    """A person as shown to users: addresses masked, never in full."""

    id: str
    name: str
    roles: tuple[Role, ...]
    line_manager_id: str | None
    addresses: tuple[str, ...]  # masked
    active: bool
    left_on: date | None = None
    independent: bool = False
    sign_in_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "roles": [r.value for r in self.roles],
            "line_manager": self.line_manager_id,
            "addresses": list(self.addresses),
            "active": self.active,
            "left_on": self.left_on.isoformat() if self.left_on else None,
            "independent": self.independent,
            "sign_in_id": self.sign_in_id,
        }


def new_staff(where: str = "", **fields: Any) -> NewStaff:
    """Return a validated NewStaff, or raise InputError naming the field (and `where` it came from)."""
    try:
        return NewStaff.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "entry"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "string_pattern_mismatch":
            message = f"{error['input']!r} is not a valid staff id ({ID_RULE})"
        elif error["type"] == "extra_forbidden":
            message = f"is not a field; fields: {', '.join(CSV_COLUMNS)}"
        elif error["type"] == "missing":
            message = "is required"
        prefix = f"{where}: " if where else ""
        raise InputError(f"{prefix}{field}: {message}") from None


def add_staff(
    *,
    session: Session,
    people: Sequence[NewStaff],
    check_address: Callable[[str], str],
    now: datetime,
    actor_id: str | None = None,
) -> list[str]:
    """Add these people (one, or a whole team) in the session's transaction; return their ids.

    Checks first, writes after: ids must be new and unique, line managers must exist already or be
    in the same batch, nobody may end up managing themselves through a chain, and every address
    must be one the notifier can deliver to (`check_address` raises InputError otherwise).
    """
    for person in people:
        for url in person.addresses:
            try:
                check_address(url)
            except InputError as exc:
                raise InputError(f"staff {person.id!r}: {exc}") from None
    ids = [p.id for p in people]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise InputError(f"staff id listed more than once: {', '.join(repeated)}")
    existing = set(session.exec(select(Staff.id).where(col(Staff.id).in_(ids))).all())
    if existing:
        raise InputError(
            f"staff id already exists: {', '.join(sorted(existing))}; "
            "choose another id (use 'safeguard staff show ID' to see who has it)"
        )
    managers = {p.line_manager for p in people if p.line_manager} - set(ids)
    known = set(session.exec(select(Staff.id).where(col(Staff.id).in_(managers))).all())
    unknown = sorted(managers - known)
    if unknown:
        raise InputError(
            f"line manager not in the directory: {', '.join(unknown)}; add them first or in the same import"
        )
    _refuse_cycles({p.id: p.line_manager for p in people})
    _refuse_shared_sign_in_ids(session, [(p.id, p.sign_in_id) for p in people if p.sign_in_id])

    # Managers before the people they manage, so the foreign key holds at every insert.
    for person in _managers_first(people):
        session.add(
            Staff(
                id=person.id,
                name=person.name,
                line_manager_id=person.line_manager,
                created_at=now,
                independent=person.independent,
                sign_in_id=person.sign_in_id,
            )
        )
        session.flush()
        session.add_all(StaffRole(staff_id=person.id, role=r) for r in person.roles)
        session.add_all(
            StaffAddress(staff_id=person.id, url=u, added_at=now) for u in person.addresses
        )
        audit.record(
            session,
            at=now,
            actor_id=actor_id,
            action="staff.add",
            entity="staff",
            entity_id=person.id,
            detail={
                "roles": [r.value for r in person.roles],
                "line_manager": person.line_manager,
                "addresses": len(person.addresses),
            },
        )
    session.flush()
    return ids


def set_sign_in_id(
    session: Session, *, staff_id: str, value: str | None, now: datetime, actor_id: str | None
) -> None:
    """Link a person to who the council's identity provider says they are (or unlink them with
    None), in the audit log; no one else may have the same sign-in id."""
    person = session.get(Staff, staff_id)
    if person is None:
        raise InputError(f"no staff member with id {staff_id!r}; see 'safeguard staff list'")
    try:
        kept = check_sign_in_id(value) if value is not None else None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if kept is not None and len(kept) > 320:
        raise InputError(f"a sign-in id has at most 320 characters; this one has {len(kept)}")
    if kept:
        _refuse_shared_sign_in_ids(session, [(staff_id, kept)])
    person.sign_in_id = kept
    session.add(person)
    audit.record(
        session,
        at=now,
        actor_id=actor_id,
        action="staff.sign_in_id",
        entity="staff",
        entity_id=staff_id,
        detail={"linked": kept is not None},
    )


def _refuse_shared_sign_in_ids(session: Session, given: list[tuple[str, str]]) -> None:
    """Refuse a sign-in id given twice, or one someone else already has (it must name one person)."""
    values = [value for _, value in given]
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise InputError(f"sign-in id given to more than one person: {', '.join(twice)}")
    ids = [staff_id for staff_id, _ in given]
    taken = session.exec(
        select(Staff.id, Staff.sign_in_id).where(
            func.lower(col(Staff.sign_in_id)).in_(values), col(Staff.id).not_in(ids)
        )
    ).all()
    if taken:
        owner, value = taken[0]
        raise InputError(
            f"sign-in id {value} already belongs to {owner}: one sign-in id names one person "
            f"('safeguard staff show {owner}' shows them)"
        )


def get_staff(session: Session, staff_id: str) -> StaffView:
    """Return one person, or raise InputError when the id is unknown."""
    views = _views(session, [staff_id])
    if not views:
        raise InputError(f"no staff member with id {staff_id!r}; see 'safeguard staff list'")
    return views[0]


def list_staff(session: Session, role: Role | None = None) -> list[StaffView]:
    """Return everyone (or everyone holding `role`), ordered by id."""
    query = select(Staff.id)
    if role is not None:
        query = query.join(StaffRole).where(StaffRole.role == role)
    return _views(session, list(session.exec(query.order_by(Staff.id)).all()))


def names(session: Session) -> dict[str, str]:
    """Return how a page names each person: their name, with their id where two share a name."""
    people = session.exec(select(Staff.id, Staff.name)).all()
    counted = Counter(name for _, name in people)
    return {sid: name if counted[name] == 1 else f"{name} ({sid})" for sid, name in people}


def _views(session: Session, ids: Iterable[str]) -> list[StaffView]:
    ids = list(ids)
    people = session.exec(select(Staff).where(col(Staff.id).in_(ids)).order_by(Staff.id)).all()
    roles: dict[str, list[Role]] = {}
    for staff_id, role in session.exec(
        select(StaffRole.staff_id, StaffRole.role).where(col(StaffRole.staff_id).in_(ids))
    ):
        roles.setdefault(staff_id, []).append(Role(role))
    addresses: dict[str, list[str]] = {}
    for staff_id, url in session.exec(
        select(StaffAddress.staff_id, StaffAddress.url)
        .where(col(StaffAddress.staff_id).in_(ids))
        .order_by(col(StaffAddress.id))
    ):
        addresses.setdefault(staff_id, []).append(mask_address(url))
    return [
        StaffView(
            id=p.id,
            name=p.name,
            roles=tuple(sorted(roles.get(p.id, []), key=list(Role).index)),
            line_manager_id=p.line_manager_id,
            addresses=tuple(addresses.get(p.id, [])),
            active=p.active,
            left_on=p.left_on,
            independent=p.independent,
            sign_in_id=p.sign_in_id,
        )
        for p in people
    ]


def roles_of(session: Session, staff_id: str) -> set[Role]:
    """Return a person's roles, or raise InputError when the id is unknown."""
    if session.get(Staff, staff_id) is None:
        raise InputError(f"no staff member with id {staff_id!r}; see 'safeguard staff list'")
    return {
        Role(r) for r in session.exec(select(StaffRole.role).where(StaffRole.staff_id == staff_id))
    }


def management_chain(session: Session, staff_id: str) -> list[str]:
    """Return the line managers above a person, nearest first."""

    def manager_of(person_id: str) -> str | None:
        person = session.get(Staff, person_id)
        return person.line_manager_id if person else None

    return walk_up(staff_id, manager_of)


def walk_up(staff_id: str, manager_of: Callable[[str], str | None]) -> list[str]:
    """Return the chain of line managers above `staff_id`, nearest first, stopping at a loop."""
    chain: list[str] = []
    manager = manager_of(staff_id)
    while manager and manager not in chain and manager != staff_id:
        chain.append(manager)
        manager = manager_of(manager)
    return chain


def _refuse_cycles(managers: dict[str, str | None]) -> None:
    for start in managers:
        seen = [start]
        current = managers.get(start)
        while current is not None and current in managers:
            if current in seen:
                chain = " -> ".join([*seen[seen.index(current) :], current])
                raise InputError(f"line managers form a loop: {chain}; someone must be at the top")
            seen.append(current)
            current = managers[current]


def _managers_first(people: Sequence[NewStaff]) -> list[NewStaff]:
    by_id = {p.id: p for p in people}
    ordered: list[NewStaff] = []
    placed: set[str] = set()

    def place(person: NewStaff) -> None:
        if person.id in placed:
            return
        if person.line_manager in by_id:
            place(by_id[person.line_manager])
        placed.add(person.id)
        ordered.append(person)

    for person in people:
        place(person)
    return ordered


# --- import files -------------------------------------------------------------------------------

CSV_COLUMNS = ("id", "name", "roles", "line_manager", "addresses", "independent", "sign_in_id")


def read_import_file(path: Path, progress: Callable[[int], None] | None = None) -> list[NewStaff]:
    """Return the people in a CSV or YAML file, or raise InputError naming the row and the field."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read: {exc}") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(text, path)
    elif suffix in (".yaml", ".yml"):
        rows = _yaml_rows(text, path)
    else:
        raise InputError(f"{path}: give a .csv or .yaml file (the extension says which)")
    if not rows:
        raise InputError(f"{path}: has no staff in it")
    people = []
    for where, row in rows:
        people.append(new_staff(f"{path}: {where}", **row))
        if progress:
            progress(1)
    return people


def _csv_rows(text: str, path: Path) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("id", "name", "roles") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        raise InputError(
            f"{path}: the header must name the columns {', '.join(CSV_COLUMNS)} "
            f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'})"
        )
    rows = []
    for number, raw in enumerate(reader, start=2):
        if None in raw:
            raise InputError(
                f"{path}: line {number}: more cells than columns; quote a cell that holds a comma"
            )
        row = {k.strip(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        row = {k: v for k, v in row.items() if v != "" or k in ("id", "name", "roles")}
        rows.append((f"line {number}", row))
    return rows


def _yaml_rows(text: str, path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise InputError(f"{path}: {where}not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if isinstance(data, dict) and set(data) == {"staff"}:
        data = data["staff"]
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise InputError(
            f"{path}: expected a list of people (each with id, name, roles, ...), optionally under 'staff:'"
        )
    return [(f"entry {i}", d) for i, d in enumerate(data, start=1)]

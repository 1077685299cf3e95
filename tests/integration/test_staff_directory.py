"""The staff directory on SQLite and PostgreSQL: checks before writes, all-or-nothing imports,
and addresses that never reach the audit log."""

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models.db import session_scope
from models.enums import Role
from models.errors import InputError
from models.staff import add_staff, get_staff, list_staff
from models.tables import AuditEntry, Staff, StaffAddress
from notifications.addresses import check_address
from tests.builders import T0, accept_any_address, person


def add(engine: Engine, *people, check=accept_any_address) -> list[str]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return add_staff(session=session, people=list(people), check_address=check, now=T0)


def count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_a_team_is_added_with_managers_in_any_order(engine: Engine) -> None:
    add(
        engine,
        person("iro-1", "iro", manager="irom-1"),
        person("irom-1", "iro_manager", manager="hos-1"),
        person("hos-1", "head_of_service"),
    )
    with Session(engine) as session:
        assert [v.id for v in list_staff(session, Role.iro)] == ["iro-1"]
        iro = get_staff(session, "iro-1")
        assert iro.line_manager_id == "irom-1"
        assert len(iro.addresses) == 1 and "s3cret" not in iro.addresses[0]
    assert count(engine, AuditEntry) == 3


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([person("a", "iro"), person("a", "lado")], "listed more than once: a"),
        ([person("b", "iro", manager="nobody")], "line manager not in the directory: nobody"),
        (
            [person("c", "iro", manager="d"), person("d", "iro_manager", manager="c")],
            "line managers form a loop",
        ),
        ([person("e", "iro", manager="e")], "line managers form a loop: e -> e"),
        ([person("f", "iro"), person("existing", "iro")], "staff id already exists: existing"),
    ],
)
def test_a_bad_batch_changes_nothing(engine: Engine, batch: list, message: str) -> None:  # type: ignore[type-arg]
    add(engine, person("existing", "lado"))
    before = (count(engine, Staff), count(engine, AuditEntry), count(engine, StaffAddress))
    with pytest.raises(InputError, match=message):
        add(engine, *batch)
    assert (count(engine, Staff), count(engine, AuditEntry), count(engine, StaffAddress)) == before


def test_an_address_apprise_cannot_parse_is_refused_at_add(engine: Engine) -> None:
    with pytest.raises(InputError, match="staff 'g': notification address slack://") as caught:
        add(
            engine, person("g", "iro", addresses=["slack://not-enough-tokens"]), check=check_address
        )
    assert "not-enough-tokens" not in str(caught.value)
    assert count(engine, Staff) == 0


def test_addresses_never_reach_the_audit_log(engine: Engine) -> None:
    add(engine, person("h", "iro"), check=check_address)
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry)).one()
    assert entry.detail == {"roles": ["iro"], "line_manager": None, "addresses": 1}
    assert "s3cret" not in str(entry.model_dump())

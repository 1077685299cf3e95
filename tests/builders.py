"""Small builders for test data."""

from datetime import UTC, datetime
from typing import Any

from models.staff import NewStaff, new_staff

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
MAIL = "mailto://notices:s3cret-pass@mail.example.org?to={who}@example.org"


def person(staff_id: str, *roles: str, manager: str | None = None, **extra: Any) -> NewStaff:
    """Return a valid NewStaff with a mail address derived from the id."""
    fields: dict[str, Any] = {
        "id": staff_id,
        "name": extra.pop("name", staff_id.replace("-", " ").title()),
        "roles": list(roles) or ["social_worker"],
        "line_manager": manager,
        "addresses": extra.pop("addresses", [MAIL.format(who=staff_id)]),
    }
    return new_staff(**fields, **extra)


def accept_any_address(url: str) -> str:
    """A stand-in for the Apprise check in tests about other rules."""
    return url

"""The retention rule, pure: the later of N years from the start and the day the case asks for;
a record listed for review the policy's span before."""

from datetime import UTC, date, datetime

from models.cases import retain_until
from models.durations import CalendarDays, CalendarMonths
from models.policy import Confidence, RetentionPolicy, load_policy
from models.reports import _back
from models.tables import Case

RULE = RetentionPolicy(
    years=10,
    or_until_pension_age=True,
    review_within=CalendarMonths(3),
    source="KCSIE (L12)",
    confidence=Confidence.medium,
)
CALENDAR = load_policy().working_calendar()


def case(opened: datetime, **details: str) -> Case:
    return Case(reference="ALG-2026-0001", process="allegation", opened_at=opened, opened_by="x", lead_id="x", details=details)  # fmt: skip


def test_the_later_of_ten_years_and_the_pension_day() -> None:
    opened = datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert retain_until(case(opened), RULE, CALENDAR) == date(2036, 11, 2)
    assert retain_until(case(opened, retain_at_least_until="2041-03-15"), RULE, CALENDAR) == date(2041, 3, 15)  # fmt: skip
    assert retain_until(case(opened, retain_at_least_until="2030-01-01"), RULE, CALENDAR) == date(2036, 11, 2)  # fmt: skip
    without = RULE.model_copy(update={"or_until_pension_age": False})
    assert retain_until(case(opened, retain_at_least_until="2041-03-15"), without, CALENDAR) == date(2036, 11, 2)  # fmt: skip
    leap = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert retain_until(case(leap), RULE, CALENDAR) == date(2038, 2, 28)


def test_listed_for_review_before_the_day() -> None:
    assert _back(date(2036, 11, 2), CalendarMonths(3)) == date(2036, 8, 2)
    assert _back(date(2036, 5, 31), CalendarMonths(3)) == date(2036, 2, 29)
    assert _back(date(2037, 1, 15), CalendarMonths(2)) == date(2036, 11, 15)
    assert _back(date(2036, 11, 2), CalendarDays(30)) == date(2036, 10, 3)

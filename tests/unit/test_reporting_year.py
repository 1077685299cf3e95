"""A report's period by default: the reporting year (1 April to 31 March) it is in, as the annual
reports and the children looked after return count; a day given keeps the other end in its year."""

from datetime import date

from models.reports import period, reporting_year


def test_the_reporting_year_runs_from_april_to_march() -> None:
    assert reporting_year(date(2026, 12, 8)) == (date(2026, 4, 1), date(2027, 3, 31))
    assert reporting_year(date(2027, 3, 31)) == (date(2026, 4, 1), date(2027, 3, 31))
    assert reporting_year(date(2027, 4, 1)) == (date(2027, 4, 1), date(2028, 3, 31))


def test_a_period_takes_what_is_given() -> None:
    today = date(2026, 12, 8)
    assert period(today, None, None) == (date(2026, 4, 1), date(2027, 3, 31))
    assert period(today, date(2025, 6, 1), None) == (date(2025, 6, 1), date(2026, 3, 31))
    assert period(today, None, date(2026, 2, 28)) == (date(2025, 4, 1), date(2026, 2, 28))
    assert period(today, date(2026, 1, 1), date(2026, 1, 31)) == (date(2026, 1, 1), date(2026, 1, 31))  # fmt: skip

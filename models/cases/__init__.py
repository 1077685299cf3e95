"""Cases: who is in one (parties.py), the one start service (start.py), and a case's record: looking
it up, what it keeps, its links, events and closing (record.py). The functions are here by name."""

from models.cases.parties import CaseParties, child_of, parties_of
from models.cases.record import (
    case_by_id,
    close_case,
    details_of,
    get_case,
    keep_details,
    link_cases,
    links_of,
    record_case_event,
    retain_until,
    set_flow_run,
    unlaunched,
)
from models.cases.start import start_case

__all__ = [
    "CaseParties",
    "case_by_id",
    "child_of",
    "close_case",
    "details_of",
    "get_case",
    "keep_details",
    "link_cases",
    "links_of",
    "parties_of",
    "record_case_event",
    "retain_until",
    "set_flow_run",
    "start_case",
    "unlaunched",
]

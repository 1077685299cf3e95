"""Helpers shared by the commands: reading dates, printing JSON and tables."""

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console

from models.errors import FieldErrors, InputError
from models.wallclock import system_clock
from safeguard.settings import Settings

MAX_ID = 2**31 - 1  # the largest row id an integer column holds: a larger one names nothing
DATE_HELP = "an ISO date (2026-12-24) or date-time (2026-12-24T16:30, London time unless an offset is given)"


# Control characters (terminal escapes among them) and the invisible marks that reorder or hide
# text: stored names, titles and reasons are shown with these escaped, never acted on.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """Return text with control characters and invisible marks written out (\\x1b, \\u202e)."""
    return _HIDDEN.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


class PlainConsole(Console):
    """A console that prints stored text as text: no markup (a name with "[/]" is a name), no
    emoji codes, no highlighting, and control characters escaped."""

    def render_str(self, text: str, **kwargs: Any) -> Any:
        kwargs.update(markup=False, emoji=False, highlight=False)
        return super().render_str(visible(text), **kwargs)


def console() -> Console:
    """Return a console for tables (plain when not a terminal)."""
    return PlainConsole(highlight=False, soft_wrap=False, markup=False, emoji=False)


def parse_moment(text: str, tz: ZoneInfo, what: str = "date") -> date | datetime:
    """Return a date, or an aware datetime (naive ones are read in `tz`), or raise InputError."""
    text = text.strip()
    try:
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=tz)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(
            f"{what} {text!r} is not a real {what}: {exc}; write {DATE_HELP}"
        ) from None


def parse_datetime(text: str, tz: ZoneInfo, what: str) -> datetime:
    """Return an aware datetime (a time is required), or raise InputError saying what to write."""
    value = parse_moment(text, tz, what)
    if not isinstance(value, datetime):
        raise InputError(f"{what} needs a time as well as a date, e.g. {value.isoformat()}T10:30")
    return value


def parse_day(text: str, tz: ZoneInfo, what: str) -> date:
    """Return the day a date (or a date-time, read as local) names, or raise InputError."""
    value = parse_moment(text, tz, what)
    return value.astimezone(tz).date() if isinstance(value, datetime) else value


def parse_count(text: str, what: str) -> int:
    """Return a non-negative whole number, or raise InputError saying what to give."""
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not a whole number; give e.g. 5") from None
    if value < 0:
        raise InputError(f"{what} cannot be negative ({value}); give 0 or more")
    return value


def print_json(data: Any) -> None:
    """Print `data` as JSON for scripts."""
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def long_date(day: date) -> str:
    """Return e.g. 'Tuesday 29 December 2026'."""
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


def as_at(text: str | None, settings: Settings, *, future_ok: bool = False) -> datetime:
    """Return the moment --at names (default now); the future only for a look ahead (`future_ok`)."""
    now = system_clock()
    if text is None:
        return now
    value = parse_datetime(text, ZoneInfo(settings.timezone), "--at")
    if value > now and not future_ok:
        raise InputError(
            f"--at {text} is in the future: only a --dry-run may look ahead (nothing is written then)"
        )
    return value


def child_option(text: str) -> dict[str, str]:
    """Return a --child CHILD_REF:IRO_ID:SOCIAL_WORKER_ID as a start input's child."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) != 3 or not all(parts):
        raise InputError(
            f"--child {text!r}: write CHILD_REF:IRO_ID:SOCIAL_WORKER_ID, e.g. C-1042:iro-1:sw-3"
        )
    return dict(zip(("child", "iro", "social_worker"), parts, strict=True))


def in_options(refused: InputError, options: Mapping[str, str]) -> InputError:
    """Return a refusal of a start input in the words of the command that built it: the field it
    names as the option the user typed (`children.0.iro` as "--child 1 (iro)"), without the JSON
    example the user never wrote. A refusal naming no field of `options` is returned as it came,
    less the example."""
    text = str(refused).split(" (example input:")[0]
    fields = refused.fields if isinstance(refused, FieldErrors) else []
    if not fields:
        return InputError(text)
    path, message = fields[0]
    if path in options:  # a nested field with an option of its own (ending.ends_on: --ends)
        return InputError(f"{options[path]}: {message}")
    top, _, below = path.partition(".")
    option = options.get(top)
    if option is None:
        return InputError(text)
    number, _, rest = below.partition(".")
    if number.isdigit():  # an item of a list: children.0.iro -> the first --child's IRO
        option, below = f"{option} {int(number) + 1}", rest
    if below:
        option += f" ({below.replace('_', ' ').replace('.', ', ')})"
    return InputError(f"{option}: {message}")

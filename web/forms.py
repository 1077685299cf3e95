"""Forms generated from a step's (or a start's) input model, and the posted form read back into
the same JSON input the CLI sends: one schema, one write path (DESIGN rule 3).

Each field of the pydantic model becomes a GOV.UK component by its type, labelled with the words
its declaration gives it (`Field(title=...)`, with `description` as hint text): a date a date input
(day, month, year), a yes/no or a choice radios, several choices checkboxes, a list of words a
textarea (one per line), a list of items (actions, accounts of earlier actions) a fieldset per item
with "add another", free text a textarea. Nothing here decides what is valid: the service does,
and its refusal is shown on the field it names.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from models.inputs import InDirectory

LONG_TEXT = 200  # a str allowed more than this is a textarea


@dataclass
class FormField:
    """One field of a generated form, with what was typed and the error on it, if any."""

    path: tuple[str | int, ...]
    label: str
    kind: (
        str  # text, textarea, lines, number, date, datetime, due, radios, checkboxes, group,
        # repeat, person (a member of staff, chosen by name)
    )
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    children: list["FormField"] = field(default_factory=list)  # a group's fields
    template: type[BaseModel] | None = None  # a repeat's item model
    rows: list[list["FormField"]] = field(default_factory=list)  # a repeat's items
    value: Any = None
    error: str | None = None
    hint: str | None = None
    item: str = ""  # a repeat's word for one of its items ("Action"): its model's title
    person: InDirectory | None = None  # a field naming a member of staff: who may fill it

    @property
    def id(self) -> str:
        return "-".join(str(p) for p in self.path)


MISSING = ("is required", "is required (it is blank)")  # the service's words for a missing answer
ASKING = re.compile(r"(when|what|which|who|why|how|if|whether|where|the|a|an|your)$", re.I)


def missing_said(target: FormField) -> str:
    """What to do about a missing answer, as the GOV.UK Design System says it: "Enter the foster
    carer's reference", "Select the category of allegation", "Select yes or no"."""
    if target.kind == "radios" and {v for v, _ in target.choices} == {"yes", "no"}:
        return "Select yes or no"
    verb = "Select" if target.kind in ("radios", "checkboxes") or target.person else "Enter"
    return f"{verb} {_the(target.label.rstrip('?'))}"


def _the(label: str) -> str:
    """A label as the object of "Enter ...": lower-cased where it starts with a common word, with
    "the" in front unless it already has an article or asks a question ("when ...")."""
    first = label.partition(" ")[0]
    lowered = label if first[1:2].isupper() else label[:1].lower() + label[1:]
    if ASKING.match(first):  # asks a question ("when ..."), or has its article already
        return lowered
    return f"the {lowered}"


def offer_people(fields: list[FormField], choose: Callable[[InDirectory], list[tuple[str, str]]]) -> None:  # fmt: skip
    """Make each field naming a member of staff a choice among those who may fill it (`choose`
    lists them as (id, what the page shows)), with whoever it already names kept on the list."""
    for f in walk(fields):
        if f.person is not None and f.kind == "text":
            f.kind, f.choices = "person", choose(f.person)
            if f.value and f.value not in {value for value, _ in f.choices}:
                f.choices.append((str(f.value), str(f.value)))


def build(model: type[BaseModel], values: dict[str, Any] | None = None, counts: dict[str, int] | None = None) -> list[FormField]:  # fmt: skip
    """Return the form of `model`, filled with `values` (a payload) where given. `counts` says how
    many items each repeated field shows (at least one, or as many as the values hold)."""
    return _fields(model, (), values or {}, counts or {})


def _fields(
    model: type[BaseModel],
    prefix: tuple[str | int, ...],
    values: dict[str, Any],
    counts: dict[str, int],
) -> list[FormField]:
    built = []
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        annotation, optional, person = _unwrap(info.annotation, list(info.metadata))
        asked = isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("asked_now")
        required = (info.is_required() and not optional) or bool(asked)
        label = info.title or _words(name)  # the declaration's words (Field(title=...))
        made = _field(path, label, annotation, required, values.get(name), counts, info.description)
        made.person = person
        built.append(made)
    return built


def _field(
    path: tuple[str | int, ...],
    label: str,
    annotation: Any,
    required: bool,
    value: Any,
    counts: dict[str, int],
    hint: str | None,
) -> FormField:
    kind, extra = _kind(annotation)
    made = FormField(path, label, kind, required, value=value, hint=hint)
    if kind in ("radios", "checkboxes"):
        made.choices = extra
    elif kind == "group":
        made.children = _fields(extra, path, value if isinstance(value, dict) else {}, counts)
    elif kind == "repeat":
        made.template = extra
        made.item = extra.model_config.get("title") or label
        items = value if isinstance(value, list) else []
        shown = max(counts.get(made.id, 0), len(items), 1)  # a blank item is no item
        made.rows = [
            _fields(
                extra,
                (*path, n),
                items[n] if n < len(items) and isinstance(items[n], dict) else {},
                counts,
            )
            for n in range(shown)
        ]
    return made


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, bool, InDirectory | None]:
    """Strip Annotated and Optional; keep what the kind needs (a str's max length) and who may
    fill a field naming a member of staff."""
    optional = False
    while True:
        if get_origin(annotation) is Annotated:
            args = get_args(annotation)
            annotation, metadata = args[0], [*metadata, *args[1:]]
            continue
        if get_origin(annotation) in (Union, UnionType):
            members = [a for a in get_args(annotation) if a is not NoneType]
            optional = optional or len(members) < len(get_args(annotation))
            if len(members) == 1:
                annotation = members[0]
                continue
            annotation = tuple(members)  # e.g. a date or working days
        break
    longest = max(
        (m.max_length for m in metadata if getattr(m, "max_length", None) is not None), default=None
    )
    person = next((m for m in metadata if isinstance(m, InDirectory)), None)
    if annotation is str and longest is not None and longest > LONG_TEXT:
        return "long-str", optional, person
    return annotation, optional, person


def _kind(annotation: Any) -> tuple[str, Any]:
    if isinstance(annotation, tuple):  # a union: a date or a number of working days
        return "due", None
    if annotation == "long-str":
        return "textarea", None
    if annotation is bool:
        return "radios", [("yes", "Yes"), ("no", "No")]
    if annotation is datetime:
        return "datetime", None
    if annotation is date:
        return "date", None
    if annotation is int:
        return "number", None
    if get_origin(annotation) is Literal:
        values = get_args(annotation)
        if all(isinstance(v, bool) for v in values):  # e.g. Literal[True]: it must be so
            return "radios", [
                c for c in [("yes", "Yes"), ("no", "No")] if (c[0] == "yes") in values
            ]
        return "radios", [(str(v), _words(str(v))) for v in values]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        # a choice's own words where its declaration gives them (a `label`), else its value's
        return "radios", [(str(m.value), _label(m)) for m in annotation]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "group", annotation
    if get_origin(annotation) in (tuple, list):
        item, _, _ = _unwrap(get_args(annotation)[0], [])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return "repeat", item
        inner, choices = _kind(item)
        if inner == "radios":
            return "checkboxes", choices
        return "lines", None
    return "text", None


def _words(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _label(member: Enum) -> str:
    said = str(getattr(member, "label", "") or _words(str(member.value)))
    return said[:1].upper() + said[1:]


# --- reading a posted form back ----------------------------------------------------------------


DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read(fields: list[FormField], form: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Return the JSON input a posted form holds (blank fields left out, so defaults apply), and
    the errors found in reading it (a date missing its month)."""
    errors: list[tuple[str, str]] = []
    return _read(fields, form, errors), errors


def _read(fields: list[FormField], form: Any, errors: list[tuple[str, str]]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for f in fields:
        value = _value(f, form, errors)
        f.value = value
        if value is not None and value != [] and value != {}:
            payload[str(f.path[-1])] = value
    return payload


def _value(f: FormField, form: Any, errors: list[tuple[str, str]]) -> Any:
    text = (form.get(f.id) or "").strip()
    if f.kind in ("text", "textarea", "person"):
        return text or None
    if f.kind == "number":
        return int(text) if text.isdigit() else (text or None)
    if f.kind == "due":
        return int(text) if text.isdigit() else (text or None)
    if f.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if f.kind == "radios":
        if {value for value, _ in f.choices} <= {"yes", "no"}:
            return {"yes": True, "no": False}.get(text)
        return text or None
    if f.kind == "checkboxes":
        return [v for v in form.getlist(f.id) if v]
    if f.kind in ("date", "datetime"):
        parts = [(form.get(f"{f.id}-{p}") or "").strip() for p in ("day", "month", "year")]
        time = (form.get(f"{f.id}-time") or "").strip() if f.kind == "datetime" else ""
        if not any(parts) and not time:
            return None
        day, month, year = parts
        if not all(parts) or not (day.isdigit() and month.isdigit() and year.isdigit()):
            errors.append((f.id, f"{f.label} must include a day, month and year in numbers"))
            return None
        iso = f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
        return f"{iso}T{time or '00:00'}" if f.kind == "datetime" else iso
    if f.kind == "group":
        return _read(f.children, form, errors) or None
    if f.kind == "repeat":
        items = [_read(row, form, errors) for row in f.rows]
        if len(items) > 1:  # a block added and left blank is refused, never dropped unseen
            errors.extend(
                (f"{f.id}-{n}", f"{f.item} {n + 1} is empty: fill it in or remove it")
                for n, item in enumerate(items)
                if not item
            )
        return [item for item in items if item]  # a single row left blank is no item
    return text or None


def remove_row(fields: list[FormField], row_id: str) -> None:
    """Take one item out of a repeated field ("children-1": the second child), keeping what was
    typed in the others (read into the fields by `read`), numbered again from the first."""
    for f in walk(fields):
        if f.kind != "repeat" or f.template is None:
            continue
        ids = [f"{f.id}-{n}" for n in range(len(f.rows))]
        if row_id not in ids:
            continue
        kept = [_typed(row) for n, row in enumerate(f.rows) if ids[n] != row_id] or [{}]
        f.rows = [_fields(f.template, (*f.path, n), values, {}) for n, values in enumerate(kept)]
        return


def _typed(row: list[FormField]) -> dict[str, Any]:
    """What was typed in one item, as `read` left it on its fields."""
    return {
        str(child.path[-1]): child.value
        for child in row
        if child.value is not None and child.value != [] and child.value != {}
    }


def locate(fields: list[FormField], loc: str) -> FormField | None:
    """Return the form field a refusal's field path names ("actions.0.owner"), or the nearest
    one above it (the item, the list), so the error is shown where it belongs."""
    parts = tuple(int(p) if p.isdigit() else p for p in loc.split(".")) if loc else ()
    best: FormField | None = None
    for f in walk(fields):
        if parts[: len(f.path)] == f.path and (best is None or len(f.path) > len(best.path)):
            best = f
    return best


def walk(fields: list[FormField]) -> list[FormField]:
    found = []
    for f in fields:
        found.append(f)
        found.extend(walk(f.children))
        for row in f.rows:
            found.extend(walk(row))
    return found

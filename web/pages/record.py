"""Starting a case and recording a step in the browser: a form generated from the input model
(web/forms.py), posted to the same service (models/casework.py) as `safeguard start` and
`safeguard record`.

The answer comes as soon as the submission is stored (DESIGN rule 13): the flow is carried on in
the background (`WebDeps.carry_on`, the CLI's own resume loop), and the case page says "being
applied" until it has moved on. Posting the same form twice stores it once (each form carries its
own idempotency key). A refusal is shown on the field it names, in the error summary either way.
"""

import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session
from starlette.datastructures import FormData

from models import followup, registry, steps
from models.cases import details_of
from models.errors import FieldErrors, InputError
from models.inputs import ActionAccount, InDirectory, InputContext, lists_of
from models.permissions import DirectoryContext, eligible, may_record, may_start, roles_needed
from models.policy import StepPolicy
from models.staff import StaffView, list_staff
from models.staff import names as staff_names
from web import forms
from web.deps import Me, Site, checked_form, open_to_me, signed_in, site, text
from web.render import long_date, sentence

router = APIRouter(dependencies=[Depends(open_to_me)])  # a restricted case: its people only

# The service's own arguments a refusal may name, as this form shows them (the form's key is
# hidden: a refusal of it goes to the top of the form).
ARGUMENTS = {"late_reason": "Why it is done after its due day"}


@router.get("/cases/{reference}/record/{step}")
def record_page(
    request: Request,
    reference: str,
    step: str,
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    return _record_form(request, here, me, reference, step)


@router.post("/cases/{reference}/record/{step}")
def record_step(
    request: Request,
    reference: str,
    step: str,
    form: FormData = Depends(checked_form),
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    try:
        with here.casework() as cx:
            case = cx.case(reference)
            decl = registry.get(case.process).step(step)
            actions = followup.open_actions(cx.session, case.id or 0)
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Not found", str(refused))
    fields = forms.build(decl.input, _accounts(decl.input, actions), _counts(form))
    payload, errors = forms.read(fields, form)
    late_reason, key = text(form, "late_reason") or None, text(form, "form_key") or None
    again = Again(fields, late_reason, key)
    if _changed(fields, form):  # "add another" or "remove": the form again, nothing refused yet
        return _record_form(request, here, me, reference, step, again, [])
    if errors:  # a date that is no date, a block left blank
        return _record_form(
            request, here, me, reference, step, again, shown_on_fields(fields, errors)
        )
    try:
        with here.casework() as cx:
            recorded = cx.submit(reference, step, me.id, payload, key=key, late_reason=late_reason)
    except InputError as refused:
        return _record_form(
            request, here, me, reference, step, again, refusal_on_fields(fields, refused, step)
        )
    here.deps.carry_on(recorded.case.flow_run_id, recorded.submission.id or 0)  # in the background
    return RedirectResponse(f"/cases/{reference}?recorded={step}", status_code=303)


@router.get("/start/{process}")
def start_page(
    request: Request, process: str, me: Me = Depends(signed_in), here: Site = Depends(site)
) -> Response:
    """The start form, filled in from the address where it says (`?about_case=...&child.child=...`:
    another case's page or notice offering to take something up)."""
    given: dict[str, Any] = {}
    for name, value in request.query_params.items():
        *parents, last = name.split(".")
        into = given
        for part in parents:
            nested = into.setdefault(part, {})
            if not isinstance(nested, dict):  # a field and a group of the same name: ignored
                break
            into = nested
        else:
            into[last] = value
    try:
        filled = forms.build(registry.get(process).start_input, given) if given else None
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Not found", str(refused))
    return _start_form(request, here, me, process, filled)


@router.post("/start/{process}")
def start_case(
    request: Request,
    process: str,
    form: FormData = Depends(checked_form),
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    try:
        decl = registry.get(process)
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Not found", str(refused))
    fields = forms.build(decl.start_input, None, _counts(form))
    payload, errors = forms.read(fields, form)
    key = text(form, "form_key") or None
    if _changed(fields, form):  # "add another" or "remove": the form again, nothing refused yet
        return _start_form(request, here, me, process, fields, [], key)
    if errors:
        return _start_form(request, here, me, process, fields, shown_on_fields(fields, errors), key)
    started = here.started.get(key or "")
    if started:  # the same form again (a double click): the case it started
        return RedirectResponse(f"/cases/{started}", status_code=303)
    try:
        with here.casework() as cx:
            case = cx.start(process, me.id, payload)
            reference, case_id = case.reference, case.id or 0
    except InputError as refused:
        return _start_form(
            request,
            here,
            me,
            process,
            fields,
            refusal_on_fields(fields, refused, f"{process} start"),
            key,
        )
    if key:
        here.started[key] = reference
    here.deps.launch(case_id)  # its flow run, in the background (else the sweep creates it)
    return RedirectResponse(f"/cases/{reference}", status_code=303)


class Again:
    """A record form shown again: what was typed, and the form's own key."""

    def __init__(
        self, fields: list[forms.FormField], late_reason: str | None, key: str | None
    ) -> None:
        self.fields, self.late_reason, self.key = fields, late_reason, key


def _record_form(
    request: Request,
    here: Site,
    me: Me,
    reference: str,
    step: str,
    again: Again | None = None,
    errors: list[tuple[str, str]] | None = None,
) -> Response:
    try:
        with here.casework() as cx:
            case = cx.case(reference)
            decl = registry.get(case.process).step(step)
            open_now = {s.name: s for s in steps.open_steps_of(cx.session, case.id or 0)}
            actions = followup.open_actions(cx.session, case.id or 0)
            today = cx.today()
            waits = decl.waits_for(details_of(case)) if decl.waits_for else None
            fields = again.fields if again else forms.build(decl.input, _accounts(decl.input, actions))  # fmt: skip
            if step in open_now:
                ctx = steps.input_context(cx.session, here.deps.policy, here.deps.calendar, case, open_now[step], me.id, cx.now())  # fmt: skip
                forms.offer_people(fields, chooser(cx.session, ctx))
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Not found", str(refused))
    rule = here.deps.policy.process(case.process).step(step)
    if waits and step in open_now:
        return here.render.refusal(request, me, 409, f"{rule.title} cannot be recorded yet", f"It can be recorded after {waits}.")  # fmt: skip
    if step not in open_now:
        titles = here.deps.policy.process(case.process).steps
        waiting = ", ".join(titles[s].title if s in titles else s for s in open_now) or "none"
        return here.render.refusal(request, me, 404, "This step is not open", f"{rule.title} is not open in {reference}; open steps: {waiting}")  # fmt: skip
    if not may_record(decl, me.roles):
        return here.render.refusal(request, me, 403, "You cannot record this step", f"recording the {rule.title.lower()} needs the role {roles_needed(decl.may_record)}")  # fmt: skip
    _label_actions(fields, actions)
    opened = open_now[step]
    return here.render(
        request, "record/record.html", me, 400 if errors else 200,
        title=f"{rule.title}: {reference}", caption=reference, heading=rule.title,
        lead=_lead(rule, opened.due_on),
        action=f"/cases/{reference}/record/{step}", fields=fields, errors=errors or [],
        field_errors_list=errors or [], form_key=(again and again.key) or secrets.token_urlsafe(16),
        late=opened.due_on if opened.due_on < today and not (rule.window or rule.unscheduled) else None,
        late_required=rule.late_needs_reason,
        late_reason=again.late_reason if again else None,
        button="Save and continue", back=f"/cases/{reference}",
    )  # fmt: skip


def _lead(rule: StepPolicy, due: date) -> str:
    """What the form says of the step's time: its due day and basis, a person's own window, or
    (a step recorded if it happens) nothing of a day."""
    if rule.unscheduled:
        return "Record this if it happens, at any stage."
    if rule.window:
        return f"The window closes on {long_date(due)}: it is theirs, and nobody is chased for it."
    return f"Due {long_date(due)}. {rule.source.split('[')[0].strip()}"


def _start_form(
    request: Request,
    here: Site,
    me: Me,
    process: str,
    fields: list[forms.FormField] | None = None,
    errors: list[tuple[str, str]] | None = None,
    form_key: str | None = None,
) -> Response:
    try:
        decl = registry.get(process)
        fields = fields if fields is not None else forms.build(decl.start_input)
        with here.casework() as cx:
            ctx = DirectoryContext(cx.session, here.deps.calendar, here.deps.policy.actions.due_within, now=cx.now(), effective=cx.now(), author=me.id)  # fmt: skip
            forms.offer_people(fields, chooser(cx.session, ctx))
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Not found", str(refused))
    if not may_start(decl, me.roles):
        return here.render.refusal(request, me, 403, "You cannot start this case", f"starting {decl.noun} case needs the role {roles_needed(decl.may_start)}")  # fmt: skip
    title = here.deps.policy.process(process).title
    leading = " and lead it" if decl.lead_role in me.roles else ""
    return here.render(
        request, "record/record.html", me, 400 if errors else 200, title=f"Start: {title}",
        caption="Start a case", heading=title,
        lead=f"You start it{leading}; its first step opens when it is saved.",
        action=f"/start/{process}",
        fields=fields,
        errors=errors or [], field_errors_list=errors or [],
        form_key=form_key or secrets.token_urlsafe(16), late=None, button="Start the case",
        back="/my-work",
    )  # fmt: skip


def chooser(session: Session, ctx: InputContext) -> Callable[[InDirectory], list[tuple[str, str]]]:  # fmt: skip
    """Who a field naming a member of staff offers: those its own check accepts, by name (with
    their id where two share one), their roles and their team (by its manager, as the board
    names teams)."""
    people, shown = list_staff(session), staff_names(session)

    def label(p: StaffView) -> str:
        team = f"; {shown[p.line_manager_id]}'s team" if p.line_manager_id in shown else ""
        return f"{shown[p.id]} ({', '.join(r.label for r in p.roles)}{team})"

    def choose(who: InDirectory) -> list[tuple[str, str]]:
        found = sorted(eligible(ctx, who, people), key=lambda p: shown[p.id])
        return [(p.id, label(p)) for p in found]

    return choose


def _changed(fields: list[forms.FormField], form: FormData) -> bool:
    """True where the form was posted to add or remove an item, not to be saved (an item removed
    here, what was typed in the others kept)."""
    removed = form.get("remove")
    if isinstance(removed, str) and removed and not form.get("save"):
        forms.remove_row(fields, removed)
        return True
    return bool(form.get("add")) and not form.get("save")


def _counts(form: FormData) -> dict[str, int]:
    """How many items each repeated field shows: as posted, one more where "add another" was
    pressed."""
    counts = {
        key.removesuffix("-count"): int(value)
        for key, value in form.items()
        if key.endswith("-count") and isinstance(value, str) and value.isdigit()
    }
    added = form.get("add")
    if isinstance(added, str) and added:
        counts[added] = counts.get(added, 0) + 1
    return counts


def _accounts(model: type[BaseModel], actions: dict[int, str]) -> dict[str, Any] | None:
    """A review (or a closing account) starts with one row per open action, each named."""
    names = lists_of(model, ActionAccount)
    if not names or not actions:
        return None
    return {name: [{"action_id": n} for n in actions] for name in names}


def _label_actions(fields: list[forms.FormField], actions: dict[int, str]) -> None:
    """Each account's row says which action it is about."""
    for f in fields:
        if f.kind == "repeat" and f.template is ActionAccount:
            for row in f.rows:
                for child in row:
                    if child.path[-1] == "action_id" and child.value in actions:
                        child.hint = f"Action {child.value}: {actions[child.value]}"


def shown_on_fields(
    fields: list[forms.FormField], errors: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    for field_id, message in errors:
        for f in forms.walk(fields):
            if f.id == field_id:
                f.error = message
    return errors


def refusal_on_fields(
    fields: list[forms.FormField], refused: InputError, what: str
) -> list[tuple[str, str]]:
    """The service's refusal on the fields it names (each, where it gave several): an input's field
    by its label, one of the service's own arguments (why it is late) by this form's words. A
    refusal that names no field of the form (a rule across the whole input) goes on the form's
    first field; the error summary shows it either way."""
    if isinstance(refused, FieldErrors) and refused.arguments:
        sep = refused.sep
        return [
            (
                loc if loc in ARGUMENTS else "main-content",
                ARGUMENTS.get(loc, "This form") + sep + said,
            )
            for loc, said in refused.fields
        ]
    named = refused.fields if isinstance(refused, FieldErrors) else []
    shown: list[tuple[str, str]] = []
    for loc, message in named:
        target = forms.locate(fields, loc)
        if target is None:
            continue
        target.error = _on(target, loc, message, refused)
        shown.append((target.id, target.error))
    if shown:
        return shown
    text = named[0][1] if named else str(refused).split(" (example input:")[0].removeprefix(f"{what}: ")  # fmt: skip
    where = fields[0] if fields else None
    if where is not None:
        where.error = text
        return [(where.id, text)]
    return [("main-content", text)]


def _on(target: forms.FormField, loc: str, message: str, refused: InputError) -> str:
    """A refusal as shown on the field: a missing answer as the Design System says it ("Enter the
    date held"), else after its label ("Actions agreed: action 1 ..." for an item's), or alone
    where it is a whole sentence about the field."""
    if isinstance(refused, FieldErrors) and refused.sep == "":
        return sentence(message)
    if message in forms.MISSING and target.path[-1] == loc.split(".")[-1]:
        return forms.missing_said(target)
    if target.path[-1] != loc.split(".")[-1]:
        return f"{target.label}: {message}"
    return f"{target.label} {message}"

"""A step's clock in the browser: stopped (with its reason and approver), started again, or its
timescale extended (up to the policy's legal maximum, with the approver and, where the law asks
it, the day the person was told). Each on a form generated from the service's own input
(models/departures.py), posted to the same service as `safeguard clock stop|resume|extend`, with
the same rules; a refusal is shown on the field it names."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from models import departures
from models.errors import FieldErrors, InputError
from models.inputs import parse
from models.permissions import DirectoryContext
from models.policy import StepPolicy
from web import forms
from web.deps import Me, Site, checked_form, open_to_me, signed_in, site
from web.pages.record import chooser, shown_on_fields

router = APIRouter(dependencies=[Depends(open_to_me)])  # a restricted case: its people only

KINDS: dict[str, tuple[type[BaseModel], str, str]] = {
    # what: (its input, the form's heading, its button)
    "stop": (departures.ClockStopInput, "Stop the clock", "Stop the clock"),
    "extend": (departures.ExtensionInput, "Extend the timescale", "Extend the timescale"),
}


@router.get("/cases/{reference}/clock/{step}/{what}")
def clock_page(
    request: Request,
    reference: str,
    step: str,
    what: str,
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    return _form(request, here, me, reference, step, what)


@router.post("/cases/{reference}/clock/{step}/{what}")
def clock_post(
    request: Request,
    reference: str,
    step: str,
    what: str,
    form: FormData = Depends(checked_form),
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    if what == "resume":
        try:
            with here.casework() as cx:
                cx.resume_clock(reference, step, recorded_by=me.id)
        except InputError as refused:
            return here.render.refusal(request, me, 400, "The clock was not started again", str(refused))  # fmt: skip
        return RedirectResponse(f"/cases/{reference}?done=resumed#steps", status_code=303)
    if what not in KINDS:
        return here.render.refusal(request, me, 404, "Not found", f"no such page: {what}")
    model = KINDS[what][0]
    fields = forms.build(model)
    payload, errors = forms.read(fields, form)
    if errors:
        return _form(request, here, me, reference, step, what, fields, shown_on_fields(fields, errors))  # fmt: skip
    try:
        data: Any = parse(model, payload, what=f"clock {what}", example={})
        with here.casework() as cx:
            if what == "stop":
                cx.stop_clock(reference, step, reason=data.reason, approver=data.approver, recorded_by=me.id)  # fmt: skip
            else:
                cx.extend_clock(reference, step, to=str(data.to), reason=data.reason, approver=data.approver, recorded_by=me.id, told_on=data.told_on)  # fmt: skip
    except InputError as refused:
        return _form(request, here, me, reference, step, what, fields, _on(fields, refused))
    done = "stopped" if what == "stop" else "extended"
    return RedirectResponse(f"/cases/{reference}?done={done}#steps", status_code=303)


def _form(
    request: Request,
    here: Site,
    me: Me,
    reference: str,
    step: str,
    what: str,
    fields: list[forms.FormField] | None = None,
    errors: list[tuple[str, str]] | None = None,
) -> Response:
    if what not in KINDS:
        return here.render.refusal(request, me, 404, "Not found", f"no such page: {what}")
    model, heading, button = KINDS[what]
    try:
        with here.casework() as cx:
            found, rule = departures.step_and_rule(cx.session, cx.policy, reference, step)
            approver = rule.stop_approver if what == "stop" else rule.extension_approver
            if approver is None or (what == "extend" and rule.extendable_to is None):
                raise InputError(f"the {rule.title.lower()} cannot be {'stopped' if what == 'stop' else 'extended'} under the policy")  # fmt: skip
            fields = fields if fields is not None else forms.build(model)
            ctx = DirectoryContext(cx.session, cx.calendar, cx.policy.actions.due_within, now=cx.now(), effective=cx.now(), approver_role=approver)  # fmt: skip
            forms.offer_people(fields, chooser(cx.session, ctx))
            due = found.due_on
    except InputError as refused:
        return here.render.refusal(request, me, 404, "This clock cannot be changed", str(refused))
    _words(fields, rule, what)
    lead = (
        f"{rule.title}, due {due:%-d %B %Y}. The clock stands still until it is started again; "
        f"its reviews fall due every {rule.stop_review_every}."
        if what == "stop"
        else f"{rule.title}, due {due:%-d %B %Y}: at most {rule.extendable_to} in all ({rule.source.split('[')[0].strip()})."
    )  # fmt: skip
    return here.render(
        request, "record/record.html", me, 400 if errors else 200,
        title=f"{heading}: {reference}", caption=f"{reference}: {rule.title}", heading=heading,
        lead=lead, action=f"/cases/{reference}/clock/{step}/{what}", fields=fields,
        errors=errors or [], field_errors_list=errors or [], form_key="", late=None,
        button=button, back=f"/cases/{reference}",
    )  # fmt: skip


def _words(fields: list[forms.FormField], rule: StepPolicy, what: str) -> None:
    """The timescale's unit and maximum on its field; the day told asked only where the law asks
    it (and then required)."""
    if what != "extend":
        return
    for f in list(fields):
        if f.path == ("to",):
            f.hint = f"In {_unit(rule)}, counted as the step's own timescale is: at most {rule.extendable_to}"  # fmt: skip
        if f.path == ("told_on",):
            if rule.extension_told:
                f.required = True
            else:
                fields.remove(f)


def _unit(rule: StepPolicy) -> str:
    return str(rule.due).split(" ", 1)[-1]


def _on(fields: list[forms.FormField], refused: InputError) -> list[tuple[str, str]]:
    """A refusal on the field it names (the service's own argument, or an input's), else on the
    form's first field; the error summary shows it either way."""
    if isinstance(refused, FieldErrors):
        shown = []
        for loc, message in refused.fields:
            target = forms.locate(fields, loc)
            if target is not None:
                target.error = f"{target.label} {message}" if refused.arguments else message
                shown.append((target.id, target.error))
        if shown:
            return shown
    text = str(refused).split(" (example input:")[0]
    fields[0].error = text
    return [(fields[0].id, text)]

"""Something that happens to a case outside its steps, recorded in the browser as it comes (an
allegation's carer resigning): the events its process declares (`case_events`), offered on the
case page to those who may record them, each on a form asking the day it happened, posted to the
same service as `safeguard case event` (or the process's own command), with the same rules."""

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import FormData

from models import registry
from models.errors import InputError
from models.inputs import PastDay, parse
from models.process import CaseEventDecl
from web import forms
from web.deps import Me, Site, checked_form, open_to_me, signed_in, site
from web.pages.record import refusal_on_fields, shown_on_fields

router = APIRouter(dependencies=[Depends(open_to_me)])  # a restricted case: its people only


class CaseEventInput(BaseModel):
    on: PastDay = Field(title="The day it happened", description="For example, 3 11 2026")


@router.get("/cases/{reference}/event/{name}")
def event_page(
    request: Request,
    reference: str,
    name: str,
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    return _form(request, here, me, reference, name)


@router.post("/cases/{reference}/event/{name}")
def event_post(
    request: Request,
    reference: str,
    name: str,
    form: FormData = Depends(checked_form),
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    fields = forms.build(CaseEventInput)
    payload, errors = forms.read(fields, form)
    if errors:
        return _form(request, here, me, reference, name, fields, shown_on_fields(fields, errors))
    try:
        on: date = parse(CaseEventInput, payload, what="event", example={}).on
        with here.casework() as cx:
            cx.record_event(reference, name, on, me.id)
    except InputError as refused:
        shown = refusal_on_fields(fields, refused, "event")
        return _form(request, here, me, reference, name, fields, shown)
    return RedirectResponse(f"/cases/{reference}?done=event#timeline", status_code=303)


def events_offered(process: str, me: Me) -> list[CaseEventDecl]:
    """The events of a case's process the person may record (a manager may record any)."""
    return [e for e in registry.get(process).case_events if me.manager or e.may_record & me.roles]


def _form(
    request: Request,
    here: Site,
    me: Me,
    reference: str,
    name: str,
    fields: list[forms.FormField] | None = None,
    errors: list[tuple[str, str]] | None = None,
) -> Response:
    try:
        with here.casework() as cx:
            case = cx.case(reference)
            event = registry.get(case.process).case_event(name)
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Not found", str(refused))
    heading = event.what[:1].upper() + event.what[1:]
    words = here.deps.policy.process(case.process).events
    then = "; ".join(words.get(what, what.replace("_", " ")) for what in event.then)
    return here.render(
        request, "record/record.html", me, 400 if errors else 200,
        title=f"{heading}: {reference}", caption=reference, heading=heading,
        lead=f"Recorded once for the case{f'. Then: {then}' if then else ''}.",
        action=f"/cases/{reference}/event/{name}", fields=fields or forms.build(CaseEventInput),
        errors=errors or [], field_errors_list=errors or [], form_key="", late=None,
        button="Save", back=f"/cases/{reference}",
    )  # fmt: skip

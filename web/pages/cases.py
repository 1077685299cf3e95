"""A case's page (its timeline, what the person may record, the notices sent, and, for those its
process lets read it, who viewed it), the reason asked before opening a case one has no part in,
and the follow-up on the page: a decision's rationale, an action's update. Every view is logged."""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from models import accounts, registry, restriction, steps
from models.cases import details_of
from models.errors import FieldErrors, InputError
from models.permissions import may_read_chronology, may_record, may_start
from models.policy import ProcessPolicy
from models.process import ProcessDecl, StepDecl
from models.staff import names as staff_names
from models.views import SEARCH_MAX, find_cases
from notifications.notices import at_the_top, notice_rows
from notifications.writing import take_up_path
from web import forms
from web.deps import Forbidden, Me, Site, checked_form, open_to_me, signed_in, site, text
from web.pages.events import events_offered
from web.render import said
from web.timeline import timeline

router = APIRouter(dependencies=[Depends(open_to_me)])  # a restricted case: its people only

SLOW = timedelta(minutes=1)  # a record not applied after this: the flow's service may be down
DONE = {
    "rationale": "Rationale added",
    "action": "Action updated",
    "stopped": "Clock stopped",
    "resumed": "Clock started again",
    "extended": "Timescale extended",
    "event": "Saved: what happened is on the case's record",
    "restricted": "The case is restricted: only the people working on it and their managers can open it",
    "lifted": "The restriction is lifted",
}


@router.get("/cases/{reference}")
def case_page(
    request: Request,
    reference: str,
    recorded: str | None = None,
    done: str | None = None,
    order: str | None = None,
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    return show_case(
        request, here, me, reference, None, recorded, DONE.get(done or ""), oldest=order == "oldest"
    )


@router.get("/search")
def search_page(
    request: Request,
    q: str | None = None,
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    """Find a case by its reference, a child's reference or a carer's reference: only cases the
    person may open, each saying where opening it asks why first. Nothing is opened (or logged as
    viewed) by finding it."""
    query = (q or "").strip()
    error = None
    found: list[dict[str, Any]] = []
    if q is not None and not query:
        error = "Enter a case reference, a child's reference or a carer's reference"
    elif len(query) > SEARCH_MAX:
        error = f"A reference is at most {SEARCH_MAX} characters: check what was typed"
    elif query:
        with here.casework() as cx:
            found = find_cases(cx.session, here.deps.policy, query, me.id)
    errors = [("q", error)] if error else []
    return here.render(
        request, "cases/search.html", me, 400 if error else 200, title="Find a case",
        query=query, searched=bool(query) and not error, found=found, errors=errors,
        field_errors_list=errors,
    )  # fmt: skip


@router.get("/cases/{reference}/reason")
def reason_page(
    request: Request, reference: str, me: Me = Depends(signed_in), here: Site = Depends(site)
) -> Response:
    return _reason(request, here, me, reference)


@router.post("/cases/{reference}/reason")
def give_reason(
    request: Request,
    reference: str,
    form: FormData = Depends(checked_form),
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    reason = text(form, "reason")
    if not reason:
        return _reason(request, here, me, reference, f"Say why you need to open {reference}")
    return show_case(request, here, me, reference, reason)


@router.get("/cases/{reference}/restriction")
def restriction_page(
    request: Request, reference: str, me: Me = Depends(signed_in), here: Site = Depends(site)
) -> Response:
    """The form that restricts the case, or lifts its restriction (for those its process lets)."""
    return _restriction(request, here, me, reference, {})


@router.post("/cases/{reference}/restriction")
def decide_restriction(
    request: Request,
    reference: str,
    form: FormData = Depends(checked_form),
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    given = {"ground": text(form, "ground"), "reason": text(form, "reason")}
    lifting = text(form, "lifting") == "yes"
    try:
        with here.casework() as cx:
            case = cx.case(reference)
            if lifting:
                restriction.lift(cx.session, case=case, by=me.id, reason=given["reason"], now=cx.now())  # fmt: skip
            else:
                restriction.restrict(cx.session, case=case, by=me.id, ground=given["ground"], reason=given["reason"], now=cx.now())  # fmt: skip
    except FieldErrors as refused:
        return _restriction(request, here, me, reference, given, refused.fields)
    except InputError as refused:
        return here.render.refusal(request, me, 400, "The restriction was not changed", str(refused))  # fmt: skip
    return RedirectResponse(f"/cases/{reference}?done={'lifted' if lifting else 'restricted'}", status_code=303)  # fmt: skip


def _restriction(
    request: Request,
    here: Site,
    me: Me,
    reference: str,
    given: dict[str, str],
    errors: list[tuple[str, str]] | None = None,
) -> Response:
    try:
        with here.casework() as cx:
            case = cx.case(reference)
            allowed = restriction.may_decide(cx.session, case, me.id)
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Case not found", str(refused))
    if not allowed:
        raise Forbidden("Only a manager its process names can restrict a case or lift its restriction.")  # fmt: skip
    return here.render(
        request, "cases/restriction.html", me, 400 if errors else 200,
        title=("Lift the restriction of " if case.restricted else "Restrict ") + reference,
        reference=reference, lifting=case.restricted, grounds=restriction.GROUNDS,
        given={"ground": "", "reason": "", **given}, errors=errors or [], field_errors_list=errors or [],
    )  # fmt: skip


@router.post("/cases/{reference}/decisions/{decision_id}/rationale")
def add_rationale(
    request: Request,
    reference: str,
    decision_id: int,
    form: FormData = Depends(checked_form),
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    try:
        with here.casework() as cx:
            cx.add_rationale(decision_id, text(form, "rationale"), me.id)
    except InputError as refused:
        return here.render.refusal(request, me, 400, "The rationale was not added", str(refused))
    return RedirectResponse(f"/cases/{reference}?done=rationale#decisions", status_code=303)


@router.post("/cases/{reference}/actions/{action_id}")
def update_action(
    request: Request,
    reference: str,
    action_id: int,
    form: FormData = Depends(checked_form),
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    due = forms.FormField(("new_due",), ACTION_WORDS["new_due"], "date", False)
    read, errors = forms.read([due], form)
    try:
        new_due = date.fromisoformat(read["new_due"]) if "new_due" in read else None
    except ValueError:  # 31 2 2027
        errors.append(("new_due", f"{ACTION_WORDS['new_due']} must be a real date"))
    if errors:
        return here.render.refusal(request, me, 400, "The action was not updated", errors[0][1])
    try:
        with here.casework() as cx:
            cx.update_action(
                action_id, text(form, "status"), me.id, reason=text(form, "reason") or None,
                new_due=new_due, to_case=text(form, "to_case").upper() or None,
            )  # fmt: skip
    except InputError as refused:
        return here.render.refusal(request, me, 400, "The action was not updated", said(refused, ACTION_WORDS))  # fmt: skip
    return RedirectResponse(f"/cases/{reference}?done=action#actions", status_code=303)


ACTION_WORDS = {
    "status": "Status",
    "reason": "Reason",
    "new_due": "New due day",
    "to_case": "Case that carries it on",
}


def show_case(
    request: Request,
    here: Site,
    me: Me,
    reference: str,
    reason: str | None,
    recorded: str | None = None,
    flash: str | None = None,
    oldest: bool = False,
) -> Response:
    """The case page, its view logged (asking why first, where the case's process asks it): what
    the case is about (its start's facts), what the person may record (or what a step waits for),
    its steps, decisions, actions, notices and timeline."""
    try:
        with here.casework() as cx:
            case = cx.case(reference)
            try:
                accounts.log_view(cx.session, case=case, staff_id=me.id, now=cx.now(), reason=reason, since=me.since)  # fmt: skip
            except accounts.ReasonNeeded:
                return RedirectResponse(f"/cases/{reference}/reason", status_code=303)
            decides = restriction.may_decide(cx.session, case, me.id)
            view = cx.view(reference)
            notices = notice_rows(cx.session, reference=reference, limit=100)
            pending = steps.being_applied(cx.session, case.id or 0)
            log = accounts.access_log(cx.session, case.id or 0) if accounts.may_see_access_log(cx.session, case, me.id) else None  # fmt: skip
            now = cx.now()
            people = staff_names(cx.session)
            details = details_of(case)
            top = at_the_top(cx.session, case.id or 0)
    except restriction.Restricted:
        raise  # the app keeps the attempt and says so
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Case not found", str(refused))
    rules = here.deps.policy.process(case.process)
    titles = {name: rule.title for name, rule in rules.steps.items()}
    waiting = [p.kind for p in pending]
    decl = registry.get(case.process)
    ui, run = here.deps.prefect_ui, view["flow_run_id"]
    return here.render(
        request, "cases/case.html", me, title=reference, case=view, notices=notices,
        access_log=log, titles=titles, pending=waiting, people=people,
        process_title=rules.title,
        process_titles={p.code: here.deps.policy.process(p.code).title for p in registry.processes()},
        facts=forms.build(decl.start_input, details),
        # its flow has not opened its next step yet (a new case: its first)
        opening=_opening(view, waiting),
        opened_long_ago=now - datetime.fromisoformat(view["opened_at"]) > SLOW,
        slow=any(now - p.recorded_at > SLOW for p in pending),
        recordable=_recordable(decl, view, set(waiting), me, titles, details),
        timeline=timeline(view, notices, titles, rules.events, newest_first=not oldest),
        oldest=oldest,
        clocks=_clocks(decl, rules, me),
        events=events_offered(case.process, me) if view["status"] == "open" else [],
        run_link=f"{ui}/runs/flow-run/{run}" if ui and run else None,
        take_up=_take_up(me, reference, top), decides_restriction=decides,
        chronology_of=decl.carer_of(details) if decl.carer_of and may_read_chronology(me.roles) else None,
        flash=f"Saved: {titles.get(recorded, recorded)}" if recorded else flash,
    )  # fmt: skip


def _recordable(
    decl: ProcessDecl[Any],
    view: dict[str, Any],
    waiting: set[str],
    me: Me,
    titles: dict[str, str],
    details: Mapping[str, Any],
) -> list[tuple[str, str, str | None]]:
    """The open steps the person may record, not already being applied: (step, title, what it
    waits for before it can be recorded, or None)."""
    mine = {d.name: d for d in decl.steps if may_record(d, me.roles)}
    found = [
        (
            s["step"],
            titles.get(s["step"], s["step"]),
            # a stopped clock's step is recorded once its clock runs again (submit refuses it)
            "its clock is started again"
            if s["status"] == "stopped"
            else _waits(mine[s["step"]], details),
        )
        for s in view["steps"]
        if s["status"] in ("open", "stopped") and s["step"] not in waiting and s["step"] in mine
    ]
    # a step recorded only if it happens (it has no due day) comes after the work that is due
    undated = {s["step"] for s in view["steps"] if s["due"] is None}
    return sorted(found, key=lambda row: row[0] in undated)


def _clocks(decl: ProcessDecl[Any], rules: ProcessPolicy, me: Me) -> dict[str, set[str]]:
    """Which steps' clocks the person may stop (and start again) or extend here: the steps they
    may record, or any step for a manager, where the policy allows it (the service checks the
    approver)."""
    mine = {d.name for d in decl.steps if me.manager or may_record(d, me.roles)}
    return {
        "stop": {
            n for n, r in rules.steps.items() if n in mine and r.stoppable and r.stop_approver
        },
        "extend": {
            n
            for n, r in rules.steps.items()
            if n in mine and r.extendable_to and r.extension_approver
        },
    }


def _opening(view: Mapping[str, Any], pending: list[str]) -> bool:
    """True while a new case waits for its flow to open its first step: nothing open, nothing
    being applied, and no step but those its start closed (a referral measured as it came)."""
    if view["status"] != "open" or pending:
        return False
    opened = datetime.fromisoformat(view["opened_at"])
    return all(s["closed"] and datetime.fromisoformat(s["closed"]) <= opened for s in view["steps"])


def _waits(step: StepDecl[Any, Any], details: Mapping[str, Any]) -> str | None:
    return step.waits_for(details) if step.waits_for else None


def _reason(
    request: Request, here: Site, me: Me, reference: str, error: str | None = None
) -> Response:
    """The page asking why, in the words of the case's process (who reads the reason)."""
    try:
        with here.casework() as cx:
            decl = registry.get(cx.case(reference).process)
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Case not found", str(refused))
    readers = sorted(decl.access_log_readers, key=lambda r: r.seniority)
    names = [r.plural for r in readers]
    who = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    errors = [("reason", error)] if error else []
    return here.render(
        request, "cases/reason.html", me, 400 if error else 200, title=f"Why open {reference}",
        reference=reference, reason="", what=decl.noun.split(" ", 1)[-1], readers=who,
        errors=errors, field_errors_list=errors,
    )  # fmt: skip


def _take_up(me: Me, reference: str, top: set[tuple[str, int]]) -> dict[str, Any] | None:
    """What the page offers beside an action or a decision at the top of its ladder (e.g.
    "Challenge this"), where a process takes such things up and the person may start it."""
    taker = registry.taking_up()
    if taker is None or not top or not may_start(taker, me.roles):
        return None
    links = {f"{what}-{item}": take_up_path(reference, what, item) for what, item in top}
    return {"label": taker.take_up_words, "links": links}

"""My work (the steps I may record, notices awaiting my acknowledgement, my actions, my cases, the
cases I may start) and my notices, acknowledged with one click."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from models import registry, worklist
from models.errors import InputError
from models.permissions import may_start
from notifications.notices import acknowledge as acknowledge_notice
from notifications.notices import subject_of, why_me
from web.deps import Me, Site, checked_form, signed_in, site

router = APIRouter()


@router.get("/my-work")
def my_work(
    request: Request,
    done: str | None = None,
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    with here.casework() as cx:
        steps, actions = cx.my_steps(me.id), cx.my_actions(me.id)
        awaiting = [n for n in worklist.my_notices(cx.session, me.id) if n["awaiting_ack"]]
        cases = worklist.my_cases(cx.session, me.id)
    acknowledged = _acknowledged(here, done)
    starts = [
        (p.code, p.noun.removeprefix("an ").removeprefix("a "))
        for p in registry.processes()
        if may_start(p, me.roles)
    ]
    return here.render(
        request, "work/my_work.html", me, title="My work", steps=steps, actions=actions,
        awaiting=awaiting, cases=cases, starts=starts,
        titles={p.code: here.deps.policy.process(p.code).title for p in registry.processes()},
        flash=f"You acknowledged: {acknowledged}" if acknowledged else None,
    )  # fmt: skip


@router.get("/notices")
def my_notices(
    request: Request, me: Me = Depends(signed_in), here: Site = Depends(site)
) -> Response:
    with here.casework() as cx:
        notices = [
            {**n, "why": why_me(n["because"])} for n in worklist.my_notices(cx.session, me.id)
        ]
    return here.render(request, "work/notices.html", me, title="My notices", notices=notices)


@router.post("/notices/{notice_id}/acknowledge", dependencies=[Depends(checked_form)])
def acknowledge(
    request: Request, notice_id: int, me: Me = Depends(signed_in), here: Site = Depends(site)
) -> Response:
    try:
        with here.casework() as cx:
            acknowledge_notice(cx.session, notice_id=notice_id, staff_id=me.id, now=cx.now())
    except InputError as refused:
        return here.render.refusal(
            request, me, 400, "The notice was not acknowledged", str(refused)
        )
    return RedirectResponse(f"/my-work?done=ack-{notice_id}", status_code=303)


def _acknowledged(here: Site, done: str | None) -> str | None:
    """What the notice just acknowledged was about (its subject), never its number."""
    number = done.removeprefix("ack-") if done and done.startswith("ack-") else ""
    if not number.isdigit():
        return None
    with here.casework() as cx:
        return subject_of(cx.session, int(number))

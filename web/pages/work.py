"""My work (the steps I may record, notices awaiting my acknowledgement, my actions, my cases, the
cases I may start) and my notices, acknowledged with one click."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from models import registry, worklist
from models.errors import InputError
from models.permissions import may_start
from notifications.ack_links import AlreadyAcknowledged, ack_path, link_notice, redeem
from notifications.notices import acknowledge as acknowledge_notice
from notifications.notices import subject_of, why_me
from web.deps import Me, Site, checked_form, signed_in, site
from web.render import sentence

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
    starts = [(p.code, p.noun) for p in registry.processes() if may_start(p, me.roles)]
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


@router.get("/notices/{notice_id}/acknowledge")
def notice_page(
    request: Request, notice_id: int, me: Me = Depends(signed_in), here: Site = Depends(site)
) -> Response:
    """A notice sent to me, with its Acknowledge button while it awaits mine (where a notice's
    email leads when its one-click link has been used or has expired)."""
    with here.casework() as cx:
        found = worklist.my_notices(cx.session, me.id, notice_id=notice_id)
    if not found:
        return here.render.refusal(
            request, me, 404, "Notice not found",
            "There is no such notice sent to you. My notices lists every notice sent to you",
        )  # fmt: skip
    notice = {**found[0], "why": why_me(found[0]["because"])}
    return here.render(request, "work/notice.html", me, title=notice["subject"], notice=notice)


@router.get("/acknowledge/{token}")
def one_click(
    request: Request, token: str, me: Me = Depends(signed_in), here: Site = Depends(site)
) -> Response:
    """A notice's one-click link from its email: acknowledged for the person signed in (sent to
    sign in first, and back), if the link was sent to them, unused and not expired."""
    try:
        with here.casework() as cx:
            notice = redeem(cx.session, token=token, staff_id=me.id, now=cx.now())
            acknowledged = notice.id
    except AlreadyAcknowledged as done:  # a second click: the notice says when
        return RedirectResponse(ack_path(done.notice_id), status_code=303)
    except InputError as refused:
        with here.casework() as cx:
            known = link_notice(cx.session, token)
        return here.render(
            request, "work/link_refused.html", me, 400,
            title="The notice was not acknowledged", message=sentence(str(refused)),
            notice_page=ack_path(known) if known else None,
        )  # fmt: skip
    return RedirectResponse(f"/my-work?done=ack-{acknowledged}", status_code=303)


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

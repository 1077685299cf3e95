"""A foster carer's chronology (models/chronology.py): every case about them over time, for their
annual review and the fostering panel; for managers, the LADO, supervising social workers and the
agency decision maker. Each case shown is kept in its access log."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from models.chronology import chronology
from models.errors import InputError
from models.permissions import may_read_chronology
from models.staff import names as staff_names
from web.deps import Me, Site, signed_in, site

router = APIRouter()


@router.get("/carers/{carer}/chronology")
def carer_chronology(
    request: Request, carer: str, me: Me = Depends(signed_in), here: Site = Depends(site)
) -> Response:
    if not may_read_chronology(me.roles):
        said = "A carer's chronology is for managers, the LADO, supervising social workers and the agency decision maker"  # fmt: skip
        return here.render.refusal(request, me, 403, "The carer's chronology", said)
    try:
        with here.casework() as cx:
            found = chronology(
                cx.session, policy=cx.policy, calendar=cx.calendar, carer=carer, now=cx.now(),
                reader=me.id, via="web",
            )  # fmt: skip
            people = staff_names(cx.session)
    except InputError as refused:
        return here.render.refusal(request, me, 400, "The carer's chronology", str(refused))
    return here.render(
        request, "cases/chronology.html", me, title=f"Chronology: {carer}", found=found,
        people=people,
    )  # fmt: skip

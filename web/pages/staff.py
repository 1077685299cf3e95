"""The staff directory, for managers: who is who, their roles and line managers, who has left."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from models.staff import list_staff
from web.deps import Me, Site, manager, site

router = APIRouter()


@router.get("/staff")
def staff_page(request: Request, me: Me = Depends(manager), here: Site = Depends(site)) -> Response:
    with here.casework() as cx:
        people = [p.as_dict() for p in list_staff(cx.session)]
    return here.render(request, "staff/staff.html", me, title="Staff directory", people=people)

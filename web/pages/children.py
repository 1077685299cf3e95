"""My children: the IRO's whole picture of each child they are named for (every open case across
processes, the steps late or due soon, the notices nobody has acknowledged, the flags such as a
challenge open and where it is), worst first; an IRO manager sees it for each IRO they manage."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from models import registry
from models.children import ChildPicture, pictures
from models.enums import Role
from models.staff import list_staff, walk_up
from models.staff import names as staff_names
from web.deps import Me, Site, signed_in, site

router = APIRouter()

IRO_SERVICE = {Role.iro, Role.iro_manager}


@router.get("/my-children")
def my_children(
    request: Request, me: Me = Depends(signed_in), here: Site = Depends(site)
) -> Response:
    if not me.roles & IRO_SERVICE:
        return here.render.refusal(
            request, me, 403, "My children", "This page is for IROs and IRO managers"
        )
    with here.casework() as cx:
        staff = list_staff(cx.session, Role.iro)
        managers = {p.id: p.line_manager_id for p in list_staff(cx.session)}
        managed = [
            p.id
            for p in staff
            if p.active and p.id != me.id and me.id in walk_up(p.id, managers.get)
        ]
        iros = ([me.id] if Role.iro in me.roles else []) + sorted(managed)
        found = pictures(
            session=cx.session, policy=cx.policy, calendar=cx.calendar, now=cx.now(), iros=iros
        )
        people = staff_names(cx.session)
    by_iro: dict[str, list[ChildPicture]] = {iro: [] for iro in iros}
    for picture in found:
        by_iro[picture.iro].append(picture)
    codes = registry.codes()
    return here.render(
        request, "work/my_children.html", me, title="My children", groups=by_iro,
        mine=me.id, people=people,
        titles={code: here.deps.policy.process(code).title for code in codes},
    )  # fmt: skip

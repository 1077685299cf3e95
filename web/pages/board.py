"""Every open case for managers, worst first, grouped by process, with filters and a CSV of the
same rows."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from models import registry, worklist
from models.staff import list_staff
from models.staff import names as staff_names
from web.deps import Me, Site, manager, site
from web.render import csv_download

router = APIRouter()


@router.get("/board")
def board_page(
    request: Request,
    process: str | None = None,
    team: str | None = None,
    person: str | None = None,
    rag: str | None = None,
    flagged: str | None = None,
    me: Me = Depends(manager),
    here: Site = Depends(site),
) -> Response:
    filters = _filters(process, team, person, rag, flagged)
    with here.casework() as cx:
        rows = cx.board(**filters)
        staff = list_staff(cx.session)
        people = staff_names(cx.session)
    teams = sorted({p.line_manager_id for p in staff if p.line_manager_id}, key=people.__getitem__)
    everyone = sorted((p.id for p in staff if p.active), key=people.__getitem__)
    codes = registry.codes()
    return here.render(
        request, "board/board.html", me, title="Every open case", rows=rows, filters=filters,
        processes=codes, teams=teams, everyone=everyone, people=people,
        titles={code: here.deps.policy.process(code).title for code in codes},
        flags=list(registry.child_flags().values()),
        query=urlencode({k: v for k, v in filters.items() if v}),
    )  # fmt: skip


@router.get("/board.csv", dependencies=[Depends(manager)])
def board_csv(
    process: str | None = None,
    team: str | None = None,
    person: str | None = None,
    rag: str | None = None,
    flagged: str | None = None,
    here: Site = Depends(site),
) -> Response:
    with here.casework() as cx:
        rows = cx.board(**_filters(process, team, person, rag, flagged))
    header = list(worklist.Row.__dataclass_fields__)
    return csv_download("open-cases.csv", header, [list(r.as_dict().values()) for r in rows])


def _filters(
    process: str | None,
    team: str | None,
    person: str | None,
    rag: str | None,
    flagged: str | None = None,
) -> dict[str, str | None]:
    return {
        "process": process or None,
        "team": team or None,
        "person": (person or "").strip() or None,
        "rag": rag if rag in worklist.RAG_ORDER else None,
        "flagged": "yes" if flagged == "yes" else None,
    }

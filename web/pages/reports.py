"""Timeliness for managers: the steps of a process done each month (an SVG chart with the same
numbers as a table, and as CSV), each step's counts over the months, and the process's own
measures."""

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from models import registry
from models.calendar import add_months
from models.casework import Casework
from models.errors import InputError
from models.figures import Figures
from models.reports import period
from models.workbook import workbook
from web import charts
from web.deps import Me, Site, manager, site
from web.render import csv_download, harden

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter()


@router.get("/timeliness")
def timeliness_page(
    request: Request,
    process: str | None = None,
    months: int = 6,
    me: Me = Depends(manager),
    here: Site = Depends(site),
) -> Response:
    process = process or registry.codes()[0]
    if process not in registry.codes():
        return here.render.refusal(request, me, 404, "Not found", f"no process {process!r}")
    with here.casework() as cx:
        bars, measures, by_step = _timeliness(cx, process, months)
    title = here.deps.policy.process(process).title
    chart = Markup(charts.stacked_bars("steps", f"{title}: steps done each month", bars))
    return here.render(
        request, "reports/timeliness.html", me, title=f"Timeliness: {title}", heading=title,
        process=process, processes=registry.codes(), months=months, bars=bars,
        titles={code: here.deps.policy.process(code).title for code in registry.codes()},
        series=[name for name, _ in charts.SERIES], measures=measures, by_step=by_step, chart=chart,
        legend=charts.legend(),
        reports=[
            (d.report_name, d.figures_title or here.deps.policy.process(d.code).title)
            for d in registry.processes()
            if d.figures
        ],
    )  # fmt: skip


@router.get("/timeliness.csv", dependencies=[Depends(manager)])
def timeliness_csv(process: str | None = None, months: int = 6, here: Site = Depends(site)) -> Response:  # fmt: skip
    process = process or registry.codes()[0]
    if process not in registry.codes():
        return Response("no such process\n", status_code=404, media_type="text/plain")
    with here.casework() as cx:
        bars, _, _ = _timeliness(cx, process, months)
    series = [name for name, _ in charts.SERIES]
    rows = [[bar.label, *[bar.counts.get(name, 0) for name in series]] for bar in bars]
    return csv_download(f"timeliness-{process}.csv", ["month", *series], rows)


def _timeliness(
    cx: Casework, process: str, months: int
) -> tuple[list[charts.Bar], list[dict[str, Any]], list[dict[str, Any]]]:
    """Steps done each month (the last `months`, this one included); over them all, the measures
    (a step's targets, the process's own) and each step's counts."""
    months = min(max(months, 1), 24)
    today = cx.today()
    firsts = [add_months(today.replace(day=1), -n) for n in reversed(range(months))]
    bars = []
    for first in firsts:
        last = add_months(first, 1) - timedelta(days=1)
        report = cx.timeliness(process, first, min(last, today))
        counts = {name: sum(r.counts[name] for r in report.steps) for name, _ in charts.SERIES}
        bars.append(charts.Bar(f"{first:%b %Y}", counts))
    whole = cx.timeliness(process, firsts[0], today)
    return bars, [m.as_dict() for m in whole.measures], [r.as_dict() for r in whole.steps]


@router.get("/reports/{name}.csv", dependencies=[Depends(manager)])  # before the page: not a name
def figures_csv(
    name: str,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    rows: str | None = None,
    here: Site = Depends(site),
) -> Response:
    try:
        found = _figures(here, name, start, end)
    except InputError as refused:
        return Response(f"{refused}\n", status_code=404, media_type="text/plain")
    period = f"{found.start}-to-{found.end}"
    if rows == "yes" and found.listing is not None:  # the rows, as the return names its columns
        listed = [list(r) for r in found.listing.rows]
        return csv_download(f"{name}-rows-{period}.csv", list(found.listing.columns), listed)
    figures = [[f.section, f.label, f.value] for f in found.figures]
    return csv_download(f"{name}-{period}.csv", ["section", "figure", "value"], figures)


@router.get("/reports/{name}.xlsx", dependencies=[Depends(manager)])  # before the page: not a name
def figures_xlsx(
    name: str,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    here: Site = Depends(site),
) -> Response:
    try:
        found = _figures(here, name, start, end)
    except InputError as refused:
        return Response(f"{refused}\n", status_code=404, media_type="text/plain")
    response = Response(workbook(found.sheets()), media_type=XLSX)
    filename = f"{name}-{found.start}-to-{found.end}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    harden(response)
    return response


def _figures(here: Site, name: str, start: str | None, end: str | None) -> Figures:
    """A process's own report over the period asked (this reporting year by default)."""
    with here.casework() as cx:
        first, last = _period(cx.today(), start, end)
        return cx.figures(name, first, last)


@router.get("/reports/{name}")
def figures_page(
    request: Request,
    name: str,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    me: Me = Depends(manager),
    here: Site = Depends(site),
) -> Response:
    """A process's own report (e.g. the IRO service's figures) over a period: this reporting year
    (1 April to 31 March) by default."""
    try:
        found = _figures(here, name, start, end)
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Report not found", str(refused))
    sections: dict[str, list[Any]] = {}
    for figure in found.figures:
        sections.setdefault(figure.section, []).append(figure)
    return here.render(
        request, "reports/figures.html", me, title=found.title, heading=found.title, name=name,
        first=found.start, last=found.end, sections=sections, listing=found.listing,
    )  # fmt: skip


def _period(today: date, start: str | None, end: str | None) -> tuple[date, date]:
    """The report's first and last days: as given (as 2026-04-01), else this reporting year's."""
    try:
        first, last = period(
            today,
            date.fromisoformat(start) if start else None,
            date.fromisoformat(end) if end else None,
        )
    except ValueError:
        raise InputError("Enter the dates as year-month-day, for example 2026-04-01") from None
    if first > last:
        raise InputError("The first day must be before the last day")
    return first, last

"""Taking up what another case left undone at the top of its ladder (an action overdue at its last
rung, a decision's rationale still missing after its last rung): the start form of the process
that takes such things up (its declaration's `take_up`, e.g. the IRO's challenge), filled in with
the case, its child and the item. A notice's link carries ids only; the words are read here."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from models import registry
from models.errors import InputError
from models.permissions import may_start, roles_needed
from web.deps import Me, Site, open_to_me, signed_in, site
from web.render import long_date

router = APIRouter(dependencies=[Depends(open_to_me)])  # a restricted case: its people only


@router.get("/cases/{reference}/take-up/{what}/{item_id}")
def take_up(
    request: Request,
    reference: str,
    what: str,
    item_id: int,
    me: Me = Depends(signed_in),
    here: Site = Depends(site),
) -> Response:
    decl = registry.taking_up()
    if decl is None or what not in ("action", "decision"):
        return here.render.refusal(request, me, 404, "Not found", "There is nothing to take up here")  # fmt: skip
    if not may_start(decl, me.roles):
        return here.render.refusal(request, me, 403, "You cannot start this case", f"starting {decl.noun} case needs the role {roles_needed(decl.may_start)}")  # fmt: skip
    try:
        with here.casework() as cx:
            view = cx.view(reference)
    except InputError as refused:
        return here.render.refusal(request, me, 404, "Case not found", str(refused))
    item = _item(view, what, item_id)
    if item is None:
        return here.render.refusal(request, me, 404, "Not found", f"{reference} has no such {what}")  # fmt: skip
    assert decl.take_up is not None
    filled = _flat(decl.take_up(view, what, item))
    return RedirectResponse(f"/start/{decl.code}?{urlencode(filled)}", status_code=303)


def _item(view: dict[str, object], what: str, item_id: int) -> str | None:
    """The item in words: an action by its title, a decision by its kind and value."""
    found = [x for x in view[f"{what}s"] if x["id"] == item_id]  # type: ignore[attr-defined]
    if not found:
        return None
    if what == "action":
        return f"The action \u201c{found[0]['title']}\u201d, due {long_date(str(found[0]['due']))}, still open"
    kind = str(found[0]["kind"]).replace("_", " ")
    return f"The {kind} decision ({found[0]['value']}): its reasons still not recorded"


def _flat(values: dict[str, object], prefix: str = "") -> dict[str, str]:
    """A start's prefill as the start page reads it from its address (`child.child=C-1`)."""
    flat: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{name}."))
        elif value is not None:
            flat[f"{prefix}{name}"] = str(value)
    return flat

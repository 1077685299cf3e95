"""Starting a case and recording a step in the browser: a form generated from the input model
(web/forms.py), posted to the same service functions as `safeguard start` and `safeguard record`.

The answer comes as soon as the submission is stored (DESIGN rule 13): the flow is nudged in the
background (`WebDeps.carry_on`), and the case page says "being applied" until it has moved on.
Posting the same form twice stores it once (each form carries its own idempotency key).
"""

import secrets
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from models import cases, followup, registry, steps
from models.errors import FieldErrors, InputError
from models.inputs import ActionAccount
from web import forms

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from datetime import date

    from fastapi.responses import HTMLResponse
    from sqlmodel import Session

    from web.app import Me, WebDeps


class Recording:
    """The record and start forms (mixed into Pages, which provides these)."""

    deps: "WebDeps"
    started: dict[str, str]  # a start form's key -> the case it started

    if TYPE_CHECKING:

        def session(self) -> AbstractContextManager[Session]: ...

        def render(
            self,
            request: Request,
            template: str,
            me: "Me | None",
            status: int = 200,
            **context: Any,
        ) -> HTMLResponse: ...

        def refuse(
            self, request: Request, me: "Me | None", status: int, title: str, message: str
        ) -> HTMLResponse: ...

        def _long_date(self, value: "str | date | None") -> str: ...

    # --- recording a step --------------------------------------------------------------------------

    def record_form(
        self,
        request: Request,
        me: "Me",
        reference: str,
        step: str,
        fields: list[forms.FormField] | None = None,
        errors: list[tuple[str, str]] | None = None,
        late_reason: str | None = None,
        form_key: str | None = None,
    ) -> Response:
        try:
            with self.session() as session:
                case = cases.get_case(session, reference)
                decl = registry.get(case.process).step(step)
                open_now = {s.name: s for s in steps.open_steps_of(session, case.id or 0)}
                actions = followup.open_actions(session, case.id or 0)
        except InputError as refused:
            return self.refuse(request, me, 404, "Not found", str(refused))
        if step not in open_now:
            waiting = ", ".join(open_now) or "none"
            return self.refuse(request, me, 404, "This step is not open", f"{step} is not open in {reference}; open steps: {waiting}")  # fmt: skip
        if not decl.may_record & me.roles:
            needed = " or ".join(sorted(r.label for r in decl.may_record))
            return self.refuse(request, me, 403, "You cannot record this step", f"recording {step} needs the role {needed}")  # fmt: skip
        if fields is None:
            fields = forms.build(decl.input, _accounts(decl.input, actions))
        _label_actions(fields, actions)
        rule = self.deps.policy.process(case.process).step(step)
        open_step = open_now[step]
        late = open_step.due_on < self.deps.calendar.local_date(self.deps.clock())
        return self.render(
            request,
            "record.html",
            me,
            400 if errors else 200,
            title=f"{rule.title}: {reference}",
            caption=reference,
            heading=rule.title,
            lead=f"Due {self._long_date(open_step.due_on)}. {rule.source.split('[')[0].strip()}",
            action=f"/cases/{reference}/record/{step}",
            fields=fields,
            errors=errors or [],
            form_key=form_key or secrets.token_urlsafe(16),
            late=open_step.due_on if late else None,
            late_reason=late_reason,
            button="Save and continue",
            back=f"/cases/{reference}",
        )

    def record(self, request: Request, me: "Me", reference: str, step: str, form: Any) -> Response:
        try:
            with self.session() as session:
                case = cases.get_case(session, reference)
                decl = registry.get(case.process).step(step)
                actions = followup.open_actions(session, case.id or 0)
        except InputError as refused:
            return self.refuse(request, me, 404, "Not found", str(refused))
        fields = forms.build(decl.input, _accounts(decl.input, actions), _counts(form))
        payload, errors = forms.read(fields, form)
        late_reason = (form.get("late_reason") or "").strip() or None
        key = (form.get("form_key") or "").strip() or None
        if form.get("add") or errors:  # "add another", or a date that is no date: show it again
            return self.record_form(request, me, reference, step, fields, _shown(fields, errors), late_reason, key)  # fmt: skip
        try:
            with self.session() as session:
                submission, _ = steps.submit(
                    session=session,
                    policy=self.deps.policy,
                    calendar=self.deps.calendar,
                    reference=reference,
                    step_name=step,
                    author_id=me.id,
                    payload=payload,
                    at=None,
                    key=key,
                    now=self.deps.clock(),
                    late_reason=late_reason,
                )
                run_id, stored = cases.get_case(session, reference).flow_run_id, submission.id or 0
        except InputError as refused:
            shown = _refusal(fields, step, refused)
            return self.record_form(request, me, reference, step, fields, shown, late_reason, key)
        self.deps.carry_on(run_id, stored)  # in the background: nobody waits for Prefect
        return RedirectResponse(f"/cases/{reference}?recorded={step}", status_code=303)

    # --- starting a case ---------------------------------------------------------------------------

    def start_form(
        self,
        request: Request,
        me: "Me",
        process: str,
        fields: list[forms.FormField] | None = None,
        errors: list[tuple[str, str]] | None = None,
        form_key: str | None = None,
    ) -> Response:
        try:
            decl = registry.get(process)
        except InputError as refused:
            return self.refuse(request, me, 404, "Not found", str(refused))
        if not decl.may_start & me.roles:
            needed = " or ".join(sorted(r.label for r in decl.may_start))
            return self.refuse(request, me, 403, "You cannot start this case", f"starting {decl.noun} case needs the role {needed}")  # fmt: skip
        title = self.deps.policy.process(process).title
        return self.render(
            request,
            "record.html",
            me,
            400 if errors else 200,
            title=f"Start: {title}",
            caption="Start a case",
            heading=title,
            lead=_start_lead(decl.lead_role in me.roles),
            action=f"/start/{process}",
            fields=fields if fields is not None else forms.build(decl.start_input),
            errors=errors or [],
            form_key=form_key or secrets.token_urlsafe(16),
            late=None,
            button="Start the case",
            back="/my-work",
        )

    def start(self, request: Request, me: "Me", process: str, form: Any) -> Response:
        try:
            decl = registry.get(process)
        except InputError as refused:
            return self.refuse(request, me, 404, "Not found", str(refused))
        fields = forms.build(decl.start_input, None, _counts(form))
        payload, errors = forms.read(fields, form)
        key = (form.get("form_key") or "").strip() or None
        if form.get("add") or errors:
            return self.start_form(request, me, process, fields, _shown(fields, errors), key)
        started = self.started.get(key or "")
        if started:  # the same form again (a double click): the case it started
            return RedirectResponse(f"/cases/{started}", status_code=303)
        try:
            with self.session() as session:
                case = cases.start_case(
                    session=session,
                    policy=self.deps.policy,
                    calendar=self.deps.calendar,
                    process=process,
                    author_id=me.id,
                    payload=payload,
                    now=self.deps.clock(),
                )
                reference, case_id = case.reference, case.id or 0
        except InputError as refused:
            return self.start_form(request, me, process, fields, _refusal(fields, f"{process} start", refused), key)  # fmt: skip
        if key:
            self.started[key] = reference
        self.deps.launch(case_id)  # its flow run, in the background (else the sweep creates it)
        return RedirectResponse(f"/cases/{reference}", status_code=303)


def _start_lead(leading: bool) -> str:
    return (
        f"You start it{' and lead it' if leading else ''}; its first step opens when it is saved."
    )


def _counts(form: Any) -> dict[str, int]:
    """How many items each repeated field shows: as posted, one more where "add another" was
    pressed."""
    counts = {
        key.removesuffix("-count"): int(value)
        for key, value in form.items()
        if key.endswith("-count") and str(value).isdigit()
    }
    added = form.get("add")
    if added:
        counts[added] = counts.get(added, 0) + 1
    return counts


def _accounts(model: Any, actions: dict[int, str]) -> dict[str, Any] | None:
    """A review (or a closing account) starts with one row per open action, each named."""
    names = forms.lists_of(model, ActionAccount)
    if not names or not actions:
        return None
    return {name: [{"action_id": n} for n in actions] for name in names}


def _label_actions(fields: list[forms.FormField], actions: dict[int, str]) -> None:
    """Each account's row says which action it is about."""
    for f in fields:
        if f.kind == "repeat" and f.template is ActionAccount:
            for row in f.rows:
                for child in row:
                    if child.path[-1] == "action_id" and child.value in actions:
                        child.hint = f"Action {child.value}: {actions[child.value]}"


def _shown(fields: list[forms.FormField], errors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    for field_id, message in errors:
        for f in forms.walk(fields):
            if f.id == field_id:
                f.error = message
    return errors


def _refusal(
    fields: list[forms.FormField], what: str, refused: InputError
) -> list[tuple[str, str]]:
    """The service's refusal on the fields it names (each, where it gave several), else on the
    form's first field, in the error summary either way."""
    named = refused.fields if isinstance(refused, FieldErrors) else []
    shown: list[tuple[str, str]] = []
    for loc, message in named:
        target = forms.locate(fields, loc)
        if target is None:
            continue
        target.error = f"{target.label}: {message}" if target.path[-1] != loc.split(".")[-1] else f"{target.label} {message}"  # fmt: skip
        shown.append((target.id, target.error))
    if shown:
        return shown
    text = str(refused).split(" (example input:")[0].removeprefix(f"{what}: ")
    text = text.removeprefix("input: ")  # a rule across the whole input names no field
    # A rule across fields (a check) names no path: shown on the field its words are about (the
    # longest field name in it: "unaccounted" is about "accounted"), else on the form's first.
    mentioned = sorted((f for f in fields if str(f.path[-1]) in text), key=lambda f: -len(f.id))
    where = mentioned[0] if mentioned else (fields[0] if fields else None)
    if where is not None:
        where.error = text
        return [(where.id, text)]
    return [("main-content", text)]

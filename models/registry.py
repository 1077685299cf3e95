"""The registry of processes: the only way the engine reaches a process (DESIGN rule 11).

Processes are found, never imported by name:
- installed ones through the `safeguard.processes` entry points (pyproject.toml names
  `models.processes.allegation:ALLEGATION`; an authority's own package can add its own);
- further modules named by SAFEGUARD_PROCESSES (each defines `PROCESS`), e.g. a process that exists
  only in the tests.

A declaration is checked when it is registered (a bad one is refused with the reason), and against
the policy when the policy is loaded (`check_policy`): every declared step needs a clock there.
"""

import importlib
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from models.errors import InputError
from models.policy import Policy
from models.process import ProcessDecl, check_declaration

ENTRY_POINTS = "safeguard.processes"

_registered: dict[str, ProcessDecl[Any]] = {}
_found_installed = False
_modules_loaded: set[str] = set()


def register(decl: ProcessDecl[Any]) -> ProcessDecl[Any]:
    """Register a process declaration (again is fine, a different one under the same code is not)."""
    try:
        check_declaration(decl)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    known = _registered.get(decl.code)
    if known is not None and known is not decl:
        raise InputError(f"process {decl.code!r} is declared twice ({known.flow} and {decl.flow})")
    _registered[decl.code] = decl
    return decl


def discover(modules: Iterable[str] = ()) -> None:
    """Register the installed processes (once) and those declared by `modules` (each once)."""
    global _found_installed
    if not _found_installed:
        for point in entry_points(group=ENTRY_POINTS):
            register(point.load())
        _found_installed = True
    for name in modules:
        if name in _modules_loaded:
            continue
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise InputError(
                f"SAFEGUARD_PROCESSES: cannot import {name!r} ({exc}); name a module that defines PROCESS"
            ) from None
        decl = getattr(module, "PROCESS", None)
        if not isinstance(decl, ProcessDecl):
            raise InputError(f"SAFEGUARD_PROCESSES: {name!r} defines no PROCESS declaration")
        register(decl)
        _modules_loaded.add(name)


def get(code: str) -> ProcessDecl[Any]:
    """Return the process with this code, or raise InputError listing the processes there are."""
    discover()
    try:
        return _registered[code]
    except KeyError:
        raise InputError(f"{code!r} is not a process; processes: {', '.join(codes())}") from None


def processes() -> list[ProcessDecl[Any]]:
    """Return every registered process, by code."""
    discover()
    return [_registered[c] for c in sorted(_registered)]


def child_flags() -> dict[str, str]:
    """Return, per process that flags its children's other cases, its flag (`child_flag`)."""
    return {p.code: p.child_flag for p in processes() if p.child_flag}


def taking_up() -> ProcessDecl[Any] | None:
    """Return the process that takes up what another case left undone at the top of its ladder
    (`take_up`), if one is registered."""
    return next((p for p in processes() if p.take_up), None)


def codes() -> list[str]:
    """Return the codes of every registered process."""
    return [p.code for p in processes()]


def policy_files() -> list[str]:
    """Return the policy defaults that registered processes bring with them."""
    return [p.policy_file for p in processes() if p.policy_file]


def check_policy(policy: Policy) -> None:
    """Raise InputError unless every registered process has its policy section, and every declared
    step a clock there (a step the policy times but no declaration has must be measured only)."""
    for decl in processes():
        if decl.code not in policy.processes:
            raise InputError(
                f"process {decl.code!r} has no [processes.{decl.code}] section in the policy "
                f"({', '.join(policy.files)}); give it one (or a policy_file in its declaration)"
            )
        section = policy.processes[decl.code]
        declared = {s.name for s in decl.steps}
        for name in declared - set(section.steps):
            raise InputError(
                f"process {decl.code!r}: step {name!r} has no clock in [processes.{decl.code}.steps]"
            )
        for event in decl.case_events:
            for name in (event.name, *event.then):
                if name not in section.events:
                    raise InputError(
                        f"process {decl.code!r}: case event {name!r} is not in "
                        f"[processes.{decl.code}.events]; add it there"
                    )
        for name, rule in section.steps.items():
            if name not in declared and not rule.measured_only:
                raise InputError(
                    f"process {decl.code!r}: the policy times step {name!r}, which the declaration "
                    "does not have (only a measured_only step may be policy alone)"
                )

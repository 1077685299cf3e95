"""The layout holds (DESIGN rule 11): the engine reaches a process only through the registry and
never speaks its words, the project's modules import each other without a cycle (type-only imports
and imports inside functions count), and no import hides inside a function to dodge one. Read from
the source files themselves, so an import or a word anywhere in a module counts."""

import ast
import re
from pathlib import Path
from typing import get_args

from pydantic import BaseModel
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (the columns: words the engine's own record uses)
from models import registry
from models.enums import Role
from models.inputs import ActionAccount, ChildInCase, NewAction

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("models", "tasks", "flows", "notifications", "deployments", "safeguard", "web")
TEMPLATES = [*(ROOT / "web" / "templates").rglob("*.html"), *(ROOT / "notifications" / "templates").glob("*.j2")]  # fmt: skip

# Imports inside a function, each with its reason (none may be there to dodge a cycle).
LAZY = {
    # Prefect reads DO_NOT_TRACK when it is imported: `serve` sets it first, and the other commands
    # never pay for importing Prefect.
    ("safeguard.cli.service", "deployments.local"),
}

# Words a process's inputs use that are the engine's own too: the keys of its case view, reports
# and records (a decision, its rationale, the actions, the children, a notice's "to" and "by", the
# day a case closed, a stopped clock's review day), and the carer whose record spans processes
# (`safeguard carer show`).
ENGINE_WORDS = {
    "actions", "by", "carer", "children", "closed_on", "decision", "decisions", "notes", "number",
    "rationale", "review_on", "summary", "to", "what", "who",
}  # fmt: skip


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _resolve(module: str, names: list[str]) -> set[str]:
    """Return the project modules an import statement reaches (`from a import b` may name a module)."""
    reached = set()
    for name in names:
        if f"{module}.{name}" in MODULES:
            reached.add(f"{module}.{name}")
        elif module in MODULES:
            reached.add(module)
    return reached


def _imports(module: str, *, top_level_only: bool) -> set[str]:
    """The project modules a module imports: at its top, or anywhere (under `if TYPE_CHECKING:`,
    inside a function) when not `top_level_only`."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    reached: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            reached |= _resolve(node.module, [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            reached |= {a.name for a in node.names if a.name in MODULES}
    return reached


def _process_modules() -> set[str]:
    """A process's own modules: its declaration (models/processes/), its flow, its commands."""
    named = set()
    for decl in registry.processes():
        named.add(decl.flow.partition(":")[0])
        if decl.cli:
            named.add(decl.cli.partition(":")[0])
    return named


def _is_process_module(module: str) -> bool:
    return (".processes." in f".{module}." and not module.endswith(".processes")) or (
        module in _process_modules()
    )


ENGINE = [m for m in MODULES if not _is_process_module(m)]


def test_no_engine_module_imports_a_process() -> None:
    assert "models.steps.submit" in ENGINE and "flows.sweep" in ENGINE
    assert "safeguard.cli.cases" in ENGINE and "web.pages.cases" in ENGINE
    offenders = {
        m: sorted(i for i in _imports(m, top_level_only=False) if _is_process_module(i))
        for m in ENGINE
    }
    assert {m: i for m, i in offenders.items() if i} == {}


def test_the_project_imports_without_a_cycle_type_only_imports_included() -> None:
    graph = {m: _imports(m, top_level_only=False) for m in MODULES}
    seen: dict[str, str] = {}  # module -> "visiting" / "done"
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        seen[module] = "visiting"
        for other in sorted(graph[module]):
            if seen.get(other) == "visiting":
                cycles.append([*path[path.index(other) :], other] if other in path else [other])
            elif other not in seen:
                visit(other, [*path, other])
        seen[module] = "done"

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
    assert cycles == []


def test_no_import_hides_inside_a_function() -> None:
    lazy = set()
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and inner.module:
                        lazy |= {
                            (module, r)
                            for r in _resolve(inner.module, [a.name for a in inner.names])
                        }
                    elif isinstance(inner, ast.Import):
                        lazy |= {(module, a.name) for a in inner.names if a.name in MODULES}
    assert lazy == LAZY


# --- each process owns its words -----------------------------------------------------------------


def _fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    """Every field name of an input model and the models it holds."""
    if model in seen:
        return set()
    seen.add(model)
    found = set(model.model_fields)
    for info in model.model_fields.values():
        kinds = [info.annotation]
        while kinds:
            kind = kinds.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found |= _fields(kind, seen)
            kinds += list(get_args(kind))
    return found


def _process_vocabulary() -> tuple[set[str], set[str]]:
    """(the processes' codes, the words only a process uses: its steps, its events, its inputs'
    fields less the engine's own shared inputs, columns and roles)."""
    codes = set(registry.codes())
    shared = set().union(*(_fields(m, set()) for m in (ChildInCase, NewAction, ActionAccount)))
    columns = {c.name for t in SQLModel.metadata.tables.values() for c in t.columns}
    words: set[str] = set()
    for decl in registry.processes():
        words |= _fields(decl.start_input, set())
        for step in decl.steps:
            words |= {step.name} | _fields(step.input, set())
        words |= {e.name for e in decl.case_events}
    own = shared | columns | {r.value for r in Role} | ENGINE_WORDS
    return codes, words - own


def _spoken(path: Path, codes: set[str], words: set[str]) -> list[str]:
    """The process codes (as words, names or imports) and process-only words (as whole strings) a
    module's code holds; its docstrings and comments may give examples."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    exported = {  # `__all__`: the module's own names, read as names
        id(item)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", "") == "__all__" for t in node.targets)
        for item in getattr(node.value, "elts", [])
    }
    said = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            found = set(re.findall(r"[a-z0-9_]+", node.value)) & codes
            found |= {node.value} & words if id(node) not in exported else set()
            said += [f"{path.name}:{node.lineno} {w!r}" for w in sorted(found)]
        elif isinstance(node, ast.Name | ast.alias | ast.Attribute | ast.FunctionDef):
            name = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "name", "")  # fmt: skip
            if name.rsplit(".", 1)[-1] in codes:
                said.append(f"{path.name}:{getattr(node, 'lineno', 0)} {name}")
    return said


def test_no_engine_module_or_page_names_a_process_or_its_words() -> None:
    """DESIGN rule 14: the words live with the declaration that owns them. Form labels, who reads
    the access log, what leaves a carer's file, each process's commands: all the declarations'."""
    codes, words = _process_vocabulary()
    spoken = {m: s for m in ENGINE if (s := _spoken(MODULES[m], codes, words))}
    assert spoken == {}
    in_pages = {
        str(t.relative_to(ROOT)): sorted(set(re.findall(r"\b[a-z_]+\b", t.read_text())) & codes)
        for t in TEMPLATES
    }
    assert {t: c for t, c in in_pages.items() if c} == {}


def test_the_checks_see_what_they_claim_to() -> None:
    # Guard against a test that cannot fail: the graph finds real edges, real process modules,
    # a type-only import, and the scan finds a process's words where they are spoken.
    assert "models.processes.allegation" in MODULES and _is_process_module("flows.allegation")
    assert _is_process_module("safeguard.cli.processes.complaint")
    assert _is_process_module("models.processes.disruption.meeting")
    assert not _is_process_module("models.processes") and not _is_process_module("models.steps")
    assert "models.steps.keys" in _imports("flows.steps", top_level_only=True)
    assert "models.cases" in _imports("models.steps.submit", top_level_only=True)
    assert "models.cases.parties" in _imports("models.process", top_level_only=False)
    assert "models.cases.parties" not in _imports("models.process", top_level_only=True)
    codes, words = _process_vocabulary()
    assert {"allegation", "disruption", "complaint"} <= codes
    assert {"initial_consideration", "held_on", "remove_from_carer_file"} & words >= {
        "initial_consideration",
        "held_on",
    }
    declaration = ROOT / "models" / "processes" / "allegation" / "start.py"
    assert any("'initial_consideration'" in s for s in _spoken(declaration, codes, words))
    assert _spoken(ROOT / "flows" / "allegation.py", codes, words)  # its name and imports

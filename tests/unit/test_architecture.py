"""The layout holds (DESIGN rule 11): the engine reaches a process only through the registry, the
project's modules import each other without a cycle, and no import hides inside a function to dodge
one. Read from the source files' import statements, so an import anywhere in a module counts."""

import ast
from pathlib import Path

from models import registry

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("models", "tasks", "flows", "notifications", "deployments", "safeguard", "web")

# Imports inside a function, each with its reason (none may be there to dodge a cycle).
LAZY = {
    # Prefect reads DO_NOT_TRACK when it is imported: `serve` sets it first, and the other commands
    # never pay for importing Prefect.
    ("safeguard.cli.service", "deployments.local"),
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
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
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    reached: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            reached |= _resolve(node.module, [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            reached |= {a.name for a in node.names if a.name in MODULES}
    return reached


def _is_process_module(module: str) -> bool:
    process_flows = {decl.flow.partition(":")[0] for decl in registry.processes()}
    return module.startswith("models.processes.") or module in process_flows


def test_no_engine_module_imports_a_process() -> None:
    engine = [m for m in MODULES if not _is_process_module(m) and m != "models.processes"]
    assert (
        "models.steps.submit" in engine
        and "flows.sweep" in engine
        and "safeguard.cli.cases" in engine
    )
    offenders = {
        m: sorted(i for i in _imports(m, top_level_only=False) if _is_process_module(i))
        for m in engine
    }
    assert {m: i for m, i in offenders.items() if i} == {}


def test_the_project_imports_without_a_cycle() -> None:
    graph = {m: _imports(m, top_level_only=True) for m in MODULES}
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


def test_the_checks_see_what_they_claim_to() -> None:
    # Guard against a test that cannot fail: the graph finds real edges and real process modules.
    assert "models.processes.allegation" in MODULES and _is_process_module("flows.allegation")
    assert "models.steps.keys" in _imports("flows.steps", top_level_only=True)
    assert "models.cases" in _imports("models.steps.submit", top_level_only=True)

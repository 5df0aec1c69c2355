"""The code's layers read one way, checked on the imports themselves (with ``ast``).

From the bottom: the core (records, store, mail helpers, outbound, events …), the stages,
the drivers and use cases (``pipeline.runner``, ``pipeline.handover``, ``pipeline.replay``,
``pipeline.services``), and on top the front ends (``web``, ``workers``). An import may
point down or sideways within a layer, never up; stages never import a sibling stage; and
no module imports itself back through others. Views, stages and use cases run no SQL.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "web", "workers")
DRIVERS = ("pipeline.runner", "pipeline.handover", "pipeline.replay", "pipeline.services")


def module_names() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports (``from a import b`` names ``a.b`` if a module)."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            targets |= {
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                for a in node.names
            }
    return {t for t in targets if t in known}


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imports_of(path, set(modules)) for name, path in modules.items()}


def layer(module: str) -> int:
    """0 the core, 1 the stages, 2 drivers and use cases, 3 the front ends."""
    if module.split(".")[0] in ("web", "workers"):
        return 3
    if any(module == d or module.startswith(d + ".") for d in DRIVERS):
        return 2
    if module == "pipeline.stages" or module.startswith("pipeline.stages."):
        return 1
    return 0


def test_no_import_points_to_a_higher_layer():
    upward = [
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        for target in targets
        if layer(target) > layer(source)
    ]
    assert upward == []


def test_no_stage_imports_a_sibling_stage():
    stage_modules = {m for m in import_graph() if m.startswith("pipeline.stages.")}
    reaching = [
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        if source in stage_modules
        for target in targets & stage_modules
    ]
    assert reaching == []


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    done: set[str] = set()

    def cycle_from(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for target in sorted(graph[module]):
            if found := cycle_from(target, [*path, module]):
                return found
        done.add(module)
        return None

    cycles = [c for m in sorted(graph) if (c := cycle_from(m, []))]
    assert cycles == []


def test_views_stages_and_use_cases_leave_sql_to_the_store():
    places = [ROOT / "web", ROOT / "pipeline" / "stages", ROOT / "pipeline" / "services"]
    running_sql = [
        str(path.relative_to(ROOT))
        for place in places
        for path in place.rglob("*.py")
        if ".execute(" in path.read_text()
    ]
    assert running_sql == []

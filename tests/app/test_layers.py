"""The package layers hold (CONTRIBUTING.md, "Layers"): each layer imports only itself and the layers
below it, no module imports another that (directly or through others) imports it back at import
time, and imports sit at the top of a module, outside `cli.py` and `app.py`.

Read from the source, so a new module falls under its package's layer with nothing to register.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "crmapi"

# Top to bottom; a module belongs to the layer of the longest prefix naming it.
LAYERS: tuple[tuple[str, ...], ...] = (
    # Wiring: the app, the command line, the worker process, the demo loader.
    ("crmapi.app", "crmapi.cli", "crmapi.metadata", "crmapi.worker", "crmapi.demo"),
    # Events out: the change feed and webhooks hear of every domain's records.
    ("crmapi.events",),
    # Domains: each owns its routes, services, queries and models.
    (
        "crmapi.accounts",
        "crmapi.activities",
        "crmapi.attachments",
        "crmapi.contacts",
        "crmapi.conversations",
        "crmapi.custom_fields",
        "crmapi.documents",
        "crmapi.feedback",
        "crmapi.feeds",
        "crmapi.integrations",
        "crmapi.issues",
        "crmapi.leads",
        "crmapi.notes",
        "crmapi.notifications",
        "crmapi.opportunities",
        "crmapi.sales_orders",
        "crmapi.service_requests",
        "crmapi.tags",
        "crmapi.access.api_keys",
        "crmapi.access.business_units",
        "crmapi.access.groups",
        "crmapi.access.sales_reps",
    ),
    # What the domains share: who calls and what it may do, life cycles and configured options,
    # what every record kind writes (history, events).
    ("crmapi.records", "crmapi.access", "crmapi.identity", "crmapi.lifecycle", "crmapi.config"),
    # Domain-free mechanics.
    ("crmapi.kit", "crmapi.settings"),
)
# Where an import inside a function is the point: the command line loads only what a command
# needs, the app factory only what it wires.
LATE_IMPORTS_ALLOWED = {"crmapi.cli", "crmapi.app"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def layer_of(module: str) -> int:
    candidates = [
        (len(prefix), index)
        for index, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    assert candidates, f"{module} belongs to no layer: add its package to LAYERS"
    return max(candidates)[1]


def imported(node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The crmapi modules an import statement loads (a `from package import module` too)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.module is None or node.level:
        names = []
    else:
        names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    for name in names:
        if name in MODULES:
            yield name


def type_checking_only(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(module: str) -> tuple[set[str], set[str], list[int]]:
    """What `module` imports when it is loaded, what it imports for type checkers only, and the
    lines of the imports it runs later (inside a function)."""
    tree = ast.parse(MODULES[module].read_text())
    at_load: set[str] = set()
    typing_only: set[str] = set()
    late: list[int] = []

    def visit(body: list[ast.stmt], into: set[str]) -> None:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                into.update(imported(node))
            elif isinstance(node, ast.If) and type_checking_only(node):
                visit(node.body, typing_only)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for block in ("body", "orelse", "finalbody", "handlers"):
                    visit(getattr(node, block, []), into)
            elif isinstance(node, ast.ExceptHandler):
                visit(node.body, into)
            else:
                late.extend(
                    inner.lineno
                    for inner in ast.walk(node)
                    if isinstance(inner, ast.Import | ast.ImportFrom) and any(imported(inner))
                )

    visit(tree.body, at_load)
    return at_load, typing_only, late


IMPORTS = {module: imports(module) for module in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_layer_and_those_below(module: str) -> None:
    at_load, typing_only, _ = IMPORTS[module]
    upward = sorted(target for target in at_load | typing_only if layer_of(target) < layer_of(module))
    assert not upward, f"{module} (layer {layer_of(module)}) imports from a layer above: {upward}"


def test_no_module_imports_itself_back_at_load_time() -> None:
    graph = {module: _with_packages(IMPORTS[module][0]) - {module} for module in MODULES}
    cycles = [cycle for cycle in _strongly_connected(graph) if len(cycle) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_imports_sit_at_the_top_of_a_module() -> None:
    late = {
        module: lines
        for module, (_, _, lines) in IMPORTS.items()
        if lines and module not in LATE_IMPORTS_ALLOWED
    }
    assert not late, f"imports inside functions (module: lines): {late}"


# The one write path (CONTRIBUTING.md, "Writes"): history rows and events are written through
# `crmapi.records.changes`. The ERP feed's set-based SQL and the demo loader's bulk rows are the
# tuned exceptions; they write the same columns in SQL.
RAW_WRITERS = {"crmapi.records.changes", "crmapi.records.history", "crmapi.records.outbox"}
RAW_CALLS = {("history", "record"), ("outbox", "emit")}
RAW_ROWS = {"HistoryEntry", "OutboxEvent"}
# The change feed, its scopes and webhook replays read the outbox; they write none of it.
ROW_READERS = {
    "crmapi.metadata",
    "crmapi.demo.data",
    "crmapi.events.feed",
    "crmapi.events.kinds",
    "crmapi.events.webhooks",
}


@pytest.mark.parametrize("module", sorted(set(MODULES) - RAW_WRITERS))
def test_history_and_events_are_written_through_records_changes(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text())
    calls = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) in RAW_CALLS
    ]
    assert not calls, f"{module} writes history or events around records.changes, lines {calls}"
    if module not in ROW_READERS:
        rows = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and any(alias.name in RAW_ROWS for alias in node.names)
        ]
        assert not rows, f"{module} imports the history or outbox table, lines {rows}"


def test_the_layers_name_real_packages() -> None:
    """A renamed package must not leave its layer rule silently matching nothing."""
    named = {prefix for prefixes in LAYERS for prefix in prefixes}
    assert named <= set(MODULES), sorted(named - set(MODULES))


def _with_packages(targets: set[str]) -> set[str]:
    """Loading `a.b.c` loads the packages `a.b` and `a` first."""
    found = set(targets)
    for target in targets:
        parts = target.split(".")
        found.update(".".join(parts[:n]) for n in range(2, len(parts)) if ".".join(parts[:n]) in MODULES)
    return found


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: the groups of modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(sorted(group))
    return groups

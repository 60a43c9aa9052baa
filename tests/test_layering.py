"""The import graph says which way the floors point (README "Architecture", STYLE.md §2b), read from the source
with `ast`: the domain imports no edge, no wire package and not the project package; core/ imports no app; the
gate imports no edge; and no two modules of the repository import each other, directly or round a loop.

Every import counts, also one deferred into a function: a deferred import hides a cycle, it does not break it.
Imports under `if TYPE_CHECKING:` are annotations only and do not count.

What the domain may import that could look like a wire package, decided here once: `celery` (buckets/jobs.py
queues an encryption job's work: the queue is how the domain schedules, not a wire it answers on) and
`django.contrib.auth` (roles/service.py creates a sub-user's console login, a model, not a view)."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("buckets", "keys", "roles", "gate", "core", "console")
APPS = ("buckets", "keys", "roles", "gate", "console")
# The edges: the COS XML API, the API 3.0 actions, and the project package (JSON API, console, admin, tcapi).
EDGES = ("buckets.api", "keys.api", "roles.api", "console")
# Packages that speak HTTP (or render it): only an edge may use them.
WIRE = (
    "rest_framework",
    "drf_spectacular",
    "django.http",
    "django.views",
    "django.shortcuts",
    "django.template",
    "django.urls",
    "django.middleware",
    "gunicorn",
    "requests",
)
# Inside the domain apps, these belong to an edge or to Django's own wiring, not to the domain.
NOT_DOMAIN = ("api", "admin", "management", "migrations", "tasks", "apps")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> dict[str, Path]:
    files = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                files[module_name(path)] = path
    return files


MODULES = source_files()


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imported_names(module: str, path: Path) -> Iterator[str]:
    """Every module name `module` imports: `from a import b` yields a.b when that is a module, else a."""
    tree = ast.parse(path.read_text(), str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                yield candidate if candidate in MODULES else source


IMPORTS = {module: sorted(set(imported_names(module, path))) for module, path in MODULES.items()}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def is_domain(module: str) -> bool:
    parts = module.split(".")
    return parts[0] in ("buckets", "keys", "roles") and not (len(parts) > 1 and parts[1] in NOT_DOMAIN)


def offences(rule) -> list[str]:
    return [f"{module} imports {name}" for module, names in IMPORTS.items() for name in names if rule(module, name)]


def test_the_graph_covers_the_domain_edges_gate_and_core():
    assert {
        "buckets.service",
        "keys.service",
        "roles.policy",
        "buckets.api.views",
        "keys.api",
        "gate",
        "core.db",
    } <= set(MODULES)
    assert "console.tcapi" in IMPORTS["keys.api"]  # an edge's imports are seen, `from a import b` resolved


def test_the_domain_never_imports_an_edge_or_the_project_package():
    assert offences(lambda module, name: is_domain(module) and within(name, EDGES)) == []


def test_the_domain_never_imports_a_wire_package():
    assert offences(lambda module, name: is_domain(module) and within(name, WIRE)) == []


def test_core_imports_no_app():
    assert offences(lambda module, name: within(module, ("core",)) and within(name, APPS)) == []


def test_the_gate_imports_no_edge():
    assert offences(lambda module, name: within(module, ("gate",)) and within(name, EDGES)) == []


def _cycles() -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    graph = {
        module: [name for name in names if name in MODULES and name != module] for module, names in IMPORTS.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_no_modules_import_each_other_directly_or_round_a_loop():
    assert _cycles() == []


@pytest.mark.parametrize("module", ["buckets.service", "keys.service", "roles.service"])
def test_the_layering_rules_would_see_an_import_of_the_project_package(module, monkeypatch):
    """The check is not vacuous: `import console` added to a domain module is an offence."""
    monkeypatch.setitem(IMPORTS, module, [*IMPORTS[module], "console"])
    assert offences(lambda m, name: is_domain(m) and within(name, EDGES)) == [f"{module} imports console"]

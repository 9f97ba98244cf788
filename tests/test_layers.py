"""Dependencies point one way: a module never imports one of a layer above its own (the order
is ``app.LAYERS``, written out at the top of ``app/__init__.py``). Read from the source with
``ast``, so an import inside a function counts as much as one at the top of a module."""

import ast
from pathlib import Path

import pytest

from app import COMPOSITION_ROOT, LAYERS

APP = Path(__file__).resolve().parent.parent / "app"

# Upward imports that wait for work in flight elsewhere, each with the reason. An entry that
# is no longer needed fails the test too, so it is removed the day it stops being true.
WAITING: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the most specific entry that holds ``module``."""
    best, found = -1, None
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            if (module == member or module.startswith(member + ".")) and len(member) > best:
                best, found = len(member), index
    return found


def imported(tree: ast.AST, module: str):
    """(line, imported module) for every import of app's own modules, wherever it stands."""
    package = module if module == "app" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package upwards
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # `from app import dates` imports the module app.dates; `from app.x import f`, app.x
                yield node.lineno, f"{base}.{alias.name}" if base == "app" else base


def app_modules():
    for path in sorted(APP.rglob("*.py")):
        yield path, module_name(path)


def upward_imports() -> set[tuple[str, str, int]]:
    found = set()
    for path, module in app_modules():
        if module in COMPOSITION_ROOT:
            continue
        own = layer_of(module)
        for line, target in imported(ast.parse(path.read_text()), module):
            if target != "app" and not target.startswith("app."):
                continue
            if (theirs := layer_of(target)) is not None and theirs > own:
                found.add((module, target, line))
    return found


def test_every_module_has_a_layer():
    placed = {m: layer_of(m) for _, m in app_modules() if m not in COMPOSITION_ROOT}
    assert [m for m, layer in placed.items() if layer is None] == []


def test_no_module_imports_a_layer_above_its_own():
    found = upward_imports()
    named = [
        f"{module}:{line} imports {target} ({LAYERS[layer_of(target)][0]}, above "
        f"{LAYERS[layer_of(module)][0]})"
        for module, target, line in sorted(found)
        if (module, target) not in WAITING
    ]
    assert named == []
    assert {(module, target) for module, target, _ in found} >= WAITING, (
        "an exception in WAITING is no longer needed: remove it"
    )


@pytest.mark.parametrize(
    "source, module, expected",
    [
        # A lower area reaching up, at the top or inside a function: both are caught.
        ("from app.clients.models import Client", "app.cases.queries", None),
        ("def f():\n    from app.reports import queries", "app.cases.services", None),
        ("import app.exports.routes", "app.auth.routes", None),
        ("from app import demo", "app.extensions", None),
        ("from ..reports.queries import x", "app.cases.routes", None),
        # Down, or within the layer: allowed.
        ("from app.auth.models import User", "app.cases.queries", "ok"),
        ("from app.deadlines.models import Deadline", "app.cases.services", "ok"),
        ("from . import queries", "app.cases.routes", "ok"),
    ],
)
def test_the_check_sees_imports_written_any_way(source, module, expected):
    own = layer_of(module)
    ups = [
        target
        for _, target in imported(ast.parse(source), module)
        if target.startswith("app") and (layer_of(target) or 0) > own
    ]
    assert (ups == []) == (expected == "ok"), ups

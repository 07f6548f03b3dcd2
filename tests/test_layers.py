"""The layering rules of docs/architecture.md, checked on the source with ``ast``.

- Only fitsbind/direct/ imports the extensions (``fitsbind._fitsfile``, ``fitsbind._tiles``).
- Every other module reaches the direct tier through the names ``fitsbind.direct`` exports in
  ``__all__``: no imports from its submodules, no underscore member of a direct-tier object.
- The direct tier imports nothing above it: only the extensions, itself and the leaf modules.

Which expressions are direct-tier objects is decided by a small, deliberate inference: a
``FITS(...)`` call, the drop-in file's ``.fits`` attribute and ``writer()``, subscripts of and
HDU-creating calls on those, and names bound to any of them in the same function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import fitsbind.direct

PACKAGE = Path(fitsbind.direct.__file__).resolve().parent.parent
EXTENSIONS = {"fitsbind._fitsfile", "fitsbind._tiles"}
# modules every layer may import: they hold no layer's logic
LEAVES = {"fitsbind.errors", "fitsbind.checksum", "fitsbind._workers", "fitsbind._lifetime"}
PUBLIC = set(fitsbind.direct.__all__)
# calls on a direct-tier object that return direct-tier HDUs
HDU_FACTORIES = {"create_image_hdu", "create_table_hdu", "write", "write_image", "write_table"}


def modules(inside_direct: bool) -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py")
                  if (p.relative_to(PACKAGE).parts[0] == "direct") == inside_direct)


def label(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def imports(tree: ast.AST) -> Iterator[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) of every import; a relative import's module
    keeps its leading dots."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, "." * node.level + (node.module or ""), [a.name for a in node.names]


def import_violations(tree: ast.AST, where: str) -> list[str]:
    found = []
    for line, target, names in imports(tree):
        full = [target] + [f"{target}.{n}" for n in names]
        if target.startswith("."):
            found.append(f"{where}:{line}: relative import of {target}; the layers are checked "
                         "on absolute imports")
        elif any(name in EXTENSIONS for name in full):
            found.append(f"{where}:{line}: imports the extension {target} {names}")
        elif target.startswith("fitsbind.direct."):
            found.append(f"{where}:{line}: imports the direct tier's submodule {target}; use the "
                         "names fitsbind.direct exports")
        elif target == "fitsbind.direct" and not set(names) <= PUBLIC:
            found.append(f"{where}:{line}: {sorted(set(names) - PUBLIC)} are not in "
                         "fitsbind.direct.__all__")
    return found


class _DirectObjects(ast.NodeVisitor):
    """Underscore members reached on direct-tier objects, function by function."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.bound: list[set[str]] = [set()]
        self.found: list[str] = []

    def is_direct(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.bound[-1]
        if isinstance(node, ast.Attribute):
            return node.attr == "fits"
        if isinstance(node, ast.Subscript):
            return self.is_direct(node.value)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in ("FITS", "writer"):
                return True
            return isinstance(func, ast.Attribute) and func.attr in HDU_FACTORIES \
                and self.is_direct(func.value)
        return False

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.bound.append(set())
        self.generic_visit(node)
        self.bound.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def bind(self, target: ast.AST, value: ast.AST) -> None:
        if isinstance(target, ast.Name) and self.is_direct(value):
            self.bound[-1].add(target.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        for target in node.targets:
            self.bind(target, node.value)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self.bind(item.optional_vars, item.context_expr)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        private = node.attr.startswith("_") and not node.attr.startswith("__")
        if private and self.is_direct(node.value):
            self.found.append(f"{self.where}:{node.lineno}: {ast.unparse(node)} reaches a private "
                              "member of a direct-tier object")
        self.generic_visit(node)


def violations(source: str, where: str) -> list[str]:
    """Every break of the rules for the layers above the direct tier in ``source``."""
    tree = ast.parse(source)
    visitor = _DirectObjects(where)
    visitor.visit(tree)
    return import_violations(tree, where) + visitor.found


@pytest.mark.parametrize("path", modules(inside_direct=False), ids=label)
def test_layers_above_use_only_the_public_direct_tier(path: Path) -> None:
    assert violations(path.read_text(), label(path)) == []


@pytest.mark.parametrize("path", modules(inside_direct=True), ids=label)
def test_direct_tier_imports_nothing_above_it(path: Path) -> None:
    allowed = EXTENSIONS | LEAVES
    above = []
    for line, target, names in imports(ast.parse(path.read_text())):
        # "from fitsbind import x" imports the module fitsbind.x
        for name in [f"fitsbind.{n}" for n in names] if target == "fitsbind" else [target]:
            if name.startswith(("fitsbind", ".")) and name not in allowed \
                    and not name.startswith("fitsbind.direct"):
                above.append(f"{label(path)}:{line}: {name}")
    assert above == []


def test_the_checker_sees_violations() -> None:
    """The rules catch what they are for, so a passing run means something."""
    source = (
        "from fitsbind import _fitsfile\n"
        "from fitsbind.direct.table import TableHDU\n"
        "from fitsbind.direct import FITS, _nothing\n"
        "def f(hdufile):\n"
        "    hdufile.fits._handle()\n"
        "    direct = hdufile.fits[1]\n"
        "    direct._read(None, False, False)\n"
        "    with FITS('x') as out:\n"
        "        out.write_image(None)._store()\n"
        "    hdufile._index  # a drop-in object's own member: allowed\n"
        "from . import header\n"
    )
    found = violations(source, "probe.py")
    assert sorted(int(line.split(":")[1]) for line in found) == [1, 2, 3, 5, 7, 9, 11]

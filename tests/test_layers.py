"""The layering rules of docs/architecture.md, checked on the source with ``ast``.

- Only fitsbind/direct/ imports the extensions (``fitsbind._fitsfile``, ``fitsbind._tiles``).
- Every other module reaches the direct tier through the names ``fitsbind.direct`` exports in
  ``__all__``: no imports from its submodules, no underscore member of a direct-tier object.
- The direct tier imports nothing above it: only the extensions, itself and the leaf modules.
- The table facade's helpers (fitsbind/tables/) import no layer: only themselves and the leaf
  modules, so the numpy-only facade and the astropy-facing modules share them.

Which expressions are direct-tier objects is decided by a small, deliberate inference: a call
of ``FITS`` or of a class imported from ``fitsbind.direct``, the drop-in file's ``.fits``
attribute and ``writer()``; attributes, subscripts and HDU-creating calls of those; names bound
to any of them (assignment, ``with``, ``for``, ``:=``) and parameters annotated with a class
imported from ``fitsbind.direct``. Not seen: objects passed through containers or returned by
other functions, and ``importlib``.
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
LEAVES = {"fitsbind.errors", "fitsbind.checksum", "fitsbind._workers", "fitsbind._lifetime",
          "fitsbind._atomic"}
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
    """Underscore members reached on direct-tier objects, and names the direct tier does not
    export reached through the ``fitsbind`` package or the ``fitsbind.direct`` module."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.bound: list[set[str]] = [set()]    # names holding direct-tier objects, per scope
        self.classes: set[str] = set()          # names imported from fitsbind.direct
        self.package: set[str] = set()          # names of the fitsbind package
        self.direct: set[str] = set()           # names of the fitsbind.direct module
        self.found: list[str] = []

    def report(self, node: ast.AST, what: str) -> None:
        self.found.append(f"{self.where}:{node.lineno}: {ast.unparse(node)} {what}")

    # -- what is a direct-tier object ------------------------------------------------------

    def is_direct(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return any(node.id in scope for scope in self.bound)
        if isinstance(node, ast.Attribute):
            # an attribute of a direct-tier object (its header, say) is one too
            return node.attr == "fits" or self.is_direct(node.value)
        if isinstance(node, ast.Subscript):
            return self.is_direct(node.value)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in ("FITS", "writer") or name in self.classes:
                return True
            return isinstance(func, ast.Attribute) and func.attr in HDU_FACTORIES \
                and self.is_direct(func.value)
        if isinstance(node, ast.NamedExpr):
            return self.is_direct(node.value)
        return False

    def names_direct_class(self, annotation: ast.AST | None) -> bool:
        return annotation is not None and any(
            (isinstance(n, ast.Name) and n.id in self.classes) or
            (isinstance(n, ast.Constant) and isinstance(n.value, str) and
            any(c in n.value.replace("|", " ").split() for c in self.classes))
            for n in ast.walk(annotation))

    def bind(self, target: ast.AST, direct: bool) -> None:
        """Bind the names ``target`` assigns (not attributes or subscripts of objects)."""
        if not direct:
            return
        if isinstance(target, ast.Name):
            self.bound[-1].add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element, direct)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, direct)

    # -- scopes and bindings ---------------------------------------------------------------

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.bound.append(set())
        arguments = node.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                    arguments.vararg, arguments.kwarg]:
            if arg is not None and self.names_direct_class(arg.annotation):
                self.bound[-1].add(arg.arg)
        self.generic_visit(node)
        self.bound.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "fitsbind" or (alias.name.startswith("fitsbind.") and alias.asname is None):
                self.package.add("fitsbind")
            elif alias.name == "fitsbind.direct":
                self.direct.add(alias.asname)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if node.module == "fitsbind.direct":
                self.classes.add(alias.asname or alias.name)
            elif node.module == "fitsbind" and alias.name == "direct":
                self.direct.add(alias.asname or alias.name)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        for target in node.targets:
            self.bind(target, self.is_direct(node.value))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.generic_visit(node)
        self.bind(node.target, self.names_direct_class(node.annotation) or
                  (node.value is not None and self.is_direct(node.value)))

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.generic_visit(node)
        self.bind(node.target, self.is_direct(node.value))

    def visit_For(self, node: ast.For) -> None:
        self.bind(node.target, self.is_direct(node.iter))
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.bind(node.target, self.is_direct(node.iter))
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self.bind(item.optional_vars, self.is_direct(item.context_expr))
        self.generic_visit(node)

    # -- the checks ------------------------------------------------------------------------

    def visit_Attribute(self, node: ast.Attribute) -> None:
        private = node.attr.startswith("_") and not node.attr.startswith("__")
        value = node.value
        if private and self.is_direct(value):
            self.report(node, "reaches a private member of a direct-tier object")
        elif isinstance(value, ast.Name) and value.id in self.package and \
                f"fitsbind.{node.attr}" in EXTENSIONS:
            self.report(node, "reaches an extension")
        elif ((isinstance(value, ast.Name) and value.id in self.direct) or
              (isinstance(value, ast.Attribute) and value.attr == "direct" and
              isinstance(value.value, ast.Name) and value.value.id in self.package)) and \
                node.attr not in PUBLIC:
            self.report(node, "is not in fitsbind.direct.__all__")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "hasattr") \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and str(node.args[1].value).startswith("_") and self.is_direct(node.args[0]):
            self.report(node, "reaches a private member of a direct-tier object")
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
        "import fitsbind\n"
        "from fitsbind import _fitsfile, direct\n"
        "from fitsbind.direct.table import TableHDU\n"
        "from fitsbind.direct import FITS, _nothing\n"
        "def f(hdufile, given: FITS, other: 'FITS | None'):\n"
        "    hdufile.fits._handle()\n"
        "    chosen = hdufile.fits[1]\n"
        "    chosen._read(None, False, False)\n"
        "    with FITS('x') as out:\n"
        "        out.write_image(None)._store()\n"
        "    hdufile._index  # a drop-in object's own member: allowed\n"
        "    given._hdus, other._file\n"
        "    hdufile.fits[0].header._cards\n"
        "    for hdu in given:\n"
        "        hdu._invalidate()\n"
        "    getattr(given, '_handle')\n"
        "    fitsbind._tiles, fitsbind.direct.units, direct.rawio, direct.FITS\n"
        "from . import header\n"
    )
    found = violations(source, "probe.py")
    assert sorted(int(line.split(":")[1]) for line in found) == \
        [2, 3, 4, 6, 8, 10, 12, 12, 13, 15, 16, 17, 17, 17, 18]


TABLES = PACKAGE / "tables"


@pytest.mark.parametrize("path", sorted(TABLES.rglob("*.py")), ids=label)
def test_the_table_layer_stands_on_the_direct_tier_and_numpy(path: Path) -> None:
    """fitsbind/tables/ imports the direct tier (its public names; checked above for every
    module outside it), the leaves and itself, never the drop-in; astropy, pandas and
    pyarrow only inside the functions that convert to them."""
    tree = ast.parse(path.read_text())
    top_level = {node.lineno for node in tree.body}
    above = []
    for line, target, names in imports(tree):
        for name in [f"fitsbind.{n}" for n in names] if target == "fitsbind" else [target]:
            if name.startswith(("fitsbind", ".")) and name not in LEAVES \
                    and not name.startswith(("fitsbind.tables", "fitsbind.direct")):
                above.append(f"{label(path)}:{line}: {name}")
            if name.split(".")[0] in ("astropy", "pandas", "pyarrow") and line in top_level:
                above.append(f"{label(path)}:{line}: {name} (optional dependency at import)")
    assert above == []


# modules for astropy users, which import astropy's Table, Time and units at their top
ASTROPY_FACING = {"fitsbind.connect", "fitsbind.fitstime"}


def import_time_imports(tree: ast.AST) -> Iterator[tuple[int, str, list[str]]]:
    """The imports that run when the module is imported: everywhere but inside functions."""
    pending = list(ast.iter_child_nodes(tree))
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from imports(node)
        pending.extend(ast.iter_child_nodes(node))


def test_astropy_facing_modules_load_only_when_asked() -> None:
    """``import fitsbind`` must work without astropy's Table and must not register Table I/O:
    connect and fitstime, and astropy's table, time and coordinates packages, are imported by
    other modules only inside the functions that need them."""
    heavy = ("astropy.table", "astropy.time", "astropy.coordinates", *ASTROPY_FACING)
    found = []
    for path in modules(inside_direct=False) + modules(inside_direct=True):
        if ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts) in ASTROPY_FACING:
            continue
        for line, target, names in import_time_imports(ast.parse(path.read_text())):
            for name in [target, *(f"{target}.{n}" for n in names)]:
                if name.startswith(heavy):
                    found.append(f"{label(path)}:{line}: {name}")
    assert found == []


def test_import_time_imports_skip_function_bodies_only() -> None:
    source = ("import os\ntry:\n    from fitsbind import connect\nexcept ImportError:\n    pass\n"
              "def f():\n    import astropy.table\nclass C:\n    from astropy.time import Time\n")
    assert sorted(line for line, _, _ in import_time_imports(ast.parse(source))) == [1, 3, 9]


def test_leaf_modules_import_no_layer() -> None:
    for name in LEAVES:
        path = PACKAGE.parent / (name.replace(".", "/") + ".py")
        imported = [target for _, target, names in imports(ast.parse(path.read_text()))
                    for target in ([f"fitsbind.{n}" for n in names] if target == "fitsbind"
                                   else [target])]
        assert [t for t in imported if t.startswith("fitsbind") and t not in LEAVES] == []


def test_nothing_imports_astropy_io_fits() -> None:
    """fitsbind stands in for astropy.io.fits: no module may borrow from it (astropy's other
    packages, Table, Time and units, are optional imports inside functions)."""
    for path in modules(inside_direct=False) + modules(inside_direct=True):
        borrowed = [f"{label(path)}:{line}" for line, target, names in
                    imports(ast.parse(path.read_text()))
                    if target.startswith("astropy.io.fits") or
                    (target == "astropy.io" and "fits" in names)]
        assert borrowed == []


def test_nothing_imports_the_command_line() -> None:
    cli = PACKAGE / "cli"
    for path in modules(inside_direct=False) + modules(inside_direct=True):
        if path.parent != cli and path.name != "__main__.py":
            targets = {target for _, target, names in imports(ast.parse(path.read_text()))
                       for target in [target, *(f"{target}.{n}" for n in names)]}
            assert not any(t.startswith("fitsbind.cli") for t in targets), label(path)

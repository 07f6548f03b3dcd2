"""Copy astropy's io.fits tests and point every ``astropy.io.fits`` reference at fitsbind.

Imports are rewritten from the syntax tree, name by name, into calls of ``shim.module`` /
``shim.name`` on the same lines (so tracebacks keep astropy's line numbers). Imports of
``astropy.io.fits.tests.*`` (astropy's shared test helpers) are left as they are.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

PACKAGE = "fitsbind_astropy_suite"
HERE = Path(__file__).resolve().parent
FITS = "astropy.io.fits"


def _relative(module: str) -> str | None:
    """The path of ``module`` below astropy.io.fits ("" for the package itself), or None if the
    module is not part of astropy.io.fits or is one of its test modules."""
    if module == FITS:
        return ""
    if module.startswith(FITS + ".") and not module.startswith(FITS + ".tests"):
        return module[len(FITS) + 1:]
    return None


def _statements(node: ast.stmt) -> list[str] | None:
    """The shim calls replacing one import statement, or None to keep it."""
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module == "astropy.io":
            if any(a.name == "*" for a in node.names):
                raise ValueError(f"line {node.lineno}: star import from astropy.io")
            out = []
            for alias in node.names:
                if alias.name == "fits":
                    out.append(f"{alias.asname or 'fits'} = _fitsbind_shim.module('')")
                else:
                    out.append(f"from astropy.io import {alias.name} as {alias.asname or alias.name}")
            return out
        path = _relative(node.module)
        if path is None:
            return None
        if any(a.name == "*" for a in node.names):
            raise ValueError(f"line {node.lineno}: star import from {node.module}")
        return [f"{a.asname or a.name} = _fitsbind_shim.name({path!r}, {a.name!r})" for a in node.names]
    if isinstance(node, ast.Import):
        if not any(_relative(a.name) is not None for a in node.names):
            return None
        out = []
        for alias in node.names:
            path = _relative(alias.name)
            if path is None:
                out.append(f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""))
            elif alias.asname:
                out.append(f"{alias.asname} = _fitsbind_shim.module({path!r})")
            else:
                raise ValueError(f"line {node.lineno}: 'import {alias.name}' without 'as'")
        return out
    return None


def rewrite_source(source: str) -> str:
    """``source`` with its astropy.io.fits imports resolved through the shim."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            new = _statements(node)
            if new is not None:
                edits.append((node.lineno, node.end_lineno, node.col_offset, new))
    for first, last, col, new in sorted(edits, reverse=True):
        indent = lines[first - 1][:col]
        # The shim import rides on the same line, so every line number stays astropy's.
        text = indent + "; ".join(["from . import _fitsbind_shim", *new]) + "\n"
        lines[first - 1:last] = [text] + ["\n"] * (last - first)
    return "".join(lines)


def copy_suite(source: Path, dest: Path, rewrite: bool = True) -> Path:
    """Copy astropy's test folder ``source`` to ``dest/PACKAGE`` with every module rewritten
    (``rewrite=False``: as they are, to run the same copy against astropy itself).

    Returns the package folder.
    """
    pkg = dest / PACKAGE
    if pkg.exists():
        shutil.rmtree(pkg)
    shutil.copytree(source, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in sorted(pkg.glob("*.py")) if rewrite else ():
        path.write_text(rewrite_source(path.read_text()))
    shutil.copy(HERE / "shim.py", pkg / "_fitsbind_shim.py")
    # The suite's own conftest gets our plugin appended: deselection and Table I/O registration.
    with open(pkg / "conftest.py", "a") as f:
        f.write("\n\nfrom ._fitsbind_plugin import *  # noqa: E402,F403\n")
    shutil.copy(HERE / "plugin.py", pkg / "_fitsbind_plugin.py")
    return pkg

"""What the scripts share: their loggers and their ``--version`` option."""

from __future__ import annotations

import argparse
import logging
import sys

import fitsbind


class _CurrentStderr(logging.Handler):
    """Writes each record to ``sys.stderr`` as it is when the record is emitted, not when the
    handler was made, so that redirections made later (``contextlib.redirect_stderr``,
    pytest's capture) receive the scripts' messages."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def script_logger(name: str, fmt: str = "%(levelname)s: %(message)s") -> logging.Logger:
    """The logger ``fitsbind.scripts.<name>``, writing ``fmt`` lines to stderr.

    The handler is added once however many times a script's ``main`` runs; records still
    propagate, so an application's (or pytest's) logging configuration sees them too."""
    log = logging.getLogger(f"fitsbind.scripts.{name}")
    if not any(isinstance(handler, _CurrentStderr) for handler in log.handlers):
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter(fmt))
        log.addHandler(handler)
    return log


def new_parser(prog: str, description: str, epilog: str | None = None) -> argparse.ArgumentParser:
    """An argument parser for script ``prog`` with astropy's ``--version`` option (which
    prints the fitsbind version instead); ``prog`` is fixed because ``sys.argv[0]`` is
    ``__main__.py`` or the test runner under ``python -m``."""
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {fitsbind.__version__}")
    return parser

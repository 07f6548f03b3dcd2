"""astropy's own io.fits test suite, run with fitsbind in astropy's place.

    python tools/astropy_suite.py                      # run, compare with the known differences
    python tools/astropy_suite.py --against astropy    # the same copy, run on astropy itself
    python tools/astropy_suite.py -- -k header         # extra pytest arguments after --

Copies the installed astropy's ``io/fits/tests`` to a temporary folder, rewrites every
``astropy.io.fits`` import to fitsbind's names (tools/fitssuite/rewrite.py, shim.py), runs it,
prints per-module pass counts and exits 1 when a test fails that is not on the known-differences
list (tools/fitssuite/known_differences.txt). See docs/astropy_suite.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fitssuite import run


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", choices=("fitsbind", "astropy"), default="fitsbind",
                        help="the library the suite tests (astropy: a calibration run)")
    parser.add_argument("--known", type=Path, default=run.KNOWN,
                        help="known differences: one 'test id # reason' per line")
    parser.add_argument("--memory-gib", type=float, default=12.0,
                        help="address-space limit of the test process (0: none); a test that "
                             "needs more fails with MemoryError")
    parser.add_argument("--workdir", type=Path, help="keep the copied suite and logs here")
    parser.add_argument("--report", type=Path, help="write every test's outcome here as JSON")
    parser.add_argument("--failures", type=Path,
                        help="write the failures not on the known list here, in its format")
    args = parser.parse_args(argv)

    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return _run(args, args.workdir, extra)
    with tempfile.TemporaryDirectory(prefix="fitsbind-suite-") as tmp:
        return _run(args, Path(tmp), extra)


def _run(args: argparse.Namespace, workdir: Path, extra: list[str]) -> int:
    memory = int(args.memory_gib * 2**30) or None
    result = run.run(workdir, args.against, extra, memory)
    print(f"astropy io.fits test suite against {args.against}")
    print(run.table(result))
    if args.report:
        args.report.write_text(json.dumps({"outcome": result.outcome, "error": result.error},
                                          indent=1, sort_keys=True))
    if args.against != "fitsbind":
        return 0

    known = run.read_known(args.known)
    failed = sorted(t for t, o in result.outcome.items() if o == "failed")
    new = [t for t in failed if t not in known]
    fixed = sorted(t for t in known if result.outcome.get(t) == "passed")
    gone = sorted(t for t in known if t not in result.outcome)
    print(f"\n{len(failed)} failed, {len(failed) - len(new)} of them known differences")
    if fixed:
        print(f"{len(fixed)} known differences now pass; take them off {args.known.name}:")
        print("".join(f"  {t}\n" for t in fixed), end="")
    if gone:
        print(f"{len(gone)} known differences name tests the suite no longer has:")
        print("".join(f"  {t}\n" for t in gone), end="")
    if args.failures:
        args.failures.write_text("".join(f"{t} # {result.error.get(t, '')}\n" for t in new))
    if new:
        print(f"{len(new)} failures are not known differences:")
        for t in new:
            print(f"  {t}\n      {result.error.get(t, '')}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

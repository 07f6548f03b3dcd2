"""fitsbind's structure-aware fuzzer: mutate generated FITS files, read each mutant through the
drop-in and the direct tier in resource-limited children, and report what broke.

    python tools/fuzz.py --seed 1 --count 100000 --jobs 2 --report out.json --save DIR
    python tools/fuzz.py --replay DIR/crash-direct-s1-i123.fits

See docs/fuzzing.md for the classes and how findings are saved.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fitsfuzz import campaign


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1, help="corpus and mutation seed")
    parser.add_argument("--count", type=int, default=1000, help="mutants to run")
    parser.add_argument("--start", type=int, default=0, help="index of the first mutant")
    parser.add_argument("--jobs", type=int, default=2, help="fork servers run in parallel")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds a tier may take on one mutant before it is a hang")
    parser.add_argument("--margin-mib", type=int, default=1024,
                        help="address space a child gets beyond its baseline and the file")
    parser.add_argument("--fsize-mib", type=int, default=256,
                        help="size a file written by a child may reach")
    parser.add_argument("--no-astropy", action="store_true",
                        help="do not compare the drop-in with astropy.io.fits")
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    parser.add_argument("--save", type=Path, help="save findings (mutant + .json) here")
    parser.add_argument("--markdown", type=Path, help="write the findings as Markdown here")
    parser.add_argument("--replay", type=Path, nargs="+",
                        help="run these files through every tier instead of fuzzing")
    parser.add_argument("--minimize", type=Path, nargs=3, metavar=("FILE", "TIER", "OUT"),
                        help="write to OUT the smallest part of FILE (whole HDUs dropped) that "
                             "still gets TIER's verdict")
    args = parser.parse_args(argv)
    limits = campaign.Limits(args.timeout, args.margin_mib << 20, args.fsize_mib << 20)

    if args.minimize:
        path, tier, out = args.minimize
        v = campaign.minimize(path, str(tier), out, limits=limits,
                              with_astropy=not args.no_astropy)
        print(f"{out}: {out.stat().st_size} bytes (from {path.stat().st_size}), {tier} "
              f"{v.cls} {v.key[1]} {v.frame or ''}")
        return 0

    if args.replay:
        bad = 0
        for path in args.replay:
            for tier, v in campaign.replay(path, limits=limits,
                                           with_astropy=not args.no_astropy).items():
                what = v.signal or (f"{v.error['type']}: {v.error['message']}" if v.error else "")
                print(f"{path.name} {tier:8} {v.cls:10} {v.stage or ''} {what} {v.frame or ''}")
                bad += tier in campaign.TIERS and v.cls not in ("ok", "clean")
        return 1 if bad else 0

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # kill PID stops the run as Ctrl-C does: with the report of what was run
    signal.signal(signal.SIGTERM, interrupt)
    last = [time.monotonic()]

    def progress(report: campaign.Report, done: int) -> None:
        if time.monotonic() - last[0] > 30 or done == args.count:
            last[0] = time.monotonic()
            counts = ", ".join(f"{t}: " + " ".join(f"{c}={n}" for c, n in sorted(
                report.counts[t].items())) for t in report.counts)
            print(f"[{done}/{args.count}] {counts}; {len(report.findings)} distinct findings",
                  file=sys.stderr, flush=True)

    report = campaign.run(args.seed, args.count, start=args.start, jobs=args.jobs,
                          limits=limits, save=args.save, with_astropy=not args.no_astropy,
                          progress=progress)
    print(report.summary())
    if args.report:
        args.report.write_text(json.dumps(report.as_json(), indent=1))
    if args.markdown:
        args.markdown.write_text(campaign.markdown(report.as_json()))
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main())

"""fitsbind's structure-aware fuzzer (run it as ``python tools/fuzz.py``; see docs/fuzzing.md).

Modules, in the order a run uses them:

- :mod:`fitsfuzz.corpus`: the seed files, written from a seed into a directory (never downloaded).
- :mod:`fitsfuzz.layout`: where the HDUs, cards, rows, heap and descriptors of raw FITS bytes are.
- :mod:`fitsfuzz.mutate`: one mutant from ``(seed, index)``, deterministically.
- :mod:`fitsfuzz.touch`: what a child process does with a file, per tier (reads everything).
- :mod:`fitsfuzz.server`: the fork server that runs touches under resource limits.
- :mod:`fitsfuzz.classify`: a tier's outcome as ok / clean / unexpected / memory / hang / crash /
  diskfill, and the key findings are deduplicated by.
- :mod:`fitsfuzz.campaign`: a whole run: corpus, mutants, workers, findings, report.
"""

"""The table facade's building blocks: rules about FITS tables that hold for every reader,
written once so the astropy-facing modules (``fitsbind.connect``, ``fitsbind.fitstime``) and the
numpy-only facade apply the same ones.

- :mod:`fitsbind.tables.tdisp`: TDISPn display formats <-> Python format strings.
- :mod:`fitsbind.tables.masking`: which stored values mean "no value", on reading and writing.
- :mod:`fitsbind.tables.timekeys`: the FITS time standard's keywords (Rots et al. 2015),
  sorted out of a header without astropy.

These modules import numpy and the standard library only; never the drop-in model.
"""

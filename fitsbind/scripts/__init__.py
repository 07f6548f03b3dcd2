"""Command-line scripts of the drop-in, with the names, options, output and exit statuses of
astropy's ``astropy.io.fits.scripts``:

- :mod:`fitsbind.scripts.fitsinfo`: the HDU summary of FITS files;
- :mod:`fitsbind.scripts.fitsheader`: their headers, whole or selected, as text or tables;
- :mod:`fitsbind.scripts.fitscheck`: verify (and rewrite) CHECKSUM/DATASUM, check compliance;
- :mod:`fitsbind.scripts.fitsdiff`: compare two files, directories or wildcard patterns.

Each module has ``main(args=None) -> int`` and runs as ``python -m fitsbind.scripts.NAME``.
They use only the drop-in's public names (:func:`fitsbind.open`, :class:`fitsbind.FITSDiff`, ...).
"""

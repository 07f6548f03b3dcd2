"""Small example FITS files for fitsbind's documentation and tests.

``btable.fits`` and ``table.fits`` (binary tables) and ``test0.fits`` (a primary HDU and four
int16 SCI images) mirror the astropy test files of the same names that the astropy.io.fits
documentation uses. They are written by ``tools/make_testdata.py``; find them with
``fitsbind.util.get_testdata_filepath(name)``.
"""

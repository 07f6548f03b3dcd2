"""astropy's io.fits test suite run with fitsbind in astropy's place (tools/astropy_suite.py)."""

"""Tests of the astropy.io.fits-compatible layer (import fitsbind as fits), most run against astropy too."""

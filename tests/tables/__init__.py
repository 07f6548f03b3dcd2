"""Tests of the table facade: the pure helpers of fitsbind/tables/ and the astropy-facing
modules built on them (fitsbind.connect, fitsbind.fitstime), with astropy as the oracle."""

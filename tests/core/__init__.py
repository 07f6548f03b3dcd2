"""Tests of the extension layer (fitsbind._fitsfile, fitsbind._tiles): handles, keys, errors,
threads, the tile codec."""

"""Tests of the explicit-I/O tier (fitsbind.direct): files, headers, images, tables, compression, the seam."""

"""Tests of the fitsbind command."""

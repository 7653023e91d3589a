"""seqstruct: re-running the thesis of J. Bai (Cornell 2022) from raw data to tables."""

__version__ = "0.1.0"

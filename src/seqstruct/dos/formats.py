"""The raw formats of the DoS data sets (config ``dos.datasets.<name>.format``) and their files by role.

- ``phonon_csv``: the e3nn phonon CSV (``seqstruct.dos.phonon``): ``csv`` (columns mp_id, structure, phfreq,
  phdos) and the tutorial's split files ``train``/``val``/``test``.
- ``mp_edos``: Materials Project electronic DoS, fetched through the API (``seqstruct.dos.mp``) and written by
  the rule ``fetch_mp_edos`` as a CSV in the same layout with columns mp_id, structure, energy, edos.

The synthetic generator writes the ``phonon_csv`` layout for every data set.
"""

from __future__ import annotations

#: format -> role -> raw file name
RAW_FILES: dict[str, dict[str, str]] = {
    "phonon_csv": {"csv": "data.csv", "train": "idx_train.txt", "val": "idx_valid.txt", "test": "idx_test.txt"},
    "mp_edos": {"csv": "edos.csv"},
}
#: format -> (grid column, spectrum column) of its CSV
COLUMNS: dict[str, tuple[str, str]] = {"phonon_csv": ("phfreq", "phdos"), "mp_edos": ("energy", "edos")}

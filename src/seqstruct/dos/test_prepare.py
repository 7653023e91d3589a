"""The prepared DoS folder: graphs, spectra and split on disk, read back; bad materials stop or are listed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqstruct.common.errors import InputError
from seqstruct.common.io import read_json
from seqstruct.dos.graphs import GraphSettings
from seqstruct.dos.prepare import PREPARED_FILES, load_prepared, prepare_csv
from seqstruct.dos.synthetic import SyntheticDos, write_synthetic

SMALL = GraphSettings(cutoff=5.0, max_neighbors=6, n_gaussians=9)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    write_synthetic(tmp_path / "phdos.csv", SyntheticDos(n_materials=30, max_atoms=4, n_points=51))
    return tmp_path / "phdos.csv"


def test_round_trip_and_split(raw: Path, tmp_path: Path) -> None:
    info = prepare_csv(raw, tmp_path / "out", "phdos", SMALL, expected_len=51, seed=0)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(PREPARED_FILES)
    data = load_prepared(tmp_path / "out")
    assert data.dims.atom == data.graphs[0].x.shape[1] and data.dims.edge == 9 and data.dims.out == 51
    assert len(data.graphs) == len(data.ids) == data.spectra.shape[0] == 30
    every = np.concatenate([data.split[k] for k in ("train", "val", "test")])
    assert sorted(every.tolist()) == list(range(30)) and info["sizes"] == {"train": 24, "val": 3, "test": 3}
    for i in (0, 17):  # each graph carries its own spectrum
        assert np.array_equal(data.graphs[i].y.numpy()[0], data.spectra[i])
    again = prepare_csv(raw, tmp_path / "again", "phdos", SMALL, expected_len=51, seed=0)
    assert again["sizes"] == info["sizes"]
    assert all(
        np.array_equal(np.load(tmp_path / "again" / f), np.load(tmp_path / "out" / f))
        for f in PREPARED_FILES
        if f.endswith(".npy")
    )
    other = prepare_csv(raw, tmp_path / "other", "phdos", SMALL, expected_len=51, seed=1)
    assert not np.array_equal(np.load(tmp_path / "other/test_idx.npy"), np.load(tmp_path / "out/test_idx.npy"))
    assert other["split_seed"] == 1 and read_json(tmp_path / "out/info.json")["excluded"] == {}


def _isolate_one(raw: Path) -> str:
    """Stretch the cell of the first material so that its atoms have no neighbour within 5 Å."""
    frame = pd.read_csv(raw)
    s = eval(frame.loc[0, "structure"])
    s["cell"] = (np.array(s["cell"]) * 4).tolist()
    s["positions"] = (np.array(s["positions"]) * 4).tolist()
    frame.loc[0, "structure"] = repr(s)
    frame.to_csv(raw, index=False)
    return str(frame.loc[0, "mp_id"])


def test_a_bad_material_stops_with_its_id_or_is_listed(raw: Path, tmp_path: Path) -> None:
    bad = _isolate_one(raw)
    with pytest.raises(InputError, match=bad):
        prepare_csv(raw, tmp_path / "stop", "phdos", SMALL, expected_len=51)
    assert not (tmp_path / "stop" / "info.json").exists()  # nothing half-written
    info = prepare_csv(raw, tmp_path / "out", "phdos", SMALL, expected_len=51, exclude_bad=True)
    assert list(info["excluded"]) == [bad] and "neighbour" in info["excluded"][bad]
    data = load_prepared(tmp_path / "out")
    assert bad not in data.ids and len(data.graphs) == 29 and sum(info["sizes"].values()) == 29

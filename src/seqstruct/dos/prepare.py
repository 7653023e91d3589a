"""The prepared DoS data set: crystal graphs, spectra and the split, one folder per data set.

Layout of ``results/data/dos/<dataset>/`` (read back by :func:`load_prepared`)::

    graphs.pt        list of torch_geometric Data, one per material (fields: seqstruct.dos.batch), built once
    spectra.npy      (N, L) float32, the spectra as stored in the raw file (also each graph's ``y``)
    ids.txt          N material ids, one per line, in raw-file order
    train_idx.npy    sorted int64 row indices of the split (the three are disjoint and cover 0..N-1)
    val_idx.npy
    test_idx.npy
    info.json        dataset, source file, grid, graph settings, split kind and seed, sizes, excluded materials

The split is ``seqstruct.common.splits.random_split(N, seed, "dos-split", dataset)`` (80/10/10, the thesis'
protocol), or ``tutorial``: the phonon tutorial's fixed index files. Materials whose graph cannot be built (an
isolated atom without a neighbour within the cutoff, overlapping atoms, an unknown element) stop the
preparation with one line naming them, unless ``exclude_bad`` is set: then they are left out, listed in
``info.json`` under ``excluded`` with the reason, and logged (never a silent zero row).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from seqstruct.common.io import atomic_path, read_json, write_json
from seqstruct.common.splits import SPLITS, random_split
from seqstruct.dos.batch import GraphDims
from seqstruct.dos.formats import COLUMNS
from seqstruct.dos.graphs import GraphSettings, build_graphs, try_build_graphs
from seqstruct.dos.phonon import SpectraSet, read_phonon_csv, tutorial_split

log = logging.getLogger(__name__)

PREPARED_FILES = ("graphs.pt", "spectra.npy", "ids.txt", *(f"{k}_idx.npy" for k in SPLITS), "info.json")
SPLIT_KINDS = ("random", "tutorial")


@dataclass(frozen=True)
class PreparedDos:
    """A prepared DoS data set (module docstring).

    Attributes
    ----------
    graphs : list of Data
        One crystal graph per material, ``y`` (1, L) the raw spectrum.
    spectra : (N, L) float32 ndarray
    ids : list of str
    split : dict of str to ndarray
        ``train``/``val``/``test`` -> sorted row indices.
    info : dict
        The folder's ``info.json``.
    """

    graphs: list[Data]
    spectra: np.ndarray
    ids: list[str]
    split: dict[str, np.ndarray]
    info: dict[str, Any]

    @property
    def dims(self) -> GraphDims:
        """The feature sizes the models are built for."""
        g = self.graphs[0]
        return GraphDims(atom=g.x.shape[1], edge=g.edge_attr.shape[1], comp=g.comp.shape[1], out=g.y.shape[1])

    def part(self, name: str) -> list[Data]:
        """The graphs of split ``name``."""
        return [self.graphs[i] for i in self.split[name]]


def write_prepared(
    spectra_set: SpectraSet,
    out_dir: str | os.PathLike[str],
    dataset: str,
    settings: GraphSettings,
    split: str = "random",
    seed: int = 0,
    split_files: Mapping[str, str | os.PathLike[str]] | None = None,
    exclude_bad: bool = False,
) -> dict[str, Any]:
    """Build the graphs of ``spectra_set`` and write the prepared folder; returns ``info``.

    Raises
    ------
    InputError
        A material whose graph cannot be built (with ``exclude_bad`` False), from ``build_graphs``.
    ValueError
        An unknown split kind, or ``tutorial`` without its files.
    """
    if split not in SPLIT_KINDS:
        raise ValueError(f"split must be one of {SPLIT_KINDS}, got {split!r}")
    n_raw = len(spectra_set.ids)
    if split == "tutorial":
        if not split_files:
            raise ValueError("the tutorial split needs its index files (train, val, test)")
        raw_split = tutorial_split(dict(split_files), n_raw)
    args = (spectra_set.structures, spectra_set.spectra, spectra_set.ids, settings)
    if exclude_bad:
        built = try_build_graphs(*args, expected_len=len(spectra_set.grid))
        graphs, excluded = built.graphs, built.excluded
    else:  # one InputError listing every material that cannot be built
        graphs, excluded = build_graphs(*args, expected_len=len(spectra_set.grid)), {}
    keep = np.array([i for i, m in enumerate(spectra_set.ids) if m not in excluded], dtype=np.int64)
    for mid, why in excluded.items():
        log.warning("%s: excluded material %s: %s", spectra_set.source, mid, why)
    if split == "tutorial":
        new_index = -np.ones(n_raw, dtype=np.int64)
        new_index[keep] = np.arange(len(keep))
        parts = {k: np.sort(new_index[v][new_index[v] >= 0]) for k, v in raw_split.items()}
    else:
        parts = random_split(len(keep), seed, "dos-split", dataset)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids = [spectra_set.ids[i] for i in keep]
    info = {
        "dataset": dataset,
        "source": spectra_set.source,
        "grid": spectra_set.grid.tolist(),
        "graph": asdict(settings),
        "split": split,
        "split_seed": seed if split == "random" else None,
        "sizes": {k: len(v) for k, v in parts.items()},
        "n_materials": len(ids),
        "excluded": excluded,
        "atoms": {"min": min(g.num_nodes for g in graphs), "max": max(g.num_nodes for g in graphs)},
        "edges_per_atom": float(np.mean([g.num_edges / g.num_nodes for g in graphs])),
    }
    with atomic_path(out / "graphs.pt") as tmp:
        torch.save(graphs, tmp)
    with atomic_path(out / "spectra.npy") as tmp:
        np.save(tmp, spectra_set.spectra[keep])
    with atomic_path(out / "ids.txt") as tmp:
        tmp.write_text("".join(f"{m}\n" for m in ids))
    for k, v in parts.items():
        with atomic_path(out / f"{k}_idx.npy") as tmp:
            np.save(tmp, v)
    write_json(out / "info.json", info)
    log.info("%s: %d materials prepared (%s), %d excluded", dataset, len(ids), info["sizes"], len(excluded))
    return info


def prepare_csv(
    csv: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    dataset: str,
    settings: GraphSettings,
    raw_format: str = "phonon_csv",
    expected_len: int | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Read a spectra CSV of ``raw_format`` (``seqstruct.dos.formats``) and write its prepared folder."""
    grid_column, value_column = COLUMNS[raw_format]
    return write_prepared(
        read_phonon_csv(csv, expected_len, grid_column, value_column), out_dir, dataset, settings, **kwargs
    )


def prepared_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The files of a prepared folder (a run's fingerprint and provenance cover them all)."""
    return [Path(folder) / name for name in PREPARED_FILES]


def load_prepared(folder: str | os.PathLike[str]) -> PreparedDos:
    """Read a prepared folder written by :func:`write_prepared`."""
    folder = Path(folder)
    graphs = torch.load(folder / "graphs.pt", weights_only=False)
    return PreparedDos(
        graphs=graphs,
        spectra=np.load(folder / "spectra.npy"),
        ids=(folder / "ids.txt").read_text().split(),
        split={k: np.load(folder / f"{k}_idx.npy") for k in SPLITS},
        info=read_json(folder / "info.json"),
    )

"""Crystal graphs (the ``batch`` format) from pymatgen structures: the CGCNN recipe without pad edges.

Each atom (centre i) gets an edge from each of its ``max_neighbors`` nearest periodic neighbour images j within
``cutoff`` (fewer if fewer are in range: variable degree, no padding to atom 0 at 9 Å as in the reference).
Edges point neighbour -> centre (``edge_index[0]`` = j, ``edge_index[1]`` = i), so PyG's default flow
aggregates messages at the centre atom; this is the direction Mat2Spec's layer uses, not the reverse-kNN
aggregation the reference Xtal2DoS gets from its centre -> neighbour lists (methods.md 2.1 PITFALL).
Distances are expanded in Gaussians exp(-(d - mu)^2 / width^2) with centres ``linspace(0, cutoff, n_gaussians)``.

Ties at the kNN cut-off (e.g. rock salt: 6 at a/2, then 12 at a/sqrt(2), of which 6 are kept) are broken
deterministically: distances that agree to 1e-6 Å count as equal and are ordered by neighbour index, then image
offset. The choice among equidistant images is arbitrary, as in every kNN truncation.

Bad materials raise a subclass of ``BadMaterialError`` (an ``InputError``) whose one-line message names the
material id. ``build_graphs`` builds a whole data set and raises one ``BadMaterialsError`` listing all bad
materials; ``try_build_graphs`` instead returns the good graphs and the excluded ids with their reasons, for a
caller that logs and drops them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from pymatgen.core import IStructure
from torch_geometric.data import Data
from tqdm import tqdm

from seqstruct.common.errors import InputError, one_line
from seqstruct.dos.batch import GraphDims
from seqstruct.dos.elements import (
    ELEMENT_FEATURE_NAMES,
    N_ELEMENTS,
    check_atomic_numbers,
    composition_vector,
    element_features,
)

_TIE_DECIMALS = 6  # distances rounded to 1e-6 Å before sorting, so float noise does not pick among ties
_LIST_IDS = 5  # bad materials named in a BadMaterialsError message


class GraphSettingsError(InputError):
    """Graph construction settings that cannot build a graph (non-positive cutoff, too few Gaussians, ...)."""


class MaterialListError(InputError):
    """Structures, spectra and ids of a data set that do not line up (lengths differ, repeated ids)."""


class BadMaterialError(InputError):
    """One material that cannot be turned into a graph; the message names its id."""


class EmptyStructureError(BadMaterialError):
    """A structure without atoms."""


class DisorderedStructureError(BadMaterialError):
    """A structure with partially occupied sites (no single element per atom)."""


class OverlappingAtomsError(BadMaterialError):
    """Two atoms (or an atom and its own periodic image) closer than ``min_distance``."""


class IsolatedAtomError(BadMaterialError):
    """An atom with no neighbour within the cutoff (a graph node without incoming edges)."""


class BadSpectrumError(BadMaterialError):
    """A spectrum with NaN/inf, the wrong length or the wrong shape."""


class BadMaterialsError(InputError):
    """Some materials of a data set are bad; ``excluded`` maps each bad id to its one-line reason."""

    def __init__(self, message: str, excluded: dict[str, str]):
        super().__init__(message)
        self.excluded = excluded


@dataclass(frozen=True)
class GraphSettings:
    """How a crystal graph is built (defaults: the Xtal2DoS / CGCNN reference, methods.md 2.1)."""

    cutoff: float = 8.0  # Å, neighbour search radius (reference: get_all_neighbors(r=8))
    max_neighbors: int = 12  # kNN cap per centre atom (reference: 12 nearest)
    n_gaussians: int = 41  # Gaussian centres linspace(0, cutoff, 41): 0, 0.2, ..., 8.0 Å
    gaussian_width: float = 0.2  # Å, exp(-(d - mu)^2 / width^2) (reference: 0.2)
    min_distance: float = 0.5  # Å, closer atoms are an overlap error (not in the reference: a sanity check)

    def __post_init__(self) -> None:
        problems = []
        if not self.cutoff > 0:
            problems.append(f"cutoff={self.cutoff} must be > 0 Å")
        if int(self.max_neighbors) != self.max_neighbors or self.max_neighbors < 1:
            problems.append(f"max_neighbors={self.max_neighbors} must be an integer >= 1")
        if int(self.n_gaussians) != self.n_gaussians or self.n_gaussians < 2:
            problems.append(f"n_gaussians={self.n_gaussians} must be an integer >= 2")
        if not self.gaussian_width > 0:
            problems.append(f"gaussian_width={self.gaussian_width} must be > 0 Å")
        if not 0 <= self.min_distance < self.cutoff:
            problems.append(f"min_distance={self.min_distance} must be in [0, cutoff)")
        if problems:
            raise GraphSettingsError(f"graph settings: {'; '.join(problems)}; fix the graph section of the config")


def graph_dims(settings: GraphSettings, out_len: int) -> GraphDims:
    """Feature sizes of graphs built with ``settings`` for spectra of length ``out_len``."""
    return GraphDims(atom=len(ELEMENT_FEATURE_NAMES), edge=settings.n_gaussians, comp=N_ELEMENTS, out=out_len)


def gaussian_expansion(distances: np.ndarray, cutoff: float, n_gaussians: int, width: float) -> np.ndarray:
    """Expand distances in Gaussians centred on ``linspace(0, cutoff, n_gaussians)``.

    Parameters
    ----------
    distances : np.ndarray
        Edge lengths in Å.
    cutoff : float
        Last Gaussian centre (Å).
    n_gaussians : int
        Number of centres G.
    width : float
        Gaussian width in Å: exp(-(d - mu)^2 / width^2).

    Returns
    -------
    np.ndarray
        float32 expansion.

    Shapes
    ------
        distances: (E,) -> (E, G)
    """
    centres = np.linspace(0.0, cutoff, n_gaussians)
    diff = np.asarray(distances, dtype=np.float64)[:, None] - centres[None, :]
    return np.exp(-(diff**2) / width**2).astype(np.float32)


def crystal_graph(
    structure: IStructure,
    spectrum: np.ndarray | None,
    material_id: str,
    cutoff: float = 8.0,
    max_neighbors: int = 12,
    n_gaussians: int = 41,
    gaussian_width: float = 0.2,
    *,
    min_distance: float = 0.5,
    expected_len: int | None = None,
) -> Data:
    """The crystal graph of one material in the format of ``seqstruct.dos.batch``.

    Parameters
    ----------
    structure : pymatgen.core.IStructure
        Ordered periodic structure (``Structure`` or ``IStructure``).
    spectrum : np.ndarray or None
        The material's spectrum on its grid, stored as ``y``; None builds a graph without ``y``.
    material_id : str
        Id named in error messages (e.g. ``mp-149``).
    cutoff : float
        Neighbour search radius in Å.
    max_neighbors : int
        At most this many nearest neighbour images per centre atom.
    n_gaussians : int
        Gaussian centres G of the edge features, ``linspace(0, cutoff, n_gaussians)``.
    gaussian_width : float
        Gaussian width in Å.
    min_distance : float
        Atoms closer than this (Å) are an overlap error.
    expected_len : int or None
        Required spectrum length L; None accepts any length >= 1.

    Returns
    -------
    torch_geometric.data.Data
        Fields ``x, z, pos, edge_index, edge_vec, edge_attr, comp`` and ``y`` when a spectrum is given.

    Shapes
    ------
        x: (n, F) float32, z: (n,) int64, pos: (n, 3) float32, edge_index: (2, E) int64, edge_vec: (E, 3)
        float32, edge_attr: (E, G) float32, comp: (1, 103) float32, y: (1, L) float32; n <= E <= n * k

    Raises
    ------
    BadMaterialError
        A subclass naming ``material_id``: empty or disordered structure, overlapping or isolated atoms, bad
        spectrum; ``UnknownElementError`` for an element outside H..Lr.
    """
    settings = GraphSettings(cutoff, max_neighbors, n_gaussians, gaussian_width, min_distance)
    where = f"material {material_id}: "
    y = None if spectrum is None else _checked_spectrum(spectrum, expected_len, where)
    z = _atomic_numbers(structure, where)
    centre, neighbour, offsets, distances = _nearest_neighbours(structure, settings, where)
    cart = structure.cart_coords
    edge_vec = cart[neighbour] + offsets @ structure.lattice.matrix - cart[centre]
    graph = Data(
        x=torch.from_numpy(element_features(z)),
        z=torch.from_numpy(z),
        pos=torch.from_numpy(cart.astype(np.float32)),
        edge_index=torch.from_numpy(np.stack([neighbour, centre]).astype(np.int64)),
        edge_vec=torch.from_numpy(edge_vec.astype(np.float32)),
        edge_attr=torch.from_numpy(gaussian_expansion(distances, cutoff, n_gaussians, gaussian_width)),
        comp=torch.from_numpy(composition_vector(z)[None, :]),
    )
    if y is not None:
        graph.y = torch.from_numpy(y[None, :])
    return graph


@dataclass
class GraphBuild:
    """Result of ``try_build_graphs``: the good graphs, their ids (same order) and the excluded ids."""

    graphs: list[Data]
    ids: list[str]
    excluded: dict[str, str]  # material id -> one-line reason ("ErrorType: message")


def try_build_graphs(
    structures: Sequence[IStructure],
    spectra: np.ndarray | Sequence[np.ndarray] | None,
    ids: Sequence[str],
    settings: GraphSettings | None = None,
    *,
    expected_len: int | None = None,
    progress: bool = True,
) -> GraphBuild:
    """Build the graphs of a data set, leaving out the bad materials and saying why.

    Parameters
    ----------
    structures : Sequence[pymatgen.core.IStructure]
        One structure per material.
    spectra : np.ndarray or Sequence[np.ndarray] or None
        One spectrum per material (rows of an (N, L) array or a list), or None for graphs without ``y``.
    ids : Sequence[str]
        Unique material ids, named in the reasons.
    settings : GraphSettings or None
        Graph settings; None uses the reference defaults.
    expected_len : int or None
        Required spectrum length; None takes the most common length of ``spectra`` (all must then have it).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    GraphBuild
        Graphs of the good materials in input order, their ids, and ``excluded`` {id: reason}. Only
        ``InputError`` problems of a material exclude it; any other exception is a bug and propagates.

    Raises
    ------
    MaterialListError
        If the three inputs differ in length or an id repeats.
    """
    settings = settings or GraphSettings()
    _check_material_list(structures, spectra, ids)
    if spectra is not None and expected_len is None and len(spectra) > 0:
        expected_len = _common_length(spectra)
    options = dataclasses.asdict(settings)
    graphs, kept, excluded = [], [], {}
    items = tqdm(range(len(ids)), desc="crystal graphs", unit="material", disable=not progress)
    for k in items:
        spectrum = None if spectra is None else spectra[k]
        try:
            graphs.append(crystal_graph(structures[k], spectrum, ids[k], **options, expected_len=expected_len))
            kept.append(ids[k])
        except InputError as exc:
            excluded[ids[k]] = one_line(exc)
    return GraphBuild(graphs=graphs, ids=kept, excluded=excluded)


def build_graphs(
    structures: Sequence[IStructure],
    spectra: np.ndarray | Sequence[np.ndarray] | None,
    ids: Sequence[str],
    settings: GraphSettings | None = None,
    progress: bool = True,
    *,
    expected_len: int | None = None,
) -> list[Data]:
    """Build the graphs of a data set in which every material must be good.

    All materials are tried before failing, so one error lists every bad material (first few ids and the
    count); use ``try_build_graphs`` to drop and log them instead. Parameters as in ``try_build_graphs``.

    Parameters
    ----------
    structures : Sequence[pymatgen.core.IStructure]
        One structure per material.
    spectra : np.ndarray or Sequence[np.ndarray] or None
        One spectrum per material, or None.
    ids : Sequence[str]
        Unique material ids.
    settings : GraphSettings or None
        Graph settings; None uses the reference defaults.
    progress : bool
        Show a tqdm progress bar.
    expected_len : int or None
        Required spectrum length; None takes the most common one.

    Returns
    -------
    list[torch_geometric.data.Data]
        One graph per material, in input order.

    Raises
    ------
    BadMaterialsError
        If any material is bad; ``.excluded`` maps every bad id to its reason.
    MaterialListError
        If the inputs do not line up.
    """
    built = try_build_graphs(structures, spectra, ids, settings, expected_len=expected_len, progress=progress)
    if built.excluded:
        raise BadMaterialsError(_bad_materials_message(built.excluded, len(ids)), built.excluded)
    return built.graphs


def _common_length(spectra: np.ndarray | Sequence[np.ndarray]) -> int:
    """The most common spectrum length of a data set (ties: the shorter), so one bad entry cannot set it."""
    lengths, counts = np.unique([np.asarray(y).size for y in spectra], return_counts=True)
    return int(lengths[np.argmax(counts)])


def _bad_materials_message(excluded: dict[str, str], total: int) -> str:
    """One line naming the first few bad materials, their reasons and the count."""
    shown = "; ".join(f"{mid} ({reason})" for mid, reason in list(excluded.items())[:_LIST_IDS])
    more = f"; and {len(excluded) - _LIST_IDS} more" if len(excluded) > _LIST_IDS else ""
    return (
        f"{len(excluded)} of {total} materials cannot be made into graphs: {shown}{more}; "
        "fix or drop them (try_build_graphs excludes them and returns the reasons)"
    )


def _check_material_list(structures: Sequence, spectra: Sequence | np.ndarray | None, ids: Sequence[str]) -> None:
    """Raise MaterialListError unless structures, spectra and ids line up and ids are unique."""
    lengths = {"structures": len(structures), "ids": len(ids)}
    if spectra is not None:
        lengths["spectra"] = len(spectra)
    if len(set(lengths.values())) > 1:
        raise MaterialListError(f"data set lengths differ ({lengths}); pass one structure, spectrum and id each")
    seen: set[str] = set()
    repeated = [mid for mid in ids if mid in seen or seen.add(mid)]
    if repeated:
        raise MaterialListError(f"material ids repeat ({sorted(set(repeated))[:_LIST_IDS]}); ids must be unique")


def _atomic_numbers(structure: IStructure, where: str) -> np.ndarray:
    """Atomic numbers of an ordered, non-empty structure. Shapes: -> (n,) int64."""
    if not isinstance(structure, IStructure):
        raise TypeError(f"{where}expected a pymatgen Structure, got {type(structure).__name__}")
    if len(structure) == 0:
        raise EmptyStructureError(f"{where}the structure has no atoms; fix the structure file or drop the material")
    if not structure.is_ordered:
        raise DisorderedStructureError(
            f"{where}the structure has partially occupied sites; order it (e.g. a supercell) or drop the material"
        )
    return check_atomic_numbers(np.array([getattr(site.specie, "Z", 0) for site in structure]), where)


def _checked_spectrum(spectrum: np.ndarray, expected_len: int | None, where: str) -> np.ndarray:
    """The spectrum as a finite float32 vector of the expected length. Shapes: (L,) or (1, L) -> (L,)."""
    y = np.asarray(spectrum, dtype=np.float64)
    if y.ndim == 2 and y.shape[0] == 1:
        y = y[0]
    if y.ndim != 1 or y.size == 0:
        raise BadSpectrumError(f"{where}spectrum has shape {y.shape}, expected (L,); store one 1-D spectrum per id")
    if expected_len is not None and y.size != expected_len:
        raise BadSpectrumError(
            f"{where}spectrum has length {y.size}, expected {expected_len}; re-bin it onto the common grid"
        )
    bad = ~np.isfinite(y)
    if bad.any():
        raise BadSpectrumError(
            f"{where}spectrum has {int(bad.sum())} NaN/inf values (first at bin {int(np.argmax(bad))}); "
            "fix the source data or drop the material"
        )
    return y.astype(np.float32)


def _nearest_neighbours(
    structure: IStructure, settings: GraphSettings, where: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The k nearest neighbour images of every atom within the cutoff, sorted by centre then distance.

    Returns
    -------
    tuple of np.ndarray
        ``centre`` (E,) int64, ``neighbour`` (E,) int64, ``offsets`` (E, 3) float64 lattice image of the
        neighbour, ``distances`` (E,) float64 in Å.

    Raises
    ------
    OverlappingAtomsError, IsolatedAtomError
        Atoms closer than ``min_distance``; an atom without neighbours within the cutoff.
    """
    centre, neighbour, offsets, distances = structure.get_neighbor_list(settings.cutoff, exclude_self=False)
    is_self = (centre == neighbour) & ~offsets.any(axis=1)  # exclude_self=False keeps overlaps at d = 0
    centre, neighbour, offsets, distances = (a[~is_self] for a in (centre, neighbour, offsets, distances))
    _check_overlaps(centre, neighbour, distances, settings.min_distance, where)
    order = np.lexsort(
        (offsets[:, 2], offsets[:, 1], offsets[:, 0], neighbour, np.round(distances, _TIE_DECIMALS), centre)
    )
    centre, neighbour, offsets, distances = (a[order] for a in (centre, neighbour, offsets, distances))
    rank = np.arange(centre.size) - np.searchsorted(centre, centre, side="left")
    keep = rank < settings.max_neighbors
    degree = np.bincount(centre, minlength=len(structure))
    if (degree == 0).any():
        lonely = np.flatnonzero(degree == 0)
        raise IsolatedAtomError(
            f"{where}{lonely.size} atom(s) (first: site {int(lonely[0])}, {structure[int(lonely[0])].specie}) have no "
            f"neighbour within the cutoff {settings.cutoff} Å; raise the cutoff or drop the material"
        )
    return centre[keep].astype(np.int64), neighbour[keep].astype(np.int64), offsets[keep], distances[keep]


def _check_overlaps(
    centre: np.ndarray, neighbour: np.ndarray, distances: np.ndarray, min_distance: float, where: str
) -> None:
    """Raise OverlappingAtomsError if some pair of atoms (images included) is closer than ``min_distance``."""
    if distances.size and distances.min() < min_distance:
        k = int(np.argmin(distances))
        raise OverlappingAtomsError(
            f"{where}atoms closer than {min_distance} Å (sites {int(centre[k])} and {int(neighbour[k])} at "
            f"{distances[k]:.3f} Å, periodic images included); fix the structure or drop the material"
        )

"""Tests of ``seqstruct.dos.edos`` (binning real Materials Project DoS objects) and ``seqstruct.dos.mp`` (the
resumable fetch through a fake client, the raw eDoS CSV)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from emmet.core.mpid import AlphaID
from numpy.testing import assert_allclose
from pymatgen.core import Structure
from pymatgen.electronic_structure.core import Spin
from pymatgen.electronic_structure.dos import CompleteDos, Dos

from seqstruct.common.errors import InputError
from seqstruct.dos import edos, mp
from seqstruct.dos.conftest import DOS_MIRROR
from seqstruct.dos.phonon import read_phonon_csv

SMOKE = DOS_MIRROR / "edos_smoketest"
#: emmet's Fe_dos.json.gz stores no id; mp-13 is Materials Project's bcc Fe
FE_ID = "mp-13"


@pytest.fixture(scope="module")
def real_dos() -> dict[str, CompleteDos]:
    """The three staged DoS objects by id (WO2 mp-823888, Si mp-1686587, bcc Fe)."""
    if not SMOKE.is_dir():
        pytest.skip(f"staged MP DoS objects not found in {SMOKE} (set SEQSTRUCT_DATA_MIRROR)")
    with gzip.open(SMOKE / "emmet_es_dos_objs.json.gz", "rt") as fh:
        objs = {o["task_id"]: CompleteDos.from_dict(o["data"]) for o in json.load(fh)}
    with gzip.open(SMOKE / "emmet_Fe_dos.json.gz", "rt") as fh:
        objs[FE_ID] = CompleteDos.from_dict(json.load(fh))
    return objs


def _raw_integral(dos: Dos, lo: float, hi: float, n: int = 400_001) -> float:
    """Trapezoid integral of the linearly interpolated raw total DoS over absolute energies [lo, hi]."""
    e = np.linspace(lo, hi, n)
    return float(np.trapezoid(np.interp(e, dos.energies, dos.get_densities()), e))


# --------------------------------------------------------------------------------------------------- binning


def test_bin_centres_are_the_thesis_grid() -> None:
    assert np.allclose(edos.bin_centres(), -4 + (np.arange(128) + 0.5) * 8 / 128)


@pytest.mark.parametrize("reference", ["band_edges", "fermi"])
def test_real_dos_bins_are_finite_non_negative_and_keep_the_integral(real_dos: dict[str, Dos], reference: str) -> None:
    for mid, dos in real_dos.items():
        bins = edos.bin_total_dos(dos, reference=reference, material_id=mid)
        assert bins.shape == (128,) and bins.dtype == np.float32
        assert np.all(np.isfinite(bins)) and np.all(bins >= 0) and bins.max() > 0
        vbm, cbm = edos.band_edges(dos, reference)
        raw = _raw_integral(dos, vbm - 4.0, vbm) + _raw_integral(dos, cbm, cbm + 4.0)
        assert np.sum(bins) * 8 / 128 == pytest.approx(raw, rel=0.01), mid


def test_metals_use_the_fermi_level(real_dos: dict[str, Dos]) -> None:
    for mid in ("mp-823888", FE_ID):
        dos = real_dos[mid]
        assert edos.band_edges(dos) == (dos.efermi, dos.efermi)
        assert np.array_equal(edos.bin_total_dos(dos), edos.bin_total_dos(dos, reference="fermi"))


def test_si_gap_is_removed_with_band_edges_and_kept_with_fermi(real_dos: dict[str, Dos]) -> None:
    si = real_dos["mp-1686587"]
    vbm, cbm = edos.band_edges(si)
    assert cbm - vbm == pytest.approx(si.get_gap(tol=edos.GAP_TOL)) and 0.7 < cbm - vbm < 0.9
    edges = edos.bin_total_dos(si)
    fermi = edos.bin_total_dos(si, reference="fermi")
    centres = edos.bin_centres()
    first_positive = int(np.argmax(centres > 0))
    assert edges[first_positive] > 0.01 * edges.max() and edges[first_positive - 1] > 0.01 * edges.max()
    in_gap = (centres > 0.1) & (centres < cbm - si.efermi - 0.1)
    assert in_gap.sum() >= 8 and np.all(fermi[in_gap] < 1e-3 * edges.max())
    # above the gap the two references differ only by the shift CBM - E_F
    assert not np.allclose(edges, fermi)


def test_spin_polarised_total_is_the_sum_of_both_spins(real_dos: dict[str, Dos]) -> None:
    for mid in ("mp-823888", FE_ID):
        dos = real_dos[mid]
        assert set(dos.densities) == {Spin.up, Spin.down}
        total = edos.bin_total_dos(dos, reference="fermi")
        up, down = (
            edos.bin_total_dos(Dos(dos.efermi, dos.energies, {Spin.up: dos.densities[s]}), reference="fermi")
            for s in (Spin.up, Spin.down)
        )
        assert np.allclose(total, up + down, rtol=1e-5, atol=1e-6)
        summed = Dos(dos.efermi, dos.energies, {Spin.up: dos.densities[Spin.up] + dos.densities[Spin.down]})
        assert np.allclose(edos.bin_total_dos(dos), edos.bin_total_dos(summed), rtol=1e-5, atol=1e-6)


def test_binning_is_the_exact_bin_mean_of_a_linear_dos() -> None:
    energies = np.linspace(-10, 10, 21)  # coarse grid: 1 eV steps, bins are 62.5 meV
    dos = Dos(0.0, energies, {Spin.up: energies + 10.0})  # linear, no gap
    bins = edos.bin_total_dos(dos)
    assert np.allclose(bins, edos.bin_centres() + 10.0, atol=1e-5)


def test_band_edges_join_the_two_edges_at_zero() -> None:
    energies = np.linspace(-10, 10, 2001)
    dens = np.where(np.abs(energies - 0.5) < 1.0, 0.0, 2.0)  # gap from -0.5 to 1.5 eV, E_F inside
    dos = Dos(0.4, energies, {Spin.up: dens})
    vbm, cbm = edos.band_edges(dos)
    assert vbm == pytest.approx(-0.5, abs=0.011) and cbm == pytest.approx(1.5, abs=0.011)
    bins = edos.bin_total_dos(dos)
    assert np.allclose(bins[1:-1], 2.0, atol=0.2) and bins[63] > 1.0 and bins[64] > 1.0
    assert np.all(edos.bin_total_dos(dos, reference="fermi")[56:80] < 1e-6)


def _synthetic(dens: np.ndarray, lo: float = -6.0, hi: float = 6.0) -> Dos:
    return Dos(0.0, np.linspace(lo, hi, dens.size), {Spin.up: dens})


@pytest.mark.parametrize(
    ("dos", "words"),
    [
        (_synthetic(np.where(np.arange(101) == 40, np.nan, 1.0)), "NaN"),
        (_synthetic(np.where(np.arange(101) == 40, -0.5, 1.0)), "negative"),
        (_synthetic(np.ones(101), lo=-3.0), "covers only"),
        (_synthetic(np.ones(101), hi=3.5), "covers only"),
    ],
    ids=["nan", "negative", "short-below", "short-above"],
)
def test_bad_dos_raises_one_line_naming_the_id(dos: Dos, words: str) -> None:
    with pytest.raises(InputError, match=words) as info:
        edos.bin_total_dos(dos, material_id="mp-9999")
    assert "mp-9999" in str(info.value) and "\n" not in str(info.value)


def test_short_range_after_the_band_edge_shift_is_refused() -> None:
    energies = np.linspace(-4.2, 6.0, 1021)  # covers -4..4 around E_F = 0, not around a VBM at -0.5
    dens = np.where((energies > -0.5) & (energies < 1.0), 0.0, 1.0)
    with pytest.raises(edos.DosError, match="mp-7 covers only"):
        edos.bin_total_dos(Dos(0.0, energies, {Spin.up: dens}), material_id="mp-7")
    assert edos.bin_total_dos(Dos(0.0, energies, {Spin.up: dens}), reference="fermi", material_id="mp-7").shape == (
        128,
    )


# --------------------------------------------------------------------------------------------------- fetching


class _Materials:
    def __init__(self, client: FakeClient) -> None:
        self.client = client

    def search(self, material_ids: list[str], fields: list[str]) -> list[Any]:
        """Like MaterialsRester.search with a document model: docs with AlphaID ids (``mp-1686587`` -> ``mp-dryyt``)."""
        self.client.search_calls.append(list(material_ids))
        return [
            SimpleNamespace(material_id=AlphaID(m), structure=self.client.store[m].structure)
            for m in material_ids
            if m in self.client.store
        ]


class FakeClient:
    """Serves the staged DoS objects like MPRester; counts calls; can fail the first DoS requests."""

    def __init__(self, store: dict[str, CompleteDos], failures: int = 0) -> None:
        self.store, self.failures = store, failures
        self.search_calls: list[list[str]] = []
        self.dos_calls: list[str] = []
        self.materials = _Materials(self)

    def __enter__(self) -> FakeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def get_dos_by_material_id(self, material_id: str) -> Dos:
        self.dos_calls.append(material_id)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("connection reset by peer")
        dos = self.store[material_id]
        return Dos(dos.efermi, dos.energies, dos.densities)  # the total DoS, as without load_projections


def _factory(client: FakeClient, keys: list[str]) -> mp.ClientFactory:
    def make(api_key: str) -> FakeClient:
        keys.append(api_key)
        return client

    return make


def test_fetch_writes_one_file_each_and_resumes(real_dos: dict[str, CompleteDos], tmp_path: Path) -> None:
    ids = list(real_dos)
    client, keys = FakeClient(real_dos), []
    first = mp.fetch_electronic_dos(ids, tmp_path, api_key="k", chunk_size=2, client_factory=_factory(client, keys))
    assert first.fetched == ids and not first.skipped and not first.missing and keys == ["k"]
    assert client.search_calls == [ids[:2], ids[2:]] and client.dos_calls == ids
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{m}.json.gz" for m in ids)  # no temp files left

    (tmp_path / f"{ids[1]}.json.gz").unlink()
    client2 = FakeClient(real_dos)
    second = mp.fetch_electronic_dos(ids, tmp_path, api_key="k", client_factory=_factory(client2, []))
    assert second.fetched == [ids[1]] and second.skipped == [ids[0], ids[2]]
    assert client2.search_calls == [[ids[1]]] and client2.dos_calls == [ids[1]]

    client3 = FakeClient(real_dos)
    third = mp.fetch_electronic_dos(ids, tmp_path, api_key="k", client_factory=_factory(client3, []))
    assert third.skipped == ids and client3.dos_calls == [] and client3.search_calls == []

    structures, spectra, got = mp.load_fetched(tmp_path, ids)
    assert got == ids and spectra.shape == (3, 128) and spectra.dtype == np.float32
    assert all(isinstance(s, Structure) for s in structures)
    for row, mid in zip(spectra, ids):
        assert np.allclose(row, edos.bin_total_dos(real_dos[mid]))
        assert structures[ids.index(mid)] == real_dos[mid].structure


def test_fetch_refetches_a_corrupt_file_and_reports_missing_ids(
    real_dos: dict[str, CompleteDos], tmp_path: Path
) -> None:
    ids = [*real_dos, "mp-0"]
    mp.fetch_electronic_dos(ids[:1], tmp_path, api_key="k", client_factory=_factory(FakeClient(real_dos), []))
    (tmp_path / f"{ids[0]}.json.gz").write_bytes(b"not gzip")
    client = FakeClient(real_dos)
    summary = mp.fetch_electronic_dos(ids, tmp_path, api_key="k", client_factory=_factory(client, []))
    assert summary.fetched == ids[:3] and list(summary.missing) == ["mp-0"]
    _, spectra, got = mp.load_fetched(tmp_path, ids, skip_missing=True)
    assert got == ids[:3] and spectra.shape == (3, 128)
    with pytest.raises(edos.DosError, match=r"mp-0\.json\.gz not found"):
        mp.load_fetched(tmp_path, ids)


def test_transient_failure_is_retried_with_backoff(real_dos: dict[str, CompleteDos], tmp_path: Path) -> None:
    client, waits = FakeClient(real_dos, failures=2), []
    summary = mp.fetch_electronic_dos(
        ["mp-1686587"], tmp_path, api_key="k", retries=3, client_factory=_factory(client, []), sleep=waits.append
    )
    assert summary.fetched == ["mp-1686587"] and client.dos_calls == ["mp-1686587"] * 3 and waits == [2.0, 4.0]


def test_persistent_failure_stops_with_one_line_and_keeps_finished_files(
    real_dos: dict[str, CompleteDos], tmp_path: Path
) -> None:
    mp.fetch_electronic_dos([FE_ID], tmp_path, api_key="k", client_factory=_factory(FakeClient(real_dos), []))
    client = FakeClient(real_dos, failures=10)
    with pytest.raises(InputError, match="failed after 3 tries") as info:
        mp.fetch_electronic_dos(
            [FE_ID, "mp-1686587"],
            tmp_path,
            api_key="k",
            retries=2,
            client_factory=_factory(client, []),
            sleep=lambda s: None,
        )
    assert "\n" not in str(info.value) and "MP_API_KEY" in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == [f"{FE_ID}.json.gz"]


def test_no_api_key_is_one_line_naming_mp_api_key(
    real_dos: dict[str, CompleteDos], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MP_API_KEY", raising=False)
    keys: list[str] = []
    with pytest.raises(InputError) as info:
        mp.fetch_electronic_dos(["mp-149"], tmp_path, client_factory=_factory(FakeClient(real_dos), keys))
    message = str(info.value)
    assert "MP_API_KEY" in message and "export MP_API_KEY=" in message and "\n" not in message and keys == []
    monkeypatch.setenv("MP_API_KEY", "from-env")
    mp.fetch_electronic_dos(["mp-1686587"], tmp_path, client_factory=_factory(FakeClient(real_dos), keys))
    assert keys == ["from-env"]


def test_classify_mp_rest_errors() -> None:
    class MPRestError(Exception):
        pass

    assert mp._classify(MPRestError("REST query returned with error status code 503 on URL x")) == "transient"
    assert mp._classify(MPRestError("REST query returned with error status code 429 on URL x")) == "transient"
    assert mp._classify(MPRestError("REST query returned with error status code 403 on URL x")) == "refused"
    assert mp._classify(MPRestError("No electronic structure data found for material ID mp-1.")) == "not_found"
    assert mp._classify(MPRestError("REST query timed out on URL x. Try again")) == "transient"
    assert mp._classify(TimeoutError()) == "transient" and mp._classify(KeyError("x")) == "bug"


def test_bad_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a plain id"):
        mp.fetch_electronic_dos(["../etc"], tmp_path, api_key="k", client_factory=lambda key: None)  # type: ignore[arg-type,return-value]


def test_edos_csv_round_trip(real_dos: dict[str, CompleteDos], tmp_path: Path) -> None:
    ids = list(real_dos)
    spectra = np.stack([edos.bin_total_dos(real_dos[m]) for m in ids])
    path = mp.write_edos_csv(tmp_path / "edos.csv", [real_dos[m].structure for m in ids], spectra, ids)
    back = read_phonon_csv(path, 128, "energy", "edos")
    assert back.ids == ids
    assert_allclose(back.spectra, spectra, rtol=1e-6)
    assert_allclose(back.grid, edos.bin_centres(), atol=1e-6)
    for m, s in zip(ids, back.structures):
        assert s.composition == real_dos[m].structure.composition
        assert_allclose(s.lattice.volume, real_dos[m].structure.lattice.volume, rtol=1e-6)
    with pytest.raises(InputError, match="must agree"):
        mp.write_edos_csv(tmp_path / "bad.csv", [], spectra, ids)

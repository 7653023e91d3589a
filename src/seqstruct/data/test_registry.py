"""Tests of the dataset registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqstruct.data import DataError, get_dataset, load_registry

REGISTRY = Path(__file__).resolve().parents[3] / "config" / "datasets.yaml"

GOOD_FILE = (
    "      - name: a.txt\n"
    "        url: http://127.0.0.1:1/a.txt\n"
    "        sha256: " + "ab" * 32 + "\n"
    "        mirror: x/a.txt\n"
)


def _write(tmp_path: Path, files: str, extra: str = "") -> Path:
    path = tmp_path / "datasets.yaml"
    path.write_text(
        "datasets:\n  toy:\n    title: T\n    license: L\n    citation: C\n" + extra + "    files:\n" + files
    )
    return path


def test_real_registry_has_the_three_datasets() -> None:
    reg = load_registry(REGISTRY)
    assert {"khaki_soybean", "census_county_adjacency", "census_county_boundaries_2010"} <= reg.keys()
    soy = reg["khaki_soybean"]
    assert [f.name for f in soy.files] == ["soybean_data.npz", "Soybeans_Loc_ID.csv", "us_county_abbrev.txt"]
    assert soy.file("Soybeans_Loc_ID.csv").mirror == "crop/Soybeans_Loc_ID.csv"
    assert "Khaki" in soy.citation
    shp = reg["census_county_boundaries_2010"]
    assert sorted(Path(f.name).suffix for f in shp.files) == [".dbf", ".prj", ".shp", ".shx"]
    for spec in reg.values():
        for f in spec.files:
            assert f.url.startswith("https://raw.githubusercontent.com/gomes-lab/GNN-RNN/21622d1")
            assert f.url.endswith("/" + f.name)


def test_valid_tmp_registry(tmp_path: Path) -> None:
    spec = load_registry(_write(tmp_path, GOOD_FILE, extra="    description: D\n"))["toy"]
    assert spec.description == "D"
    assert spec.file("a.txt").sha256 == "ab" * 32


def test_unknown_file_name_lists_valid_names(tmp_path: Path) -> None:
    spec = load_registry(_write(tmp_path, GOOD_FILE))["toy"]
    with pytest.raises(DataError, match=r"'toy' has no file 'b.txt'.*a\.txt"):
        spec.file("b.txt")


@pytest.mark.parametrize(
    ("files", "pattern"),
    [
        (GOOD_FILE.replace("        mirror: x/a.txt\n", ""), "missing key.*mirror"),
        (GOOD_FILE.replace("ab" * 32, "abc123"), "sha256 must be 64 hex"),
        (GOOD_FILE.replace("ab" * 32, "g" * 64), "sha256 must be 64 hex"),
        (GOOD_FILE.replace("ab" * 32, "1" * 64), "quote it"),
        (GOOD_FILE + GOOD_FILE, "duplicate file names: a.txt"),
        (GOOD_FILE.replace("x/a.txt", "../a.txt"), "relative to the mirror root"),
        ("      []\n", "non-empty list"),
    ],
)
def test_malformed_registry_names_file_and_dataset(tmp_path: Path, files: str, pattern: str) -> None:
    path = _write(tmp_path, files)
    with pytest.raises(DataError, match=pattern) as info:
        load_registry(path)
    assert str(path) in str(info.value)
    assert "'toy'" in str(info.value)


def test_unparsable_and_missing_registry(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets: [unclosed\n")
    with pytest.raises(DataError, match="bad.yaml"):
        load_registry(bad)
    with pytest.raises(DataError, match="not found"):
        load_registry(tmp_path / "none.yaml")
    (tmp_path / "empty.yaml").write_text("other: 1\n")
    with pytest.raises(DataError, match="empty.yaml.*datasets"):
        load_registry(tmp_path / "empty.yaml")


def test_unknown_dataset_suggests_close_match() -> None:
    with pytest.raises(DataError) as info:
        get_dataset("khaki_soybeans", REGISTRY)
    msg = str(info.value)
    assert "'khaki_soybeans'" in msg and "did you mean 'khaki_soybean'" in msg
    assert "census_county_adjacency" in msg and str(REGISTRY) in msg
    assert "\n" not in msg

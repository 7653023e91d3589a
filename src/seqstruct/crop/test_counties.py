from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqstruct.crop.counties import (
    census_key,
    centroids,
    county_geometry,
    map_loc_ids,
    normalise_county_name,
    read_adjacency,
)
from seqstruct.crop.raw import CropDataError
from seqstruct.crop.synthetic import write_synthetic_crop

# A tiny file in the Census format: self listings, an asymmetric pair (C lists A, A does not list C),
# a non-ASCII name (ISO-8859-1) and a mis-spelled block head for an existing code.
ADJ = (
    '"Adams County, IL"\t17001\t"Adams County, IL"\t17001\n'
    '\t\t"Brown County, IL"\t17009\n'
    '"Brown County, IL"\t17009\t"Adams County, IL"\t17001\n'
    '\t\t"Brown County, IL"\t17009\n'
    '"Cass County, IL"\t17017\t"Cass County, IL"\t17017\n'
    '\t\t"Adams County, IL"\t17001\n'
    '"Do\u00f1a Ana County, NM"\t35013\t"Do\u00f1a Ana County, NM"\t35013\n'
)


@pytest.fixture()
def adj_file(tmp_path: Path) -> Path:
    path = tmp_path / "county_adjacency.txt"
    path.write_bytes(ADJ.encode("ISO-8859-1"))
    return path


def test_read_adjacency_symmetric_without_self_loops(adj_file: Path) -> None:
    fips, names, edges = read_adjacency(adj_file)
    assert fips.dtype == np.int64
    assert fips.tolist() == [17001, 17009, 17017, 35013]
    assert names[35013] == "Do\u00f1a Ana County, NM"
    assert names[17001] == "Adams County, IL"
    assert all(a != b for a, b in edges)
    assert set(edges) == {(17001, 17009), (17009, 17001), (17001, 17017), (17017, 17001)}
    assert edges == sorted(set(edges))


def test_read_adjacency_bad_line_reports_line_number(tmp_path: Path) -> None:
    path = tmp_path / "adj.txt"
    path.write_text('"Adams County, IL"\t17001\t"Adams County, IL"\t17001\n"Brown County, IL"\t17009\n')
    with pytest.raises(CropDataError, match=r"adj.txt:2: expected 4 tab-separated fields"):
        read_adjacency(path)
    path.write_text('"Adams County, IL"\t17001\t"Adams County, IL"\t17x01\n')
    with pytest.raises(CropDataError, match=r"adj.txt:1: FIPS '17x01'"):
        read_adjacency(path)
    path.write_text('\t\t"Adams County, IL"\t17001\n')
    with pytest.raises(CropDataError, match=r"adj.txt:1: continuation line before"):
        read_adjacency(path)


def test_conflicting_spellings_keep_most_frequent(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "adj.txt"
    path.write_text(
        '"Otter Tail County, MN"\t27111\t"Otter Tail County, MN"\t27111\n'
        '"Todd County, MN"\t27111\t"Otter Tail County, MN"\t27111\n'
    )
    _, names, edges = read_adjacency(path)
    assert names == {27111: "Otter Tail County, MN"} and edges == []
    assert "spelled more than one way" in caplog.text


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("St. Clair County", "saint clair"),
        ("St. Clair County", "st clair"),
        ("LaSalle County", "la salle"),
        ("De Kalb County", "dekalb"),
        ("McHenry County", "mchenry"),
        ("O Brien County", "o'brien"),
        ("Ste. Genevieve County", "sainte genevieve"),
        ("La Salle Parish", "la salle"),
    ],
)
def test_normalise_county_name(a: str, b: str) -> None:
    assert normalise_county_name(a) == normalise_county_name(b)


def test_normalise_keeps_city_distinct() -> None:
    assert normalise_county_name("St. Louis city") != normalise_county_name("St. Louis County")


def test_census_key() -> None:
    assert census_key("St. Clair County, IL") == ("IL", "stclair")


def test_map_loc_ids_name_variants() -> None:
    census = {
        17111: "McHenry County, IL",
        17109: "McDonough County, IL",
        17099: "La Salle County, IL",
        17037: "De Kalb County, IL",
        18033: "DeKalb County, IN",
        17163: "St. Clair County, IL",
        46113: "Shannon County, SD",
        18087: "LaGrange County, IN",
        29510: "St. Louis city, MO",
        29189: "St. Louis County, MO",
    }
    loc = pd.DataFrame(
        {
            "State": [
                "illinois",
                "illinois",
                "illinois",
                "illinois",
                "indiana",
                "illinois",
                "south dakota",
                "indiana",
                "missouri",
                "missouri",
                "illinois",
                "atlantis",
            ],
            "County": [
                "mchenry",
                "mcdonough",
                "lasalle",
                "de kalb",
                "de kalb",
                "st clair",
                "oglala lakota",
                "lagrange",
                "st. louis",
                "st. louis city",
                "nowhere",
                "adams",
            ],
            "ID_loc": np.arange(12),
        }
    )
    abbrev = {"illinois": "IL", "indiana": "IN", "south dakota": "SD", "missouri": "MO"}
    mapping, unmatched = map_loc_ids(loc, abbrev, census)
    assert mapping == {
        0: 17111,
        1: 17109,
        2: 17099,
        3: 17037,
        4: 18033,
        5: 17163,
        6: 46113,
        7: 18087,
        8: 29189,
        9: 29510,
    }
    assert unmatched == [10, 11]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_synthetic_crop(tmp_path_factory.mktemp("syn"), n_rows=3, n_cols=4, years=(2000, 2004))


def test_county_geometry_and_centroids(synthetic: dict[str, Path]) -> None:
    fips = [18003, 17001, 17003]
    gdf = county_geometry(synthetic["shp"], fips)
    assert gdf["FIPS"].tolist() == fips
    assert gdf.crs.to_epsg() == 4269
    lon, lat = centroids(gdf)
    assert lon.dtype == np.float64 and lat.shape == (3,)
    # squares of 0.5 degree: the equal-area centroid is within a few hundredths of a degree of the box centre
    bounds = gdf.geometry.bounds
    np.testing.assert_allclose(lon, (bounds.minx + bounds.maxx) / 2, atol=0.01)
    np.testing.assert_allclose(lat, (bounds.miny + bounds.maxy) / 2, atol=0.02)


def test_county_geometry_errors(synthetic: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(CropDataError, match="not in the file"):
        county_geometry(synthetic["shp"], [99999])
    for ext in ("shp", "shx", "dbf"):
        (tmp_path / f"c.{ext}").write_bytes(synthetic[ext].read_bytes())
    with pytest.raises(CropDataError, match=r"no coordinate reference system \(missing .prj") as err:
        county_geometry(tmp_path / "c.shp", [17001])
    assert str(tmp_path / "c.shp") in str(err.value)

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
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


def _with_prj(synthetic: dict[str, Path], dest: Path, epsg: int) -> Path:
    """A copy of the synthetic shapefile (degrees) whose .prj declares ``epsg`` instead of EPSG:4269."""
    dest.mkdir()
    for ext in ("shp", "shx", "dbf"):
        (dest / f"c.{ext}").write_bytes(synthetic[ext].read_bytes())
    (dest / "c.prj").write_text(pyproj.CRS(epsg).to_wkt("WKT1_ESRI"))
    return dest / "c.shp"


def test_county_geometry_records_its_source(synthetic: dict[str, Path]) -> None:
    gdf = county_geometry(synthetic["shp"], [17001])
    assert gdf.attrs["source"] == str(synthetic["shp"])


@pytest.mark.parametrize(
    ("epsg", "pattern"),
    [
        # degrees read as Albers metres: every county lands near the projection origin (-96, 23), south of CONUS
        (5070, r"3 of 3 points fall outside the area of use of CRS 'NAD83 / Conus Albers' \(lon -124.79..-66.91"),
        # UTM metres: near the equator, west of the zone
        (32616, r"outside the area of use of CRS 'WGS 84 / UTM zone 16N'"),
        # Web Mercator covers the world, but US counties must lie in NAD83's area
        (3857, r"outside the area of NAD83, where every US county lies .* e.g. FIPS 18003 at lon -0.00"),
    ],
)
def test_centroids_refuse_a_contradicting_prj(
    synthetic: dict[str, Path], tmp_path: Path, epsg: int, pattern: str
) -> None:
    shp = _with_prj(synthetic, tmp_path / "bad", epsg)
    gdf = county_geometry(shp, [18003, 17001, 17003])
    with pytest.raises(CropDataError, match=pattern) as err:
        centroids(gdf)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{shp} (county centroids): ")
    assert "the coordinates contradict the CRS declared in c.prj" in msg and "restore the shapefile's own .prj" in msg


def test_centroids_refuse_nan(synthetic: dict[str, Path], tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    # metres (EPSG:5070) under a .prj that says NAD83 degrees: the centroids come out NaN
    gdf = gpd.read_file(synthetic["shp"]).to_crs(5070).set_crs(4269, allow_override=True)
    gdf.to_file(tmp_path / "m.shp", engine="pyogrio")
    geom = county_geometry(tmp_path / "m.shp", [17001, 17003])
    with pytest.raises(CropDataError) as err:
        centroids(geom)
    assert str(err.value) == (
        f"{tmp_path / 'm.shp'} (county centroids): 2 of 2 points are not finite (e.g. FIPS 17001); the "
        f"coordinates contradict the CRS declared in m.prj (NAD83) - restore the shapefile's own .prj "
        f"(EPSG:4269 for the Census file) or re-fetch it"
    )
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]  # one error, no warning noise
    with pytest.raises(CropDataError, match=r"^elsewhere.shp \(county centroids\): .* in elsewhere.prj"):
        centroids(geom, source="elsewhere.shp")

"""NASS Quick Stats county yields from tiny files in the web export and bulk layouts."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from seqstruct.crop.rasters.grid import RasterDataError
from seqstruct.crop.rasters.nass import (
    QUICKSTATS_COLUMNS,
    YIELD_ITEMS,
    quickstats_url,
    read_quickstats_yields,
    write_quickstats_bulk,
    write_quickstats_csv,
)

CORN, SOY = YIELD_ITEMS["corn"], YIELD_ITEMS["soybean"]


def _row(state: int, county: int | None, year: int, item: str, value: str, **extra: object) -> dict[str, object]:
    return {
        "Program": "SURVEY", "Year": year, "Period": "YEAR", "Geo Level": "COUNTY", "State": "IOWA",
        "State ANSI": state, "County": "OTHER (COMBINED) COUNTIES" if county is None else "STORY",
        "County ANSI": "" if county is None else f"{county:03d}", "Commodity": item.split(",")[0].split(" ")[0],
        "Data Item": item, "Domain": "TOTAL", "Domain Category": "NOT SPECIFIED", "Value": value, **extra,
    }  # fmt: skip


def _rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _row(19, 169, 2020, CORN, "198.5"),
            _row(19, 169, 2021, CORN, "1,204.25"),  # thousands separator (not a real yield, but the format)
            _row(19, 169, 2020, SOY, "(D)"),  # suppressed
            _row(8, 1, 2020, SOY, "45"),  # Colorado: State ANSI "08"
            _row(19, 169, 2019, CORN, " (Z) "),
            _row(19, 169, 2018, CORN, "(NA)"),
            _row(19, None, 2020, CORN, "170.1"),  # OTHER (COMBINED) COUNTIES
            _row(19, 169, 2020, CORN, "150", Period="YEAR - AUG FORECAST"),  # not the annual final
            _row(19, 169, 2020, CORN, "150", Program="CENSUS"),
            _row(19, 169, 2020, CORN, "150", **{"Geo Level": "STATE"}),
            _row(19, 169, 2020, "CORN, GRAIN - PRODUCTION, MEASURED IN BU", "1,000"),
        ]
    )


EXPECTED = pd.DataFrame(
    {
        "fips": np.array([19169, 19169, 8001], dtype=np.int64),
        "year": np.array([2020, 2021, 2020], dtype=np.int64),
        "crop": ["corn", "corn", "soybean"],
        "yield": [198.5, 1204.25, 45.0],
    }
)


@pytest.mark.parametrize("writer", [write_quickstats_csv, write_quickstats_bulk])
def test_parse(tmp_path: Path, writer, caplog: pytest.LogCaptureFixture) -> None:
    name = "yields.csv" if writer is write_quickstats_csv else "qs.crops_20240101.txt.gz"
    path = writer(tmp_path / name, _rows())
    with caplog.at_level(logging.INFO, logger="seqstruct.crop.rasters.nass"):
        out = read_quickstats_yields(path)
    pd.testing.assert_frame_equal(out, EXPECTED)
    assert out["fips"].dtype == np.int64 and out["year"].dtype == np.int64 and out["yield"].dtype == np.float64
    assert "dropped 3 suppressed yields" in caplog.text and "1 (D)" in caplog.text and "1 (NA)" in caplog.text
    assert "dropped 1 OTHER (COMBINED) COUNTIES" in caplog.text
    only_soy = read_quickstats_yields(path, crops=("soybean",))
    assert only_soy["crop"].tolist() == ["soybean"]


def test_written_like_the_export(tmp_path: Path) -> None:
    path = write_quickstats_csv(tmp_path / "yields.csv", _rows().head(1))
    header, first = path.read_text().splitlines()[:2]
    assert header == ",".join(f'"{c}"' for c in QUICKSTATS_COLUMNS)
    assert first.startswith('"SURVEY","2020","YEAR","","COUNTY","IOWA","19",') and '"169"' in first


def test_duplicates(tmp_path: Path) -> None:
    rows = pd.concat([_rows(), pd.DataFrame([_row(19, 169, 2020, CORN, "201")])], ignore_index=True)
    path = write_quickstats_csv(tmp_path / "dup.csv", rows)
    message = r"repeat a county, year and crop \(first: fips 19169, 2020, corn\)"
    with pytest.raises(RasterDataError, match=message) as err:
        read_quickstats_yields(path)
    assert str(path) in str(err.value)


def test_missing_column(tmp_path: Path) -> None:
    path = write_quickstats_csv(tmp_path / "yields.csv", _rows())
    table = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["County ANSI"])
    table.to_csv(path, index=False)
    with pytest.raises(RasterDataError, match="lacks column\\(s\\) 'County ANSI'") as err:
        read_quickstats_yields(path)
    assert str(path) in str(err.value)


def test_bad_value_and_missing_file(tmp_path: Path) -> None:
    path = write_quickstats_csv(tmp_path / "yields.csv", pd.DataFrame([_row(19, 169, 2020, CORN, "12..5")]))
    with pytest.raises(RasterDataError, match="'12..5'"):
        read_quickstats_yields(path)
    with pytest.raises(RasterDataError, match="does not exist"):
        read_quickstats_yields(tmp_path / "none.csv")


def test_api_url() -> None:
    url = quickstats_url("soybean", (2000, 2019))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://quickstats.nass.usda.gov/api/api_GET/"
    assert parts.query.startswith("key=${NASS_API_KEY}&")
    query = parse_qs(parts.query)
    assert query["short_desc"] == [SOY] and query["commodity_desc"] == ["SOYBEANS"]
    assert query["source_desc"] == ["SURVEY"] and query["agg_level_desc"] == ["COUNTY"]
    assert query["statisticcat_desc"] == ["YIELD"] and query["format"] == ["CSV"]
    assert query["year__GE"] == ["2000"] and query["year__LE"] == ["2019"]
    with pytest.raises(ValueError, match="crops"):
        quickstats_url("wheat", (2000, 2001))

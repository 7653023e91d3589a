"""The sensitivity table, heat map and report over several crops (one panel per crop and test year)."""

from __future__ import annotations

from pathlib import Path

from seqstruct.crop.sensitivity_report import write_sensitivity


def test_two_crops_of_one_test_year(tmp_path: Path) -> None:
    runs = [
        {"crop": crop, "test_year": 2018, "method": "lasso 1y", "seed": 0,
         "sensitivity": [{"group": g, "baseline": 0.5, "increase_mean": inc, "n_permutations": 2}
                         for g, inc in (("soil", 0.1), ("weather_current", 0.2))]}
        for crop in ("corn", "soybean")
    ]  # fmt: skip
    table = write_sensitivity(runs, ["lasso 1y"], tmp_path / "s.csv", tmp_path / "s.png", tmp_path / "s.md")
    assert list(table["crop"]) == ["corn", "corn", "soybean", "soybean"] and "test year" not in table
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    report = (tmp_path / "s.md").read_text()
    assert "## corn, test year 2018" in report and "## soybean, test year 2018" in report

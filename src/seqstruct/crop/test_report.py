from pathlib import Path

import pandas as pd
import pytest

from seqstruct.crop.report import comparison_spec, render

THESIS = Path(__file__).resolve().parents[3] / "config/thesis/table2_1.csv"


def test_render_puts_run_beside_thesis() -> None:
    table = pd.DataFrame(
        [
            {
                "crop": "soybean",
                "test_year": 2017,
                "method": "gnn-rnn 5y",
                "rmse_mean": 0.5,
                "rmse_std": 0.01,
                "r2_mean": 0.7,
                "r2_std": 0.02,
                "corr_mean": 0.85,
                "corr_std": 0.01,
                "n_seeds": 3,
            },
            {
                "crop": "soybean",
                "test_year": 2017,
                "method": "lasso 1y",
                "rmse_mean": 0.6,
                "rmse_std": 0.0,
                "r2_mean": 0.6,
                "r2_std": 0.0,
                "corr_mean": 0.8,
                "corr_std": 0.0,
                "n_seeds": 1,
            },
        ]
    )
    thesis = pd.read_csv(THESIS)
    text = render(
        table,
        thesis,
        {"scale": "small", "seeds": [0, 1, 2]},
        "Table 2.1",
        spec=comparison_spec("table2_1", ["soybean"], [2017]),
    )
    assert "## soybean 2017, thesis soybean 2019" in text
    assert "| gnn-rnn 5y | 0.5000 ± 0.0100 | 0.7000 ± 0.0200 | 0.8500 ± 0.0100 | 3 | 0.4745 ± 0.0160" in text
    assert "| lasso 1y | 0.6000 | 0.6000 | 0.8000 | 1 (deterministic: std 0) | 0.5731 |" in text
    assert "thesis corn 2018: needs nationwide data" in text
    # thesis 2019 soybean: gnn-rnn 0.4745 < lasso 0.5731, as here: both ranks and the pair agree
    assert "| 1 / 1 | yes (1/1 pairs as in the thesis) |" in text
    assert "| 2 / 2 | yes (1/1 pairs as in the thesis) |" in text
    assert "1 of 1 method pairs ordered as in the thesis (Kendall's tau +1.00)" in text


def test_table_with_one_thesis_subtable_and_selections() -> None:
    table = pd.DataFrame(
        [
            {
                "crop": "soybean",
                "test_year": y,
                "method": m,
                "rmse_mean": r,
                "rmse_std": 0.01,
                "r2_mean": 0.5,
                "r2_std": 0.0,
                "corr_mean": 0.8,
                "corr_std": 0.0,
                "n_seeds": 3,
            }
            for y in (2018, 2017)
            for m, r in (("cnn 1y", 0.7), ("gnn-rnn 5y", 0.6))
        ]
    )
    thesis = pd.read_csv(THESIS.with_name("table2_2.csv"))
    selections = [
        {
            "method": "cnn_1y",
            "test_year": 2018,
            "seed": 0,
            "chosen": {"lr": 0.001},
            "points": [{"score": 0.51234}, {"score": 0.6}],
        },
        {"method": "gnn_rnn_5y", "test_year": 2018, "seed": 0, "chosen": {"lr": 0.01}, "points": []},
    ]
    text = render(
        table,
        thesis,
        {},
        "Table 2.2",
        spec=comparison_spec("table2_2", ["soybean"], [2018, 2017]),
        selections=selections,
    )
    assert "## soybean 2018, thesis corn 2018 (the thesis reports corn 2018 only)" in text
    assert "## soybean 2017, thesis corn 2018 (the thesis reports corn 2018 only)" in text
    assert "| cnn 1y | 0.7000 ± 0.0100 | 0.5000 ± 0.0000 | 0.8000 ± 0.0000 | 3 | 0.7253 |" in text
    assert "| cnn 1y | 2018 | 2 | lr=0.001 | 0.5123 |" in text
    assert "| gnn-rnn 5y | 2018 | 1 | lr=0.01 | – (one point: nothing to choose) |" in text
    assert "thesis corn 2018: needs nationwide data" in text


def test_masking_figure(tmp_path: Path) -> None:
    from seqstruct.crop.report import write_masking_figure

    runs = [
        {
            "test_year": 2018,
            "method": "gnn-rnn 5y",
            "seed": s,
            "early": {"weeks": [13, 22, 52], "rmse": [0.9, 0.7 + s / 10, 0.5]},
        }
        for s in range(2)
    ]
    write_masking_figure(runs, tmp_path / "m.png", early_week=22)
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    runs[1]["early"]["weeks"] = [13, 22, 51]
    with pytest.raises(ValueError, match="masked at different weeks"):
        write_masking_figure(runs, tmp_path / "n.png", early_week=22)


def test_bias_in_bu_per_acre_and_yearly_context(tmp_path: Path) -> None:
    from seqstruct.crop.conftest import tiny_prepared
    from seqstruct.crop.report import bias_bu_per_acre, yearly_mean_yield

    runs = [
        {"crop": "soybean", "test_year": 2003, "method": "gnn-rnn 5y", "seed": s, "y_std": 2.0, "test": {"bias": b}}
        for s, b in enumerate([-1.0, -2.0])
    ]
    bias = bias_bu_per_acre(runs)
    assert bias.to_dict("records") == [
        {"crop": "soybean", "test_year": 2003, "method": "gnn-rnn 5y", "bias_mean": -3.0, "bias_std": 1.0}
    ]
    ds = tiny_prepared()
    ds.to_netcdf(tmp_path / "tiny.nc", engine="h5netcdf")
    by_crop = yearly_mean_yield([tmp_path / "tiny.nc"])
    assert list(by_crop) == ["soybean"]
    yearly = by_crop["soybean"]
    assert yearly.index.tolist() == list(range(1990, 2004))
    assert abs(yearly[2003] - float(ds["yield"].sel(year=2003).mean(skipna=True))) < 1e-4
    table = pd.DataFrame(
        [
            {
                "crop": "soybean",
                "test_year": 2003,
                "method": "gnn-rnn 5y",
                "rmse_mean": 0.5,
                "rmse_std": 0.01,
                "r2_mean": 0.7,
                "r2_std": 0.02,
                "corr_mean": 0.85,
                "corr_std": 0.01,
                "n_seeds": 2,
            }
        ]
    )
    text = render(
        table,
        pd.read_csv(THESIS),
        {},
        "Table 2.1",
        spec=comparison_spec("table2_1", ["soybean"], [2003]),
        bias=bias,
        yearly=by_crop,
    )
    row = "| gnn-rnn 5y | 0.5000 ± 0.0100 | 0.7000 ± 0.0200 | 0.8500 ± 0.0100 | 2 | -3.00 | – | – | – | – | – |"
    assert row in text  # no thesis numbers for 2003
    assert f"Mean reported yield: {yearly[2003]:.1f} bu/acre in 2003" in text and "training years 1990-2001" in text

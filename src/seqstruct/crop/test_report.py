from pathlib import Path

import pandas as pd

from seqstruct.crop.report import render

THESIS = Path(__file__).resolve().parents[3] / "config/thesis/table2_1.csv"


def test_render_puts_run_beside_thesis() -> None:
    table = pd.DataFrame([
        {"crop": "soybean", "test_year": 2017, "method": "gnn-rnn 5y", "rmse_mean": 0.5, "rmse_std": 0.01,
         "r2_mean": 0.7, "r2_std": 0.02, "corr_mean": 0.85, "corr_std": 0.01, "n_seeds": 3},
        {"crop": "soybean", "test_year": 2017, "method": "lasso 1y", "rmse_mean": 0.6, "rmse_std": 0.0,
         "r2_mean": 0.6, "r2_std": 0.0, "corr_mean": 0.8, "corr_std": 0.0, "n_seeds": 1},
    ])
    thesis = pd.read_csv(THESIS)
    text = render(table, thesis, {"scale": "small", "seeds": [0, 1, 2]}, "Table 2.1")
    assert "## soybean 2017, thesis soybean 2019" in text
    assert "| gnn-rnn 5y | 0.5000 ± 0.0100 | 0.7000 ± 0.0200 | 0.8500 ± 0.0100 | 3 | 0.4745 ± 0.0160" in text
    assert "| lasso 1y | 0.6000 | 0.6000 | 0.8000 | 1 | 0.5731 |" in text
    assert "thesis corn 2018: not reproduced" in text


def test_bias_in_bu_per_acre_and_yearly_context(tmp_path: Path) -> None:
    from seqstruct.crop.conftest import tiny_prepared
    from seqstruct.crop.report import bias_bu_per_acre, yearly_mean_yield

    runs = [{"crop": "soybean", "test_year": 2003, "method": "gnn-rnn 5y", "seed": s, "y_std": 2.0,
             "test": {"bias": b}} for s, b in enumerate([-1.0, -2.0])]
    bias = bias_bu_per_acre(runs)
    assert bias.to_dict("records") == [{"crop": "soybean", "test_year": 2003, "method": "gnn-rnn 5y",
                                        "bias_mean": -3.0, "bias_std": 1.0}]
    ds = tiny_prepared()
    ds.to_netcdf(tmp_path / "tiny.nc", engine="h5netcdf")
    yearly = yearly_mean_yield(tmp_path / "tiny.nc")
    assert yearly.index.tolist() == list(range(1990, 2004))
    assert abs(yearly[2003] - float(ds["yield"].sel(year=2003).mean(skipna=True))) < 1e-4
    table = pd.DataFrame([{"crop": "soybean", "test_year": 2003, "method": "gnn-rnn 5y", "rmse_mean": 0.5,
                           "rmse_std": 0.01, "r2_mean": 0.7, "r2_std": 0.02, "corr_mean": 0.85, "corr_std": 0.01,
                           "n_seeds": 2}])
    text = render(table, pd.read_csv(THESIS), {}, "Table 2.1", bias=bias, yearly=yearly)
    row = "| gnn-rnn 5y | 0.5000 ± 0.0100 | 0.7000 ± 0.0200 | 0.8500 ± 0.0100 | 2 | -3.00 | – | – | – |"
    assert row in text  # no thesis numbers for 2003
    assert f"Mean reported yield: {yearly[2003]:.1f} bu/acre in 2003" in text and "training years 1990-2001" in text

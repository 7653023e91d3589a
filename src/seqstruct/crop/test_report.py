import pandas as pd

from seqstruct.crop.report import render


def test_render_puts_run_beside_thesis() -> None:
    table = pd.DataFrame([
        {"crop": "soybean", "test_year": 2017, "method": "gnn-rnn 5y", "rmse_mean": 0.5, "rmse_std": 0.01,
         "r2_mean": 0.7, "r2_std": 0.02, "corr_mean": 0.85, "corr_std": 0.01, "n_seeds": 3},
        {"crop": "soybean", "test_year": 2017, "method": "lasso 1y", "rmse_mean": 0.6, "rmse_std": 0.0,
         "r2_mean": 0.6, "r2_std": 0.0, "corr_mean": 0.8, "corr_std": 0.0, "n_seeds": 1},
    ])
    thesis = pd.read_csv("config/thesis/table2_1.csv")
    text = render(table, thesis, {"scale": "small", "seeds": [0, 1, 2]}, "Table 2.1")
    assert "## soybean 2017, thesis soybean 2019" in text
    assert "| gnn-rnn 5y | 0.5000 ± 0.0100 | 0.7000 ± 0.0200 | 0.8500 ± 0.0100 | 3 | 0.4745 ± 0.0160" in text
    assert "| lasso 1y | 0.6000 | 0.6000 | 0.8000 | 1 | 0.5731 |" in text
    assert "thesis corn 2018: not reproduced" in text

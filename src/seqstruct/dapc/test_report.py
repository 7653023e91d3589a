import numpy as np
import pandas as pd
import pytest

from seqstruct.dapc.report import GAIN, GAIN_R2, forecast_records, forecast_spec, pi_gains, render, table_records


def _run(method: str, seed: int, **test: float) -> dict:
    return {"method": method, "seed": seed, "test": test, "seconds": 3.0}


def test_table_records_rename_runs_to_rows_and_refuse_misalignment() -> None:
    out = table_records([_run("dapc", 0, r2=0.9)], ["DAPC-det"], [1.0])
    assert out[0]["method"] == "DAPC-det" and out[0]["run"] == "dapc" and out[0]["snr"] == 1.0
    with pytest.raises(ValueError, match="do not align"):
        table_records([_run("dapc", 0, r2=0.9)], [], [1.0])


def test_forecast_records_one_per_lag_in_series_then_lag_order() -> None:
    runs = [_run("fr", 0, r2_lag5=0.5, r2_lag10=0.4), _run("fr_pi", 0, r2_lag5=0.6, r2_lag10=0.45)]
    out = forecast_records(runs, ["FR", "FR+PI"], ["temp", "temp"])
    assert [(r["lag"], r["method"], r["test"]["r2"]) for r in out] == [
        (5, "FR", 0.5),
        (5, "FR+PI", 0.6),
        (10, "FR", 0.4),
        (10, "FR+PI", 0.45),
    ]
    assert out[0]["dataset"] == "temp" and out[0]["seconds"] == 1.5  # a run's time shared by its lags
    with pytest.raises(ValueError, match="has no forecasting R²"):
        forecast_records([_run("fr", 0, r2=0.5)], ["FR"], ["temp"])


def test_pi_gains_are_percent_of_the_mean_without_pi() -> None:
    table = pd.DataFrame(
        {
            "dataset": ["t"] * 4,
            "lag": [5, 5, 10, 10],
            "method": ["FR", "FR+PI", "FR", "FR+PI"],
            "r2_mean": [0.5, 0.55, 0.4, 0.3],
        }
    )
    gains = pi_gains(table, {"FR+PI": "FR"})
    assert gains[GAIN].isna().tolist() == [True, False, True, False] and gains[GAIN_R2].isna().sum() == 2
    assert gains[GAIN][1] == pytest.approx(10.0) and gains[GAIN][3] == pytest.approx(-25.0)
    assert gains[GAIN_R2][1] == pytest.approx(0.05) and gains[GAIN_R2][3] == pytest.approx(-0.1)


def test_forecast_report_maps_the_stand_ins_and_prints_the_gain() -> None:
    table = pd.DataFrame(
        {
            "dataset": ["temp", "temp"],
            "lag": [5, 5],
            "method": ["FR", "FR+PI"],
            "r2_mean": [0.5, 0.55],
            "r2_std": [0.01, 0.02],
            "n_seeds": [3, 3],
            GAIN_R2: [np.nan, 0.05],
            GAIN: [np.nan, 10.0],
        }
    )
    thesis = pd.DataFrame({"dataset": ["Temp", "Temp"], "lag": [5, 5], "method": ["FR", "FR+PI"], "r2": [0.721, 0.725]})
    meta = {"thesis": forecast_spec({"temp": "Temp"}, [5], per_series=True).to_json(), "series": {"temp": {}}}
    text = render(table, thesis, meta, "table3_5", runs=[])
    assert (
        "## temp, lag 5, thesis Temp, lag 5" in text
        and "+0.050 (+10.0%)" in text
        and "0.721" in text
        and "| FR+PI | 0.550 ± 0.020 |" in text
    )
    one = table.drop(columns=["dataset", GAIN, GAIN_R2])
    meta = {"thesis": forecast_spec({}, [5], per_series=False).to_json(), "series": {"temp": {}}}
    lag_thesis = pd.DataFrame({"lag": [5, 5], "method": ["FR", "FR+PI"], "r2": [0.7, 0.6]})
    assert "0.600" in render(one, lag_thesis, meta, "table3_6", runs=[])

import pandas as pd

from seqstruct.common.report import compare
from seqstruct.mlc.report import RUN_METRICS, comparison_spec, render, runs_summary


def _run(method: str, slug: str, seed: int, p_at_1: float, **extra: object) -> dict:
    test = {m: 0.5 for m in RUN_METRICS} | {"p_at_1": p_at_1}
    return {"method": method, "slug": slug, "dataset": "yeast", "seed": seed, "threshold": 0.3, "test": test,
            "test_at_half": test, "seconds": 2.0, **extra}  # fmt: skip


def test_runs_summary_has_one_row_per_run_in_order() -> None:
    runs = [_run("C-GMVAE", "cgmvae", s, (0.7, 0.8)[s], best_epoch=3 + s) for s in (0, 1)] + [_run("BR", "br", 0, 0.6)]
    df = runs_summary(runs)
    assert list(df.columns) == ["dataset", "method", "seed", "threshold", *RUN_METRICS, "best_epoch", "seconds"]
    assert list(zip(df["method"], df["seed"])) == [("C-GMVAE", 0), ("C-GMVAE", 1), ("BR", 0)]
    assert df["p_at_1"].tolist() == [0.7, 0.8, 0.6] and pd.isna(df.loc[2, "best_epoch"])


def test_table_2_10_compares_haram_with_the_row_the_thesis_prints_as_mlaram() -> None:
    spec = comparison_spec("table2_10")
    ours = pd.DataFrame(
        {
            "dataset": "yeast",
            "method": ["HARAM", "C-GMVAE"],
            "p_at_1_mean": [0.55, 0.77],
            "p_at_1_std": 0.0,
            "n_seeds": [1, 3],
        }
    )
    thesis = pd.DataFrame({"dataset": "yeast", "method": ["MLARAM", "C-GMVAE"], "p_at_1": [0.682, 0.751]})
    (yeast,) = compare(ours, thesis, spec)
    assert yeast.pairs == 1 and yeast.thesis.loc["HARAM", "p_at_1"] == 0.682
    assert comparison_spec("table2_8").method_map == {}  # Tables 2.8/2.9 print HARAM
    runs = [_run("HARAM", "haram", 0, 0.55), _run("C-GMVAE", "cgmvae", 0, 0.77)]
    text = render(ours, thesis, {"thesis": spec.to_json(), "seeds": [0]}, "Table 2.10", runs)
    assert "The thesis prints this table's HARAM row as MLARAM." in text

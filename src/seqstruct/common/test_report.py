from dataclasses import replace

import pandas as pd
import pytest

from seqstruct.common.report import (
    ComparisonSpec,
    _order_cells,
    compare,
    kendall_tau,
    ordering,
    render,
    selection_section,
    unreproduced_panels,
)


def test_ordering_counts_agreeing_pairs() -> None:
    ours = pd.Series({"a": 0.1, "b": 0.2, "c": 0.3, "only here": 0.0})
    theirs = pd.Series({"a": 0.5, "b": 0.3, "c": 0.9, "only thesis": 0.1})
    order = ordering(ours, theirs)
    assert list(order.index) == ["a", "b", "c"]  # shared methods only
    assert order["rank"].tolist() == [1, 2, 3] and order["thesis_rank"].tolist() == [2, 1, 3]
    assert order["pairs_agree"].tolist() == [1, 1, 2] and set(order["pairs"]) == {2}  # a-b swapped
    assert kendall_tau(order) == pytest.approx(1 / 3)  # 2 agreeing, 1 disagreeing of 3 pairs
    assert _order_cells(order, "a") == ["1 / 2", "no (1/2 pairs as in the thesis)"]
    assert _order_cells(order, "c") == ["3 / 3", "yes (2/2 pairs as in the thesis)"]
    assert _order_cells(order, "only here") == ["–", "–"]


def test_higher_is_better_ranks_the_highest_first() -> None:
    order = ordering(pd.Series({"a": 0.9, "b": 0.5}), pd.Series({"a": 0.6, "b": 0.7}), direction="higher")
    assert order["rank"].tolist() == [1, 2] and order["thesis_rank"].tolist() == [2, 1]
    assert kendall_tau(order) == -1.0
    with pytest.raises(ValueError, match="direction"):
        ordering(pd.Series({"a": 1.0}), pd.Series({"a": 1.0}), direction="none")


def _f1_table() -> tuple[pd.DataFrame, pd.DataFrame, ComparisonSpec]:
    ours = pd.DataFrame(
        [
            {"dataset": d, "method": m, "f1_mean": v, "f1_std": 0.01, "hl_mean": 0.1, "hl_std": 0.0, "n_seeds": 3}
            for d, rows in (("yeast", (("c-gmvae", 0.66), ("mpvae", 0.64))), ("toy", (("c-gmvae", 0.5),)))
            for m, v in rows
        ]
    )
    thesis = pd.DataFrame(
        [
            {"dataset": "yeast", "method": "c-gmvae", "f1": 0.656, "hl": 0.2},
            {"dataset": "yeast", "method": "mpvae", "f1": 0.648, "hl": 0.3},
            {"dataset": "birds", "method": "c-gmvae", "f1": 0.4, "hl": 0.1},
        ]
    )
    spec = ComparisonSpec(
        panel_keys=("dataset",), metrics={"f1": "higher", "hl": "lower"}, headline="f1", labels={"f1": "ex-F1"}
    )
    return ours, thesis, spec


def test_any_table_is_compared_by_its_keys_and_directions() -> None:
    ours, thesis, spec = _f1_table()
    yeast, toy = compare(ours, thesis, spec)
    assert yeast.panel == ("yeast",) and yeast.best_here == "c-gmvae" == yeast.best_thesis
    assert (yeast.pairs_agree, yeast.pairs, yeast.tau) == (1, 1, 1.0)
    assert toy.best_thesis == "–" and toy.pairs == 0  # the thesis has no toy panel
    assert unreproduced_panels(thesis, spec, [yeast.panel, toy.panel]) == [("birds",)]
    text = render(ours, thesis, spec, "Table X", "Intro.", unreproduced=lambda p: f"- thesis {p[0]}: missing")
    assert "| method | ex-F1 | hl | seeds | thesis ex-F1 | thesis hl | ex-F1 rank here / thesis |" in text
    assert "| c-gmvae | 0.66 ± 0.01 | 0.1 ± 0 | 3 | 0.656 | 0.2 | 1 / 1 | yes (1/1 pairs" in text
    assert "Highest ex-F1 here: **c-gmvae**" in text and text.rstrip().endswith("- thesis birds: missing")


def test_method_map_compares_a_thesis_row_printed_under_another_name() -> None:
    ours, thesis, spec = _f1_table()
    thesis["method"] = thesis["method"].replace({"mpvae": "MP-VAE"})
    (alone, *_) = compare(ours, thesis, spec)
    assert alone.pairs == 0  # the thesis' MP-VAE is not our mpvae ...
    (mapped, *_) = compare(ours, thesis, replace(spec, method_map={"MP-VAE": "mpvae"}))
    assert (mapped.pairs, mapped.thesis.loc["mpvae", "f1"]) == (1, 0.648)  # ... unless mapped


def test_spec_survives_json_and_checks_its_headline() -> None:
    spec = ComparisonSpec(
        panel_keys=("crop", "test_year"),
        metrics={"rmse": "lower"},
        headline="rmse",
        panel_map={("soybean", 2017): ("soybean", 2019)},
        method_map={"GNN": "GNN-RNN"},
        thesis_only=None,
        decimals=4,
    )
    assert ComparisonSpec.from_json(spec.to_json()) == spec
    assert spec.thesis_panel(("soybean", 2017)) == ("soybean", 2019) and spec.number(0.5) == "0.5000"
    with pytest.raises(ValueError, match="not one of the metrics"):
        ComparisonSpec(panel_keys=(), metrics={"rmse": "lower"}, headline="r2")
    with pytest.raises(ValueError, match="needs a direction"):
        ComparisonSpec(panel_keys=(), metrics={"n": "none"}, headline="n")


def test_selection_section_lists_every_choice() -> None:
    text = selection_section(
        [
            {
                "method": "m",
                "split": "yeast",
                "seed": 0,
                "chosen": {"lr": 0.1},
                "points": [{"score": 0.25}, {"score": 0.5}],
            }
        ],
        "split",
        "dataset",
        "F1",
        "on validation.",
        decimals=None,
    )
    assert "| m | yeast | 2 | lr=0.1 | 0.25 |" in text and "## Settings chosen on validation" in text


def test_key_names_name_the_panel_in_headings_and_round_trip() -> None:
    spec = ComparisonSpec(("snr", "lag"), {"r2": "higher"}, "r2", key_names={"snr": "SNR {}"})
    assert spec.words((0.3, 5)) == "SNR 0.3, 5"
    assert ComparisonSpec.from_json(spec.to_json()) == spec
    assert ComparisonSpec(("crop", "test_year"), {"r2": "higher"}, "r2").words(("soybean", 2017)) == "soybean 2017"

from pathlib import Path

import pandas as pd
import pytest
import yaml

from seqstruct.common.errors import InputError
from seqstruct.common.io import write_json
from seqstruct.common.report import ComparisonSpec
from seqstruct.common.scoreboard import NEEDS, REPRODUCED, STAND_IN, TODO, load_index, render_scoreboard, status

REPO = Path(__file__).resolve().parents[3]
ENTRY = {
    "title": "T",
    "chapter": "9.9",
    "domain": "toy",
    "keys": ["dataset", "method"],
    "metrics": {"f1": "higher"},
    "headline": "f1",
    "needs": None,
}


def _index(tmp_path: Path) -> Path:
    index = {
        "tables": {
            "table9_1": {**ENTRY, "thesis_datasets": ["yeast_mulan"]},
            "table9_2": {**ENTRY, "needs": "eBird (not public)"},
            "table9_3": ENTRY,
        }
    }
    (tmp_path / "index.yaml").write_text(yaml.safe_dump(index, sort_keys=False))
    pd.DataFrame({"dataset": ["yeast"] * 2, "method": ["a", "b"], "f1": [0.6, 0.5]}).to_csv(
        tmp_path / "table9_1.csv", index=False
    )
    return tmp_path / "index.yaml"


def _produce(tmp_path: Path, datasets: dict, source: str = "real") -> Path:
    out = tmp_path / "results" / "table9_1.csv"
    out.parent.mkdir(exist_ok=True)
    pd.DataFrame(
        {
            "dataset": ["yeast"] * 2,
            "method": ["a", "b"],
            "f1_mean": [0.55, 0.58],
            "f1_std": [0.0, 0.01],
            "n_seeds": [1, 3],
        }
    ).to_csv(out, index=False)
    spec = ComparisonSpec(panel_keys=("dataset",), metrics={"f1": "higher"}, headline="f1", labels={"f1": "F1"})
    write_json(out.with_suffix(".meta.json"), {"source": source, "datasets": datasets, "thesis": spec.to_json()})
    return out


def test_status_of_each_kind() -> None:
    assert status(ENTRY, None) == (TODO, "")
    per_crop = {"datasets": {"khaki": {}}, "source": "real", "crop_data": {"soybean": "khaki", "corn": "not run"}}
    assert status(ENTRY, per_crop) == (STAND_IN, "khaki; soybean: khaki, corn: not run")  # each crop's data
    assert status({**ENTRY, "needs": "MUG"}, None) == (NEEDS, "MUG")
    assert status({**ENTRY, "thesis_datasets": ["y"]}, {"datasets": {"y": {}}, "source": "real"}) == (REPRODUCED, "y")
    assert status(ENTRY, {"datasets": {"khaki": {}}, "source": "real"}) == (STAND_IN, "khaki")
    assert status(ENTRY, {"datasets": {"synthetic_toy": {}}, "source": "synthetic"}) == (
        STAND_IN,
        "synthetic toy data (synthetic_toy)",
    )
    generated = {"datasets": {}, "source": "generated", "generator": "noisy Lorenz"}
    assert status(ENTRY, generated) == (REPRODUCED, "generated: noisy Lorenz")


def test_scoreboard_lists_every_table_and_compares_the_produced_ones(tmp_path: Path) -> None:
    index = _index(tmp_path)
    text = render_scoreboard(load_index(index), tmp_path, [_produce(tmp_path, {"yeast_mulan": {}})])
    rows = [line for line in text.splitlines() if line.startswith("| [Table") or line.startswith("| Table")]
    assert len(rows) == 3
    assert rows[0].startswith("| [Table 9.1](table9_1.md) | 9.9 | T | reproduced on the thesis' data: yeast_mulan |")
    assert "F1: yeast: b (0.58) / a, 0/1 pairs as in the thesis (tau -1.00)" in rows[0]
    assert "| needs data: eBird (not public) |" in rows[1] and "| not implemented yet | – |" in rows[2]
    assert "1 reproduced on the thesis' data, 1 needs data, 1 not implemented yet" in text
    stand_in = render_scoreboard(load_index(index), tmp_path, [_produce(tmp_path, {"other": {}})])
    assert "reproduced on stand-in data: other" in stand_in
    old = _produce(tmp_path, {"other": {}})
    write_json(old.with_suffix(".meta.json"), {"source": "real", "datasets": {"other": {}}})  # no comparison spec
    assert "predates the comparison spec: rebuild the table" in render_scoreboard(load_index(index), tmp_path, [old])
    with pytest.raises(InputError, match="not in the thesis index"):
        render_scoreboard(load_index(index), tmp_path, [tmp_path / "table1_1.csv"])


def test_the_real_index_loads_all_33_tables() -> None:
    index = load_index(REPO / "config/thesis/index.yaml")
    assert len(index) == 33
    text = render_scoreboard(index, REPO / "config/thesis", [])
    assert text.count("\n| Table ") == 33 and "reproduced" not in text.split("|---|")[1]

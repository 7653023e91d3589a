"""The thesis' published numbers (config/thesis/): index.yaml describes 33 tidy CSVs, one per thesis table."""

import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
THESIS_DIR = ROOT / "config" / "thesis"
THESIS_TXT = ROOT.parent / "shared" / "reference" / "thesis.txt"  # the transcription source, where present
EXPECTED = [f"table2_{i}" for i in range(1, 15)] + [f"table3_{i}" for i in range(1, 20)]
DOMAINS = {"crop": "2.1", "dos": "2.2", "mlc": "2.3", "dapc": "3.1", "cdsvae": "3.2", "asr": "3.3"}
FIELDS = {"title", "chapter", "domain", "keys", "metrics", "headline", "printed", "row_keys", "data", "needs"}


@cache
def _index():
    return yaml.safe_load((THESIS_DIR / "index.yaml").read_text(encoding="utf-8"))["tables"]


def index():
    return _index()


def table(tid, **kw):
    return pd.read_csv(THESIS_DIR / f"{tid}.csv", **kw)


def test_index_lists_every_table_in_thesis_order():
    assert list(index()) == EXPECTED
    assert len(EXPECTED) == 33


@pytest.mark.parametrize("tid", EXPECTED)
def test_entry_schema(tid):
    e = index()[tid]
    assert set(e) - {"thesis_datasets"} == FIELDS  # thesis_datasets: the registry ids that are the thesis' own data
    assert all(isinstance(d, str) for d in e.get("thesis_datasets", []))
    assert isinstance(e["title"], str) and e["title"]
    assert isinstance(e["data"], str) and e["data"]
    assert e["needs"] is None or (isinstance(e["needs"], str) and e["needs"])
    assert e["domain"] in DOMAINS and e["chapter"] == DOMAINS[e["domain"]]
    assert tid.startswith(f"table{e['chapter'][0]}_")
    assert set(e["metrics"].values()) <= {"lower", "higher", "none"}
    assert e["headline"] in e["metrics"]
    assert e["row_keys"] and set(e["row_keys"]) <= set(e["keys"])
    assert set(e["printed"]) == {"rows", "cols"} and all(isinstance(v, int) and v > 0 for v in e["printed"].values())


@pytest.mark.parametrize("tid", EXPECTED)
def test_csv_columns_keys_and_values(tid):
    e = index()[tid]
    df = table(tid)
    keys, metrics = e["keys"], list(e["metrics"])
    cols = list(df.columns)
    assert cols[: len(keys) + len(metrics)] == keys + metrics
    stds = cols[len(keys) + len(metrics) :]
    assert all(c.endswith("_std") and c[:-4] in metrics for c in stds), stds
    assert len(set(stds)) == len(stds)
    assert len(df) > 0
    assert not df[keys].isna().any().any(), "empty key cell"
    assert not df.duplicated(keys).any(), "duplicate key tuple"
    for c in metrics + stds:
        assert pd.api.types.is_numeric_dtype(df[c]) or df[c].isna().all(), c
    assert df[metrics].notna().any().all(), "a metric column without any value"


@pytest.mark.parametrize("tid", EXPECTED)
def test_printed_shape(tid):
    e = index()[tid]
    df = table(tid)
    other = [k for k in e["keys"] if k not in e["row_keys"]]
    assert df[e["row_keys"]].drop_duplicates().shape[0] == e["printed"]["rows"]
    cols = set()
    for m in e["metrics"]:
        filled = df[df[m].notna()]
        cols |= (
            {(tuple(r), m) for r in filled[other].itertuples(index=False)}
            if other
            else ({((), m)} if len(filled) else set())
        )
    assert len(cols) == e["printed"]["cols"]


def test_needs_where_data_is_missing():
    e = index()
    assert e["table2_1"]["needs"] is None and "corn" in e["table2_2"]["needs"]
    for tid in [
        "table2_3",
        "table2_5",
        "table2_7",
        "table3_1",
        "table3_2",
        "table3_3",
        "table3_4",
        "table3_5",
        "table3_6",
        "table3_9",
        "table3_11",
        "table3_14",
        "table3_16",
    ]:
        assert e[tid]["needs"] is None, tid
    for tid, word in [
        ("table2_4", "eDoS"),
        ("table2_6", "eDoS"),
        ("table2_8", "eBird"),
        ("table2_12", "eBird"),
        ("table3_7", "WSJ"),
        ("table3_8", "LibriSpeech"),
        ("table3_10", "MUG"),
        ("table3_12", "TIMIT"),
        ("table3_13", "MUG"),
        ("table3_15", "TIMIT"),
        ("table3_17", "TIMIT"),
        ("table3_18", "MLS"),
        ("table3_19", "MLS"),
    ]:
        assert word in e[tid]["needs"], tid


def value(tid, metric, **keys):
    df = table(tid, keep_default_na=False, dtype=str)
    for k, v in keys.items():
        df = df[df[k] == str(v)]
    assert len(df) == 1, (tid, keys)
    return df[metric].iloc[0]


@pytest.mark.parametrize(
    "tid, metric, keys, expected",
    [
        # checked by eye against the thesis text
        ("table2_1", "rmse", dict(crop="soybean", test_year=2019, method="gnn-rnn 5y"), "0.4745"),
        ("table2_1", "corr_std", dict(crop="corn", test_year=2018, method="gnn 1y"), "0.0019"),
        ("table2_2", "r2", dict(method="gnn-rnn 5y"), "0.6591"),
        ("table2_3", "wd", dict(space="original", method="E3NN"), ""),
        ("table2_4", "mse", dict(space="original", method="Mat2Spec"), "76.624"),
        ("table2_5", "r2", dict(space="normalized", method="Chunk RNN+Attn"), "0.693"),
        ("table2_7", "seconds_per_epoch", dict(method="Xtal2DoS"), "11"),
        ("table2_8", "ex_f1", dict(dataset="eBird", method="C-GMVAE"), "0.576"),
        ("table2_8", "mi_f1_std", dict(dataset="sider", method="C-GMVAE"), "0.000"),
        ("table2_8", "ex_f1", dict(dataset="reuters", method="LaMP"), "0.906"),
        ("table2_8", "mi_f1", dict(dataset="bookmarks", method="RBCC"), ""),
        ("table2_9", "ha", dict(dataset="eBird", method="C-GMVAE"), "0.847"),
        ("table2_10", "p_at_1", dict(dataset="bookmarks", method="C-GMVAE"), "0.465"),
        ("table2_11", "n_samples", dict(dataset="eBird"), "41778"),
        ("table2_13", "mi_f1", dict(method="C-GMVAE", data_pct=50), "0.615"),
        ("table3_1", "r2", dict(snr="0.3", method="DAPC-det"), "0.865"),
        ("table3_1", "r2", dict(snr="1.0", method="DAPC-prob"), "0.943"),
        ("table3_5", "r2", dict(dataset="M1", lag=5, method="MR+PI"), "0.519"),
        ("table3_7", "wer", dict(finetune_hours=81, split="eval92", method="DAPC + both"), "3.48"),
        ("table3_7", "wer_std", dict(finetune_hours=15, split="dev93", method="w.o. pretrain"), "0.36"),
        ("table3_8", "wer", dict(split="test_clean", method="DAPC+multi-scale PI+shifted recon"), "4.70"),
        ("table3_9", "acc", dict(method="C-DSVAE"), "99.99"),
        ("table3_12", "motion_eer", dict(method="C-DSVAE"), "31.81"),
        ("table3_16", "acc", dict(method="C-DSVAE w/o content aug"), "92.02"),
        ("table3_18", "wer", dict(method="JUST (L) + pure Finetune (L_s)", language="Avg"), "6.5"),
        ("table3_18", "wer", dict(method="XLSR-53", language="en"), ""),
        ("table3_19", "wer", dict(method="JUST (β = 0.03)", language="pl"), "8.7"),
    ],
)
def test_spot_checks(tid, metric, keys, expected):
    assert value(tid, metric, **keys) == expected


@cache
def _thesis_text():
    return THESIS_TXT.read_text(encoding="utf-8")


@pytest.mark.skipif(not THESIS_TXT.exists(), reason="thesis text not present")
@pytest.mark.parametrize("tid", EXPECTED)
def test_every_value_is_printed_in_the_thesis(tid):
    """Each stored number appears, digit for digit, in the thesis text (guards against typos)."""
    text = _thesis_text()
    e = index()[tid]
    df = table(tid, keep_default_na=False, dtype=str)
    values = {v for c in df.columns if c not in e["keys"] for v in df[c] if v != ""}
    missing = [v for v in values if not re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])", text)]
    assert not missing, missing

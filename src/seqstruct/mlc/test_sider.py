import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from rdkit import Chem, rdBase
from rdkit.Chem import rdFingerprintGenerator

from seqstruct.common.errors import InputError
from seqstruct.mlc.prepare import MlcDataError, load_prepared, main
from seqstruct.mlc.sider import morgan_fingerprints, prepare_sider, read_sider

SIDER_CSV = Path(os.environ.get("SEQSTRUCT_DATA_MIRROR", "/work/shared/data")) / "mlc" / "sider" / "sider.csv"

TINY = """smiles,Hepatobiliary disorders,"Neoplasms benign, malignant"
CCO,1,0
C1CC,0,1
c1ccccc1,1,1
CC(=O)O,0,0
CCN(CC)CC,1,0
O=C=O,0,1
"""


def _csv(tmp_path: Path, text: str, name: str = "sider.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_sider_rows_and_quoted_label_names(tmp_path: Path) -> None:
    table = read_sider(_csv(tmp_path, TINY))
    assert table.label_names == ("Hepatobiliary disorders", "Neoplasms benign, malignant")
    assert table.smiles[:2] == ["CCO", "C1CC"] and table.rows.tolist() == [2, 3, 4, 5, 6, 7]
    assert table.labels.dtype == np.uint8 and table.labels.tolist()[2] == [1, 1]


def test_fingerprints_are_sparse_bits_equal_to_rdkit(capfd: pytest.CaptureFixture[str]) -> None:
    before = rdBase.LogStatus()
    x, kept = morgan_fingerprints(["CCO", "C1CC", "c1ccccc1"], radius=1, n_bits=64, rows=[2, 3, 4])
    assert sp.isspmatrix_csr(x) and x.dtype == np.float32 and x.shape == (2, 64) and kept.tolist() == [0, 2]
    assert set(np.unique(x.toarray())) <= {0.0, 1.0}
    ref = rdFingerprintGenerator.GetMorganGenerator(radius=1, fpSize=64).GetFingerprintAsNumPy(
        Chem.MolFromSmiles("CCO")
    )
    np.testing.assert_array_equal(x[0].toarray().ravel(), ref)
    assert "SMILES Parse Error" not in capfd.readouterr().err and rdBase.LogStatus() == before


def test_prepare_sider_drops_a_bad_smiles_and_records_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="seqstruct.mlc.sider"):
        prepared = prepare_sider(_csv(tmp_path, TINY), "toy_sider", tmp_path / "out", seed=0, n_bits=128)
    warnings = [r.getMessage() for r in caplog.records]
    assert any("sider.csv, row 3" in w and "'C1CC'" in w for w in warnings)
    assert any("dropped 1 of 6 rows" in w for w in warnings)
    back = load_prepared(tmp_path / "out")
    assert back.features.shape == (5, 128) and back.labels.shape == (5, 2) and sp.issparse(back.features)
    assert back.info["n_dropped"] == 1 and back.info["dropped_rows"] == [3] and back.info["n_rows_read"] == 6
    assert back.info["featurizer"]["radius"] == 2 and back.info["featurizer"]["n_bits"] == 128
    np.testing.assert_array_equal(back.labels, [[1, 0], [1, 1], [0, 0], [1, 0], [0, 1]])
    assert prepared.info == back.info


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("smiles,a,b\nCCO,1,2\n", r"sider\.csv, row 2, column 'b': label value '2' is not 0 or 1"),
        ("smiles,a,b\nCCO,1,0\nCC,1\n", r"sider\.csv, row 3: 2 fields, the header has 3 \(column 'b' is missing\)"),
        ("smiles,a,b\nCCO,,0\n", r"row 2, column 'a': label value '' is not 0 or 1"),
        ("name,a\nCCO,1\n", r"sider\.csv, row 1: the header must be 'smiles'"),
        ("smiles,a\n", "no molecule rows"),
        ("smiles,a\nC1CC,1\nxyz,0\n", "RDKit cannot parse any of the 2 SMILES"),
    ],
)
def test_bad_csv_fails_in_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, match: str
) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(MlcDataError, match=match) as info:
        prepare_sider(path, "s", tmp_path / "out", seed=0)
    assert "\n" not in str(info.value) and isinstance(info.value, InputError) and not (tmp_path / "out").exists()
    assert main(["--format", "sider", "--csv", str(path), "--dataset", "s", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}") and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_real_sider(tmp_path: Path) -> None:
    if not SIDER_CSV.is_file():
        pytest.skip(f"real sider.csv not found at {SIDER_CSV} (set SEQSTRUCT_DATA_MIRROR)")
    start = time.perf_counter()
    prepared = prepare_sider(SIDER_CSV, "sider", tmp_path / "sider", seed=0)
    print(f"prepare_sider: {time.perf_counter() - start:.2f} s")
    assert prepared.features.shape == (1427, 2048) and prepared.labels.shape == (1427, 27)
    assert prepared.info["n_dropped"] == 0 and prepared.info["sizes"] == {"train": 1141, "val": 143, "test": 143}
    assert round(prepared.info["statistics"]["mean_labels_per_sample"], 2) == 15.32
    assert prepared.features.getnnz(axis=1).min() > 0

import gzip
import lzma
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from seqstruct.common.errors import InputError
from seqstruct.mlc.arff import ArffError, MultiLabelData, read_arff, read_label_names, read_mulan

MLC_MIRROR = Path(os.environ.get("SEQSTRUCT_DATA_MIRROR", "/work/shared/data")) / "mlc"

XML = """<?xml version="1.0" encoding="utf-8"?>
<labels xmlns="http://mulan.sourceforge.net/labels">
<label name="Swainson\\'s Thrush"></label>
<label name="b"></label>
</labels>
"""

DENSE = """% a comment
@relation 'my relation'

@attribute x1 numeric
@attribute "x 2" REAL
@attribute x3 integer
@attribute colour {red,'dark blue',green}
@attribute 'Swainson\\'s Thrush' {0,1}
@attribute b numeric

@data
% another comment
1.5,-2,3,green,1,0
0,0,0,red,0,1.0

2.5,1e-3,7,'dark blue',1,1
"""

SPARSE = """@relation sparse
@attribute f0 {0,1}
@attribute f1 numeric
@attribute f2 numeric
@attribute 'Swainson\\'s Thrush' {0,1}
@attribute b {0,1}
@data
{0 1,2 4.5,3 1}
{}
{1 2,4 1}
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _xml(tmp_path: Path, text: str = XML) -> Path:
    return _write(tmp_path / "ds.xml", text)


def _error(path: Path, func, *args) -> str:
    """The one-line ArffError message of ``func(*args)``; it must name ``path``."""
    with pytest.raises(ArffError) as err:
        func(*args)
    msg = str(err.value)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


def _arff_error(tmp_path: Path, text: str, labels: tuple[str, ...] = ("Swainson's Thrush", "b")) -> str:
    path = _write(tmp_path / "bad.arff", text)
    return _error(path, read_arff, path, list(labels))


# ---------------------------------------------------------------- label XML


def test_read_label_names_unescapes_and_ignores_namespace(tmp_path: Path) -> None:
    assert read_label_names(_xml(tmp_path)) == ["Swainson's Thrush", "b"]
    plain = _write(tmp_path / "plain.xml", '<labels><label name="x"><label name="TAG_dise\\~no"/></label></labels>')
    assert read_label_names(plain) == ["x", "TAG_dise~no"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<labels><label name='a'>", "not valid XML"),
        ("<labels></labels>", "no <label name=...> entries"),
        ("<labels><label name='a'/><label name='a'/></labels>", "listed twice"),
        ("<labels><label/></labels>", "has no name attribute"),
    ],
)
def test_read_label_names_bad_xml(tmp_path: Path, text: str, expected: str) -> None:
    path = _xml(tmp_path, text)
    assert expected in _error(path, read_label_names, path)


def test_read_label_names_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "none.xml"
    assert "not found" in _error(path, read_label_names, path)


# ---------------------------------------------------------------- ARFF content


def test_read_arff_dense(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.arff", DENSE)
    data = read_arff(path, read_label_names(_xml(tmp_path)))
    assert isinstance(data, MultiLabelData)
    assert isinstance(data.features, np.ndarray) and data.features.dtype == np.float32
    assert_array_equal(data.features, np.array([[1.5, -2, 3, 2], [0, 0, 0, 0], [2.5, 1e-3, 7, 1]], np.float32))
    assert data.labels.dtype == np.uint8
    assert_array_equal(data.labels, [[1, 0], [0, 1], [1, 1]])
    assert data.feature_names == ("x1", "x 2", "x3", "colour")
    assert data.label_names == ("Swainson's Thrush", "b")
    assert data.source == str(path)
    assert (data.n_samples, data.n_features, data.n_labels) == (3, 4, 2)
    assert data.cardinality == pytest.approx(4 / 3)


def test_read_arff_sparse_is_csr(tmp_path: Path) -> None:
    data = read_arff(_write(tmp_path / "s.arff", SPARSE), ["Swainson's Thrush", "b"])
    assert sp.issparse(data.features) and data.features.format == "csr" and data.features.dtype == np.float32
    assert_array_equal(data.features.toarray(), [[1, 0, 4.5], [0, 0, 0], [0, 2, 0]])
    assert_array_equal(data.labels, [[1, 0], [0, 0], [0, 1]])


def test_label_order_follows_the_file(tmp_path: Path) -> None:
    """Yeast's and enron's XML list the labels in another order than the ARFF; the columns keep the file's."""
    data = read_arff(_write(tmp_path / "d.arff", DENSE), ["b", "Swainson's Thrush"])
    assert data.label_names == ("Swainson's Thrush", "b")
    assert_array_equal(data.labels[:, 1], [0, 1, 1])


@pytest.mark.parametrize("suffix", [".arff.xz", ".arff.gz"])
def test_compressed_and_latin1(tmp_path: Path, suffix: str) -> None:
    raw = DENSE.replace("colour", "coul\xe9ur").encode("latin-1")
    path = tmp_path / f"d{suffix}"
    path.write_bytes(lzma.compress(raw) if suffix.endswith("xz") else gzip.compress(raw))
    data = read_arff(path, ["Swainson's Thrush", "b"])
    assert data.feature_names[-1] == "coul\xe9ur"
    assert data.labels.shape == (3, 2)


def test_read_mulan(tmp_path: Path) -> None:
    xml = _xml(tmp_path)
    train, test = read_mulan(_write(tmp_path / "tr.arff", DENSE), _write(tmp_path / "te.arff", DENSE), xml)
    assert train.feature_names == test.feature_names and train.label_names == test.label_names
    assert train.source.endswith("tr.arff") and test.source.endswith("te.arff")


def test_read_mulan_attribute_mismatch(tmp_path: Path) -> None:
    train = _write(tmp_path / "tr.arff", DENSE)
    test = _write(tmp_path / "te.arff", DENSE.replace("{red,'dark blue',green}", "{red,green,'dark blue'}"))
    msg = _error(test, read_mulan, train, test, _xml(tmp_path))
    assert "attribute 4 is 'colour'" in msg and str(train) in msg
    fewer = _write(tmp_path / "few.arff", SPARSE)
    assert "declares 5 attributes" in _error(fewer, read_mulan, train, fewer, _xml(tmp_path))


# ---------------------------------------------------------------- bad input


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    missing = tmp_path / "none.arff"
    assert "not found" in _error(missing, read_arff, missing, ["b"])
    xz = tmp_path / "t.arff.xz"
    xz.write_bytes(lzma.compress(DENSE.encode())[:-20])
    assert "truncated or corrupt .xz" in _error(xz, read_arff, xz, ["b"])
    garbage = tmp_path / "g.arff.xz"
    garbage.write_bytes(b"not xz at all")
    assert "re-fetch" in _error(garbage, read_arff, garbage, ["b"])
    gz = tmp_path / "t.arff.gz"
    gz.write_bytes(gzip.compress(DENSE.encode())[:-12])
    assert "truncated or corrupt .gz" in _error(gz, read_arff, gz, ["b"])


def test_label_names_do_not_match(tmp_path: Path) -> None:
    msg = _arff_error(tmp_path, DENSE, ("Swainson's Thrush", "c"))
    assert "attribute 6 'b' is not an XML label" in msg
    assert "label 'c' is not an attribute" in msg and "ARFF has 6 attributes, XML names 2 labels" in msg
    msg = _arff_error(tmp_path, DENSE, ("x1", "b"))
    assert "label 'x1' is attribute 1" in msg
    assert "leaves no feature" in _arff_error(tmp_path, DENSE, tuple("abcdefg"))
    assert "no label names given" in _arff_error(tmp_path, DENSE, ())
    assert "repeat" in _arff_error(tmp_path, DENSE, ("b", "b"))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("1.5,-2,3,green,1,0", "1.5,-2,3,green,2,0", """label "Swainson's Thrush" has value '2'"""),
        ("0,0,0,red,0,1.0", "0,0,0,red,0,0.5", "label 'b' has value '0.5'"),
        ("1.5,-2,3,green,1,0", "1.5,-2,3,green,1", "5 values but 6 attributes"),
        ("1.5,-2,3,green,1,0", "1.5,-2,3,purple,1,0", "value 'purple' of nominal attribute 'colour'"),
        ("1.5,-2,3,green,1,0", "1.5,?,3,green,1,0", "missing value for attribute 'x 2'"),
        ("1.5,-2,3,green,1,0", "1.5,abc,3,green,1,0", "'abc' of numeric attribute 'x 2' is not a number"),
        ("1.5,-2,3,green,1,0", "nan,-2,3,green,1,0", "'x1' is not finite"),
        ("1.5,-2,3,green,1,0", "1.5,-2,3,'green,1,0", "unclosed ' quote"),
        ("@attribute x3 integer", "@attribute x3 string", "type 'string' is not supported"),
        ("@attribute x3 integer", "@attribute x1 integer", "'x1' is declared twice"),
        ("@attribute b numeric", "@attribute b {no,yes}", "declared {no,yes}"),
        ("@attribute x3 integer", "@attribute x3 {a,b", "not closed with '}'"),
        ("@relation", "@relashun", "unexpected header line"),
        ("@data", "@dta", "unexpected header line"),
    ],
)
def test_bad_dense_file(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in DENSE
    assert expected in _arff_error(tmp_path, DENSE.replace(old, new, 1))


def test_bad_row_names_line_and_row(tmp_path: Path) -> None:
    msg = _arff_error(tmp_path, DENSE.replace("2.5,1e-3,7", "2.5,?,7"))
    assert "line 16 (data row 3)" in msg and "'x 2'" in msg


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("{1 2,4 1}", "{1 2,5 1}", "index 5 is out of range 0..4"),
        ("{1 2,4 1}", "{4 1,1 2}", "index 1 follows index 4"),
        ("{1 2,4 1}", "{1 2,1 3}", "index 1 follows index 1"),
        ("{1 2,4 1}", "{1 2,4 1", "not closed with '}'"),
        ("{1 2,4 1}", "{1 2,x 1}", "bad sparse entry 'x 1'"),
        ("{1 2,4 1}", "{1 ?,4 1}", "missing value for attribute 'f1'"),
        ("{1 2,4 1}", "{1 2,4 3}", "label 'b' has value '3'"),
    ],
)
def test_bad_sparse_file(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert expected in _arff_error(tmp_path, SPARSE.replace(old, new))


def test_header_without_data(tmp_path: Path) -> None:
    assert "no @data line" in _arff_error(tmp_path, DENSE.split("@data")[0])
    assert "no data rows" in _arff_error(tmp_path, DENSE.split("@data")[0] + "@data\n% nothing\n")
    assert "@data before any @attribute" in _arff_error(tmp_path, "@relation r\n@data\n1,2\n")


def test_errors_are_input_errors() -> None:
    assert issubclass(ArffError, InputError)


# ---------------------------------------------------------------- the real staged Mulan files

REAL = [  # data set, train rows, test rows, features, labels, train label cardinality (PROVENANCE.md section 1)
    ("yeast", 1500, 917, 103, 14, 4.228),
    ("delicious", 12920, 3185, 500, 983, 19.047),
    ("bibtex", 4880, 2515, 1836, 159, 2.380),
    ("enron", 1123, 579, 1001, 53, 3.386),
    ("birds", 322, 323, 260, 19, 1.059),
]


@pytest.mark.parametrize(("ds", "n_train", "n_test", "n_features", "n_labels", "card"), REAL)
def test_real_mulan_counts(ds: str, n_train: int, n_test: int, n_features: int, n_labels: int, card: float) -> None:
    folder = MLC_MIRROR / ds
    paths = [folder / f"{ds}-train.arff.xz", folder / f"{ds}-test.arff.xz", folder / f"{ds}.xml"]
    if not all(p.is_file() for p in paths):
        pytest.skip(f"real Mulan {ds} files not found under {folder} (set SEQSTRUCT_DATA_MIRROR)")
    train, test = read_mulan(*paths)
    assert (train.n_samples, test.n_samples) == (n_train, n_test)
    assert train.features.shape == (n_train, n_features) and test.features.shape == (n_test, n_features)
    assert train.labels.shape == (n_train, n_labels) and test.labels.shape == (n_test, n_labels)
    assert round(train.cardinality, 3) == card
    assert set(train.label_names) == set(read_label_names(paths[2]))
    assert sp.issparse(train.features) == (ds in {"delicious", "bibtex", "enron"})

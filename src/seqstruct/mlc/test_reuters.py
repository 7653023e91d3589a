import io
import lzma
import os
import re
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from seqstruct.common.errors import InputError
from seqstruct.mlc.prepare import load_prepared, main, split_indices
from seqstruct.mlc.reuters import (
    ReutersDoc,
    ReutersError,
    modapte,
    prepare_reuters,
    read_reuters_sgml,
    tfidf_features,
)

MLC_MIRROR = Path(os.environ.get("SEQSTRUCT_DATA_MIRROR", "/work/shared/data")) / "mlc"
ARCHIVE = MLC_MIRROR / "reuters21578" / "reuters21578.tar.xz"

SGML = """<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5544" NEWID="1">
<DATE>26-FEB-1987 15:01:01.79</DATE>
<TOPICS><D>cocoa</D><D>grain</D></TOPICS>
<PLACES><D>el-salvador</D></PLACES>
<TEXT>&#2;
<TITLE>BAHIA COCOA &lt;REVIEW&gt;</TITLE>
<DATELINE>    SALVADOR, Feb 26 - </DATELINE><BODY>Showers &amp; sunshine in the cocoa zone.
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5545" NEWID="2">
<TOPICS><D>earn</D></TOPICS>
<TEXT TYPE="BRIEF">&#2;
******<TITLE>EARN ONLY IN TRAIN</TITLE>
&#3;</TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5546" NEWID="3">
<TOPICS><D>cocoa</D></TOPICS>
<TEXT>&#2;
<TITLE>NOT A TOPICS DOC</TITLE><BODY>ignored cocoa.
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="TEST" CGISPLIT="TRAINING-SET" OLDID="5547" NEWID="4">
<TOPICS><D>cocoa</D><D>zebra</D></TOPICS>
<TEXT TYPE="UNPROC">&#2;
raw unprocessed cocoa text
&#3;</TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="TEST" CGISPLIT="TRAINING-SET" OLDID="5548" NEWID="5">
<TOPICS><D>grain</D></TOPICS>
<TEXT><TITLE>GRAIN TEST</TITLE><BODY>Wheat and grain.</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="NOT-USED" CGISPLIT="TRAINING-SET" OLDID="5549" NEWID="6">
<TOPICS></TOPICS>
<TEXT><TITLE>UNUSED</TITLE><BODY>x</BODY></TEXT>
</REUTERS>
"""


@pytest.fixture
def sgm_dir(tmp_path: Path) -> Path:
    (tmp_path / "reut2-000.sgm").write_bytes(SGML.encode("latin-1"))
    (tmp_path / "README.txt").write_text("not sgml")
    return tmp_path


def _tar_xz(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "r.tar.xz"
    with tarfile.open(path, "w:xz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_parse_fields_and_entities(sgm_dir: Path) -> None:
    docs = read_reuters_sgml(sgm_dir)
    assert [d.newid for d in docs] == [1, 2, 3, 4, 5, 6]
    first = docs[0]
    assert first == ReutersDoc(1, "train", True, ("cocoa", "grain"), first.text)
    assert first.text == "BAHIA COCOA <REVIEW>\nShowers & sunshine in the cocoa zone.\n Reuter"
    assert docs[1].text == "EARN ONLY IN TRAIN\n******"  # BRIEF: title first, then the rest of TEXT
    assert docs[2].topics_yes is False
    assert docs[3].text == "raw unprocessed cocoa text"  # UNPROC: no TITLE/BODY
    assert docs[5].split == "not-used" and docs[5].topics == ()
    assert not any(s in d.text for d in docs for s in ("\x02", "\x03", "&amp;", "&#", "&lt;"))


def test_archive_equals_folder(sgm_dir: Path, tmp_path: Path) -> None:
    data = (sgm_dir / "reut2-000.sgm").read_bytes()
    archive = _tar_xz(tmp_path, {"reuters21578/README.txt": b"x", "reuters21578/reut2-000.sgm": data})
    assert read_reuters_sgml(archive) == read_reuters_sgml(sgm_dir)
    assert read_reuters_sgml([sgm_dir / "reut2-000.sgm"]) == read_reuters_sgml(str(sgm_dir))


def test_modapte_filter(sgm_dir: Path) -> None:
    m = modapte(read_reuters_sgml(sgm_dir))
    assert (m.n_train_split, m.n_test_split) == (2, 2)
    assert m.categories == ("cocoa", "grain")  # earn only in train, zebra only in test
    assert [d.newid for d in m.train_docs] == [1] and [d.newid for d in m.test_docs] == [4, 5]
    assert m.labels_train.dtype == np.uint8
    np.testing.assert_array_equal(m.labels_train, [[1, 1]])
    np.testing.assert_array_equal(m.labels_test, [[1, 0], [0, 1]])
    assert m.cardinality == pytest.approx(4 / 3)


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ReutersError, match="not found"):
        read_reuters_sgml(tmp_path / "missing.tar.xz")
    with pytest.raises(ReutersError, match=r"no reut2-\*\.sgm"):
        read_reuters_sgml(tmp_path)
    with pytest.raises(ReutersError, match=r"no reut2-\*\.sgm"):
        read_reuters_sgml(_tar_xz(tmp_path, {"README.txt": b"x"}))
    good = _tar_xz(tmp_path, {"reut2-000.sgm": SGML.encode() * 50}).read_bytes()
    (tmp_path / "cut.tar.xz").write_bytes(good[: len(good) // 2])
    (tmp_path / "junk.tar.xz").write_bytes(lzma.compress(b"not a tar file at all" * 100))
    for name in ("cut.tar.xz", "junk.tar.xz"):
        with pytest.raises(ReutersError, match="corrupt or truncated") as info:
            read_reuters_sgml(tmp_path / name)
        assert "\n" not in str(info.value) and isinstance(info.value, InputError)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "reut2-001.sgm").write_text('<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN"><TEXT>x</TEXT></REUTERS>')
    with pytest.raises(ReutersError, match=r"reut2-001\.sgm.*NEWID"):
        read_reuters_sgml(bad)


def test_tfidf_fit_on_train_only() -> None:
    train = ["wheat grain export", "wheat grain price", "wheat grain crop", "cocoa zone"]
    test = ["zebrafish wheat", "grain"]
    x_train, x_test, vocab = tfidf_features(train, test, min_df=2)
    assert vocab == ("grain", "wheat")
    assert x_train.shape == (4, 2) and x_test.shape == (2, 2)
    assert sp.isspmatrix_csr(x_train) and x_train.dtype == np.float32 and x_test.dtype == np.float32


def _doc(newid: int, split: str, topics: list[str], body: str) -> str:
    d = "".join(f"<D>{t}</D>" for t in topics)
    return (
        f'<REUTERS TOPICS="YES" LEWISSPLIT="{split}" CGISPLIT="TRAINING-SET" OLDID="{9000 + newid}" NEWID="{newid}">\n'
        f"<TOPICS>{d}</TOPICS>\n<TEXT>&#2;\n<TITLE>NEWS {newid}</TITLE><BODY>{body}\n&#3;</BODY></TEXT>\n</REUTERS>\n"
    )


def _word(i: int) -> str:
    return "qz" + chr(97 + i // 26) + chr(97 + i % 26)  # a made-up word per document, no stop word


def test_prepare_reuters_fits_the_vocabulary_on_train_split_rows_only(tmp_path: Path) -> None:
    docs = [_doc(i + 1, "TRAIN" if i < 14 else "TEST", ["grain", "earn"][: 1 + i % 2], _word(i)) for i in range(20)]
    docs.append(_doc(21, "TRAIN", ["cocoa"], "cocoa only in train"))  # cocoa has no test document: dropped
    archive = _tar_xz(tmp_path, {"reuters21578/reut2-000.sgm": "".join(docs).encode("latin-1")})
    prepared = prepare_reuters(archive, "toy_reuters", tmp_path / "out", seed=0, max_features=100, min_df=1)
    info = prepared.info
    assert info["modapte"] == {
        "n_documents": 21,
        "n_train_split": 15,
        "n_test_split": 6,
        "n_categories": 2,
        "n_train": 14,
        "n_test": 6,
        "cardinality": 1.5,
    }
    assert info["label_names"] == ["earn", "grain"] and info["newids"] == list(range(1, 21))
    assert prepared.features.shape == (20, len(info["feature_names"])) and prepared.labels.shape == (20, 2)
    split = prepared.split
    assert [len(split[k]) for k in ("train", "val", "test")] == [16, 2, 2]
    assert all(np.array_equal(split[k], split_indices(20, 0, "toy_reuters")[k]) for k in split)
    train_words = {_word(i) for i in split["train"]}
    held_out = {_word(i) for k in ("val", "test") for i in split[k]}
    vocab = set(info["feature_names"])
    assert train_words <= vocab and not held_out & vocab
    assert vocab - train_words <= {"news", "reuter"} | {str(i + 1) for i in split["train"]}
    back = load_prepared(tmp_path / "out")
    assert (back.features != prepared.features).nnz == 0 and back.info["featurizer"]["fitted_on"] == "train split rows"


def test_prepare_reuters_refuses_a_truncated_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _tar_xz(tmp_path, {"reuters21578/reut2-000.sgm": SGML.encode() * 50}).read_bytes()
    cut = tmp_path / "reuters21578.tar.xz"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(ReutersError, match="reuters21578.tar.xz: corrupt or truncated archive") as info:
        prepare_reuters(cut, "r", tmp_path / "out", seed=0)
    assert "\n" not in str(info.value) and not (tmp_path / "out").exists()
    args = ["--format", "reuters", "--archive", str(cut), "--dataset", "r", "--out", str(tmp_path / "out")]
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and err[0].startswith(f"error: {cut}: corrupt or truncated") and not (tmp_path / "out").exists()
    )


@pytest.mark.slow
def test_real_prepare_reuters(tmp_path: Path) -> None:
    if not ARCHIVE.is_file():
        pytest.skip(f"real Reuters-21578 archive not found at {ARCHIVE} (set SEQSTRUCT_DATA_MIRROR)")
    start = time.perf_counter()
    docs = read_reuters_sgml(ARCHIVE)
    m = modapte(docs)
    print(f"read + ModApte filter of {ARCHIVE.name}: {time.perf_counter() - start:.2f} s")
    assert len(docs) == 21578
    assert (m.n_train_split, m.n_test_split) == (9603, 3299)
    assert len(m.categories) == 90 and list(m.categories) == sorted(m.categories)
    assert (len(m.train_docs), len(m.test_docs)) == (7770, 3019)
    assert m.labels_train.shape == (7770, 90) and m.labels_test.shape == (3019, 90)
    assert round(m.cardinality, 3) == 1.235
    assert m.labels_train.sum(axis=0).min() >= 1 and m.labels_test.sum(axis=0).min() >= 1
    start = time.perf_counter()
    prepared = prepare_reuters(ARCHIVE, "reuters", tmp_path / "reuters", seed=0)
    print(f"prepare_reuters: {time.perf_counter() - start:.2f} s")
    info = prepared.info
    assert info["modapte"]["n_train"] + info["modapte"]["n_test"] == 10789 and info["modapte"]["n_categories"] == 90
    assert prepared.features.shape == (10789, 5000) and prepared.labels.shape == (10789, 90)
    assert info["sizes"] == {"train": 8631, "val": 1079, "test": 1079}
    texts = [d.text for d in m.train_docs + m.test_docs]
    assert info["newids"] == [d.newid for d in m.train_docs + m.test_docs]
    token = re.compile(r"(?u)\b\w\w+\b")  # TfidfVectorizer's default token pattern
    train_words = {w for i in prepared.split["train"] for w in token.findall(texts[i].lower())}
    held_out = {w for k in ("val", "test") for i in prepared.split[k] for w in token.findall(texts[i].lower())}
    assert held_out - train_words and not (held_out - train_words) & set(info["feature_names"])

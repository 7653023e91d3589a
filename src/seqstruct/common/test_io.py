from pathlib import Path

import numpy as np
import pytest

from seqstruct.common.io import atomic_path, read_json, write_json


def test_atomic_path_renames_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "sub" / "out.txt"
    with atomic_path(dest) as tmp:
        assert tmp.parent == dest.parent and tmp.suffix == ".txt"
        tmp.write_text("hello")
        assert not dest.exists()
    assert dest.read_text() == "hello"
    assert dest.stat().st_mode & 0o044  # readable by others like any normally created file
    assert list(dest.parent.iterdir()) == [dest]


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_json_roundtrip_with_numpy(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"x": np.float32(1.5), "v": np.arange(3)})
    assert read_json(tmp_path / "a.json") == {"x": 1.5, "v": [0, 1, 2]}

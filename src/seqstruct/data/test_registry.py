"""Tests of the dataset registry (tiny registries in tmp_path; one structural test of the real registry)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from seqstruct.data import (
    Access,
    DataError,
    DatasetSpec,
    FileSpec,
    MemberSpec,
    check_member_path,
    get_dataset,
    load_registry,
)
from seqstruct.data.registry import check_file_name, check_mirror_path, check_url

REGISTRY = Path(__file__).resolve().parents[3] / "config" / "datasets.yaml"

SHA_A = "ab" * 32
SHA_B = "cd" * 32
GOOD_FILE = (
    "      - name: a.txt\n"
    "        url: http://127.0.0.1:1/a.txt\n"
    "        size: 12\n"
    "        sha256: " + SHA_A + "\n"
    "        mirror: x/a.txt\n"
)
ARCHIVE_FILE = (
    "      - name: pack.zip\n"
    "        sha256: " + SHA_B + "\n"
    "        mirror: x/pack.zip\n"
    "        members:\n"
    "          - {path: sub/one.csv, sha256: " + SHA_A + "}\n"
    "          - {path: two.csv, sha256: " + SHA_B + "}\n"
)
NO_URL_FILE = "      - name: b.bin\n        sha256: " + SHA_B + "\n"


def _write(tmp_path: Path, files: str, extra: str = "", ds_id: str = "toy") -> Path:
    path = tmp_path / "datasets.yaml"
    path.write_text(
        f"datasets:\n  {ds_id}:\n    title: T\n    license: L\n    citation: C\n" + extra + "    files:\n" + files
    )
    return path


def test_real_registry_is_well_formed() -> None:
    """Structural facts of the real registry that hold for any dataset it may list."""
    reg = load_registry(REGISTRY)
    assert reg
    for ds_id, spec in reg.items():
        assert re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", ds_id) and spec.id == ds_id
        assert spec.title.strip() and spec.license.strip() and spec.citation.strip(), ds_id
        assert spec.access.kind in {"public", "api_key", "unavailable"}
        if spec.access.kind == "public":
            assert spec.files or spec.url_patterns, f"public dataset {ds_id} has no files and no url_patterns"
        if spec.access.kind == "api_key":
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", spec.access.env_var)
        if spec.access.kind == "unavailable":
            assert spec.access.reason.strip()
        for f in spec.files:
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256), (ds_id, f.name)
            assert "/" not in f.name and f.name not in {"", ".", ".."}
            if spec.access.kind == "public":
                assert f.url or f.mirror, (ds_id, f.name)
            if f.url:
                assert re.match(r"^https?://", f.url), (ds_id, f.url)
                assert isinstance(f.size, int) and f.size > 0, (ds_id, f.name)
            for m in f.members:
                assert re.fullmatch(r"[0-9a-f]{64}", m.sha256), (ds_id, m.path)
                assert check_member_path(m.path) is None, (ds_id, m.path)


def test_valid_tmp_registry(tmp_path: Path) -> None:
    spec = load_registry(_write(tmp_path, GOOD_FILE, extra="    description: D\n"))["toy"]
    assert spec.description == "D"
    assert spec.file("a.txt").sha256 == SHA_A
    assert spec.access == Access("public")
    assert spec.file("a.txt").members == ()
    assert spec.file("a.txt").size == 12


def test_unknown_file_name_lists_valid_names(tmp_path: Path) -> None:
    spec = load_registry(_write(tmp_path, GOOD_FILE))["toy"]
    with pytest.raises(DataError, match=r"'toy' has no file 'b.txt'.*a\.txt"):
        spec.file("b.txt")


def test_url_is_optional(tmp_path: Path) -> None:
    spec = load_registry(_write(tmp_path, GOOD_FILE + NO_URL_FILE + "        mirror: x/b.bin\n"))["toy"]
    assert spec.file("b.bin").url is None
    assert spec.file("b.bin").size is None  # optional without a url
    assert spec.file("b.bin").mirror == "x/b.bin"
    assert spec.file("a.txt").url == "http://127.0.0.1:1/a.txt"


def test_archive_members_are_parsed_and_located(tmp_path: Path) -> None:
    spec = load_registry(_write(tmp_path, GOOD_FILE + ARCHIVE_FILE))["toy"]
    archive = spec.file("pack.zip")
    assert archive.members == (MemberSpec("sub/one.csv", SHA_A), MemberSpec("two.csv", SHA_B))
    assert spec.locate("sub/one.csv") == (archive, archive.members[0])
    assert spec.locate("a.txt") == (spec.file("a.txt"), None)
    with pytest.raises(DataError, match=r"no file or archive member 'three.csv'.*pack\.zip.*sub/one\.csv"):
        spec.locate("three.csv")


def test_access_forms(tmp_path: Path) -> None:
    key = _write(tmp_path, NO_URL_FILE, extra="    access: {api_key: SOME_API_KEY, instructions: get one}\n")
    assert load_registry(key)["toy"].access == Access("api_key", env_var="SOME_API_KEY", instructions="get one")
    gone = _write(tmp_path, NO_URL_FILE, extra="    access:\n      unavailable: licensed,\n        by request only\n")
    assert load_registry(gone)["toy"].access == Access("unavailable", reason="licensed, by request only")
    public = _write(tmp_path, GOOD_FILE, extra="    access: public\n")
    assert load_registry(public)["toy"].access.kind == "public"


@pytest.mark.parametrize("access", ["{api_key: K_API}", "{unavailable: not public}"])
def test_non_public_dataset_may_have_no_files(tmp_path: Path, access: str) -> None:
    path = tmp_path / "datasets.yaml"
    path.write_text(f"datasets:\n  toy:\n    title: T\n    license: L\n    citation: C\n    access: {access}\n")
    assert load_registry(path)["toy"].files == ()
    path.write_text(path.read_text() + "    files: []\n")
    assert load_registry(path)["toy"].files == ()


def test_public_dataset_of_many_files_has_url_patterns(tmp_path: Path) -> None:
    path = tmp_path / "datasets.yaml"
    head = "datasets:\n  toy:\n    title: T\n    license: L\n    citation: C\n"
    path.write_text(head + "    url_patterns: {day: 'https://example.org/{var}/{date:%Y%m%d}.zip'}\n")
    assert load_registry(path)["toy"].url_patterns == {"day": "https://example.org/{var}/{date:%Y%m%d}.zip"}
    path.write_text(head)
    with pytest.raises(DataError, match="missing key.*files"):
        load_registry(path)
    path.write_text(head + "    url_patterns: {day: 'ftp://example.org/x'}\n")
    with pytest.raises(DataError, match=r"url_patterns.day must be an http\(s\) URL pattern"):
        load_registry(path)


@pytest.mark.parametrize(
    ("files", "extra", "pattern"),
    [
        (GOOD_FILE.replace("        mirror: x/a.txt\n", ""), "", "missing key.*mirror"),
        (GOOD_FILE.replace(SHA_A, "abc123"), "", "sha256 must be 64 hex"),
        (GOOD_FILE.replace(SHA_A, "g" * 64), "", "sha256 must be 64 hex"),
        (GOOD_FILE.replace(SHA_A, "1" * 64), "", "quote it"),
        (GOOD_FILE + GOOD_FILE, "", "duplicate file names: a.txt"),
        (GOOD_FILE.replace("x/a.txt", "../a.txt"), "", "relative to the mirror root"),
        ("      []\n", "", "non-empty list"),
        (NO_URL_FILE, "", "missing key.*mirror"),
        (GOOD_FILE.replace("http://127.0.0.1:1/a.txt", "[1, 2]"), "", "url must be a string"),
        (GOOD_FILE, "    access: private\n", "access must be 'public'"),
        (GOOD_FILE, "    access: {token: X}\n", "access must be 'public'"),
        (GOOD_FILE, "    access: {api_key: K, when: now}\n", "unknown key.*when"),
        (GOOD_FILE, "    access: {api_key: not a var}\n", "environment variable"),
        (GOOD_FILE, "    access: {unavailable: ''}\n", "reason"),
        (GOOD_FILE, "    access: {unavailable: gone}\n", "no public URL; remove 'url'"),
        (GOOD_FILE, "    acces: public\n", "unknown key.*acces"),
        (ARCHIVE_FILE.replace("sub/one.csv", "../evil"), "", r"member path '\.\./evil' contains '\.\.'"),
        (ARCHIVE_FILE.replace("sub/one.csv", "/etc/passwd"), "", "is absolute"),
        (ARCHIVE_FILE.replace("sub/one.csv", "sub\\\\one.csv"), "", "backslash"),
        (ARCHIVE_FILE.replace("sub/one.csv", "sub/./one.csv"), "", "empty or '.' component"),
        (ARCHIVE_FILE.replace("sub/one.csv", "two.csv"), "", "duplicate archive member paths: two.csv"),
        (GOOD_FILE + ARCHIVE_FILE.replace("sub/one.csv", "a.txt"), "", "'a.txt' clashes with the file or member"),
        (GOOD_FILE + ARCHIVE_FILE.replace("sub/one.csv", "a.txt/x"), "", "'a.txt/x' clashes"),
        (ARCHIVE_FILE.replace("sub/one.csv", "two.csv/x"), "", "'two.csv/x' clashes with the file or member 'two.csv'"),
        (ARCHIVE_FILE.replace(SHA_A + "}", "abc}"), "", r"member #1 \(sub/one.csv\): sha256 must be 64 hex"),
        (ARCHIVE_FILE.replace("{path: sub/one.csv, ", "{"), "", "member #1: missing key.*path"),
        (ARCHIVE_FILE.split("        members:")[0] + "        members: []\n", "", "members must be a non-empty list"),
        (GOOD_FILE.replace("name: a.txt", 'name: "a\\0b.txt"'), "", r"file #1: file name 'a\\x00b.txt' contains a NUL"),
        (GOOD_FILE.replace("name: a.txt", 'name: "a\\nb"'), "", "contains a control character"),
        (GOOD_FILE.replace("name: a.txt", "name: '..'"), "", r"file name '\.\.' is '\.' or '\.\.'"),
        (GOOD_FILE.replace("name: a.txt", "name: a/b"), "", "contains a path separator"),
        (GOOD_FILE.replace("        size: 12\n", ""), "", r"\(a.txt\): missing key size \(required with 'url'"),
        (GOOD_FILE.replace("size: 12", "size: 0"), "", "size must be a positive number of bytes"),
        (GOOD_FILE.replace("size: 12", "size: -5"), "", "size must be a positive number of bytes"),
        (GOOD_FILE.replace("size: 12", "size: '12'"), "", "size must be a positive number of bytes"),
        (GOOD_FILE.replace("size: 12", "size: 1.5"), "", "size must be a positive number of bytes"),
        (GOOD_FILE.replace("size: 12", "size: true"), "", "size must be a positive number of bytes"),
        (GOOD_FILE.replace("size: 12", "size:"), "", "empty value for key.*size"),
        (GOOD_FILE.replace("x/a.txt", '"x/a\\0"'), "", "contains a NUL"),
    ],
)
def test_malformed_registry_names_file_and_dataset(tmp_path: Path, files: str, extra: str, pattern: str) -> None:
    path = _write(tmp_path, files, extra=extra)
    with pytest.raises(DataError, match=pattern) as info:
        load_registry(path)
    assert str(path) in str(info.value)
    assert "'toy'" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "ds_id", ["Toy", "../up", "a/b", "_x", ".hidden", "'..'", "'.'", "'a b'", '"toy\\n"', "/abs", '"a\\0"']
)
def test_dataset_id_must_be_a_plain_name(tmp_path: Path, ds_id: str) -> None:
    path = _write(tmp_path, GOOD_FILE, ds_id=ds_id)
    with pytest.raises(DataError, match=r"dataset id must be a plain lower-case name") as info:
        load_registry(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("ds_id", ["toy", "toy_2", "a.b-c", "0x"])
def test_plain_dataset_ids_are_accepted(tmp_path: Path, ds_id: str) -> None:
    assert ds_id in load_registry(_write(tmp_path, GOOD_FILE, ds_id=ds_id))


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("a.csv", None),
        ("d/e/f.txt", None),
        ("", "is empty"),
        ("/abs", "is absolute"),
        ("C:/x", "is absolute"),
        ("a/../b", "contains '..'"),
        ("..", "contains '..'"),
        ("a//b", "empty or '.'"),
        ("a/", "empty or '.'"),
        ("a\\b", "backslash"),
    ],
)
def test_check_member_path(path: str, why: str | None) -> None:
    result = check_member_path(path)
    assert result is None if why is None else why in (result or "")


def test_unparsable_and_missing_registry(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets: [unclosed\n")
    with pytest.raises(DataError, match="bad.yaml"):
        load_registry(bad)
    with pytest.raises(DataError, match="not found"):
        load_registry(tmp_path / "none.yaml")
    (tmp_path / "empty.yaml").write_text("other: 1\n")
    with pytest.raises(DataError, match="empty.yaml.*datasets"):
        load_registry(tmp_path / "empty.yaml")


def test_unknown_dataset_suggests_close_match(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_FILE, ds_id="toy_alpha")
    path.write_text(
        path.read_text() + "  other_set:\n    title: T\n    license: L\n    citation: C\n    files:\n" + GOOD_FILE
    )
    with pytest.raises(DataError) as info:
        get_dataset("toy_alphas", path)
    msg = str(info.value)
    assert "'toy_alphas'" in msg and "did you mean 'toy_alpha'" in msg
    assert "other_set" in msg and str(path) in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/a.txt",
        "data:text/plain;base64,aGVsbG8=",
        "FILE:///etc/passwd",
        "gopher://example.org/a",
        "/local/path/a.txt",
        "example.org/a.txt",
        "http:///no-host",
        "https://example.org/a b.txt",
    ],
)
def test_url_must_be_http_or_https(tmp_path: Path, url: str) -> None:
    path = _write(tmp_path, GOOD_FILE.replace("http://127.0.0.1:1/a.txt", f"'{url}'"))
    with pytest.raises(DataError) as info:
        load_registry(path)
    msg = str(info.value)
    assert msg.startswith(f"dataset registry {path}, dataset 'toy', file #1 (a.txt): url {url!r} ")
    assert "only https:// and http:// URLs are downloaded" in msg
    assert "SEQSTRUCT_DATA_MIRROR" in msg and "a directory, not a URL" in msg
    assert "\n" not in msg


@pytest.mark.parametrize("url", ["https://example.org/a.txt", "HTTP://example.org:8080/a?b=c", "http://[::1]/a"])
def test_http_and_https_urls_are_accepted(tmp_path: Path, url: str) -> None:
    path = _write(tmp_path, GOOD_FILE.replace("http://127.0.0.1:1/a.txt", f"'{url}'"))
    assert load_registry(path)["toy"].file("a.txt").url == url


@pytest.mark.parametrize("ds_id", ["../../../../outside", "/tmp/outside", "a/b", "..", ".", "", "Toy", "a\0b"])
def test_dataset_spec_built_in_code_refuses_unsafe_ids(ds_id: str) -> None:
    with pytest.raises(DataError, match=r"dataset id .* must be a plain lower-case name") as info:
        DatasetSpec(ds_id, "T", "L", "C", ())
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../escape.txt", "path separator"),
        ("/etc/passwd", "path separator"),
        ("..", "'.' or '..'"),
        (".", "'.' or '..'"),
        ("", "is empty"),
        ("a\0b", "NUL"),
        ("a\\b", "path separator"),
    ],
)
def test_file_spec_built_in_code_refuses_unsafe_names(name: str, why: str) -> None:
    with pytest.raises(DataError, match=f"file name .*{re.escape(why)}.*give a plain file name"):
        FileSpec(name, None, SHA_A, None)


def test_file_spec_built_in_code_checks_url_size_and_mirror() -> None:
    with pytest.raises(
        DataError, match=r"url 'file:///etc/passwd' is not an https:// or http:// URL \(scheme 'file'\)"
    ):
        FileSpec("a.txt", "file:///etc/passwd", SHA_A, None, size=3)
    with pytest.raises(DataError, match="a file with a url needs its size in bytes"):
        FileSpec("a.txt", "https://example.org/a.txt", SHA_A, None)
    for bad in (0, -1, True, 1.5, "3"):
        with pytest.raises(DataError, match="size must be a positive number of bytes"):
            FileSpec("a.txt", None, SHA_A, None, size=bad)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="mirror path '../a' contains '..'"):
        FileSpec("a.txt", None, SHA_A, "../a")
    assert FileSpec("a.txt", "https://example.org/a.txt", SHA_A, "x/a.txt", size=3).size == 3
    assert FileSpec("a.txt", None, SHA_A, "x/a.txt").size is None


@pytest.mark.parametrize(
    ("name", "why"),
    [("a.csv", None), (".hidden", None), ("a b.txt", None), ("a\0", "NUL"), ("a\tb", "control"), ("a/b", "separator")],
)
def test_check_file_name(name: str, why: str | None) -> None:
    result = check_file_name(name)
    assert result is None if why is None else why in (result or "")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://h/a", None),
        ("http://h:1/a?x", None),
        ("ftp://h/a", "scheme 'ftp'"),
        ("file:///a", "scheme 'file'"),
        ("data:,x", "scheme 'data'"),
        ("h/a", "scheme '(none)'"),
        ("http://", "no host"),
        ("http://h/a\0", "control"),
    ],
)
def test_check_url(url: str, why: str | None) -> None:
    result = check_url(url)
    assert result is None if why is None else why in (result or "")


@pytest.mark.parametrize(
    ("path", "why"), [("crop/a.csv", None), ("/abs", "absolute"), ("a/../../b", "'..'"), ("a\0", "NUL")]
)
def test_check_mirror_path(path: str, why: str | None) -> None:
    result = check_mirror_path(path)
    assert result is None if why is None else why in (result or "")


# --- mirror_compression: the mirror holds a compressed copy of the registered bytes ------------------------------


@pytest.mark.parametrize("compression", ["xz", "gz", "bz2"])
def test_mirror_compression_is_parsed(tmp_path: Path, compression: str) -> None:
    files = GOOD_FILE.replace("x/a.txt", f"x/a.txt.{compression}") + f"        mirror_compression: {compression}\n"
    spec = load_registry(_write(tmp_path, files + NO_URL_FILE + "        mirror: x/b.bin\n"))["toy"]
    assert spec.file("a.txt").mirror_compression == compression
    assert spec.file("a.txt").size == 12  # the size of the file itself, not of the compressed copy
    assert spec.file("b.bin").mirror_compression is None


@pytest.mark.parametrize(
    ("line", "extra", "pattern"),
    [
        ("mirror_compression: zip", "", r"\(a.txt\): mirror_compression must be one of xz, gz, bz2 .*got 'zip'"),
        ("mirror_compression: XZ", "", "mirror_compression must be one of xz, gz, bz2"),
        ("mirror_compression: [xz]", "", "mirror_compression must be one of xz, gz, bz2"),
        ("mirror_compression: 1", "", "mirror_compression must be one of xz, gz, bz2"),
        ("mirror_compression:", "", "empty value for key.*mirror_compression"),
        ("mirror_compression: ''", "", "empty value for key.*mirror_compression"),
        ("mirror_compressoin: xz", "", "unknown key.*mirror_compressoin"),
    ],
)
def test_malformed_mirror_compression(tmp_path: Path, line: str, extra: str, pattern: str) -> None:
    path = _write(tmp_path, GOOD_FILE + f"        {line}\n", extra=extra)
    with pytest.raises(DataError, match=pattern) as info:
        load_registry(path)
    assert str(path) in str(info.value) and "'toy'" in str(info.value) and "\n" not in str(info.value)


def test_mirror_compression_needs_a_mirror(tmp_path: Path) -> None:
    # A public file must have a mirror anyway; a non-public one may not, and then the compression has no copy.
    path = _write(tmp_path, NO_URL_FILE + "        mirror_compression: xz\n", extra="    access: {unavailable: gone}\n")
    with pytest.raises(DataError, match=r"\(b.bin\): mirror_compression 'xz' needs 'mirror'.*remove") as info:
        load_registry(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    path = _write(tmp_path, NO_URL_FILE + "        mirror_compression: xz\n")
    with pytest.raises(DataError, match="missing key.*mirror"):
        load_registry(path)


def test_file_spec_built_in_code_checks_mirror_compression() -> None:
    for bad in ("zip", "", "XZ", 1):
        with pytest.raises(DataError, match=r"file 'a.txt': unknown mirror_compression .*give one of xz, gz, bz2"):
            FileSpec("a.txt", None, SHA_A, "x/a.txt.xz", mirror_compression=bad)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="mirror_compression 'gz' is given without 'mirror'"):
        FileSpec("a.txt", None, SHA_A, None, mirror_compression="gz")
    assert FileSpec("a.txt", None, SHA_A, "x/a.txt.bz2", mirror_compression="bz2").mirror_compression == "bz2"
    assert FileSpec("a.txt", None, SHA_A, "x/a.txt").mirror_compression is None

"""The dataset registry: ``config/datasets.yaml`` read into frozen dataclasses.

Each dataset has a title, license, citation, an optional description, an access mode (public, needs an API key
in an environment variable, or not obtainable anywhere) and a list of files. Each file has a name, an optional
public http(s) URL with the file's size in bytes, a sha256 checksum, a path relative to the offline mirror root
(optionally with the compression of the mirror copy: the size and sha256 are always those of the file itself) and,
for zip/tar archives, optional archive members (path inside the archive and sha256). The field reference is
``docs/registry.md``.

Structural problems in the registry raise :class:`DataError` with a one-line message that names the registry
file and the dataset. The dataclasses check themselves too (dataset ids, file names and member paths that could
lead outside ``<raw_dir>/<id>/``, non-http(s) URLs, sizes), so a spec built in code is held to the same rules;
archive member paths are checked again where they are used.
"""

from __future__ import annotations

import difflib
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml

from seqstruct.common.errors import InputError

DEFAULT_REGISTRY = "config/datasets.yaml"
#: where dataset ``<id>``'s files live locally: ``<DEFAULT_RAW_DIR>/<id>/<name>``
DEFAULT_RAW_DIR = "resources/raw"
MIRROR_ENV = "SEQSTRUCT_DATA_MIRROR"
URL_SCHEMES = ("https", "http")
#: values of ``mirror_compression``: the mirror holds ``xz``/``gzip``/``bzip2`` of the registered bytes
MIRROR_COMPRESSIONS = ("xz", "gz", "bz2")

AccessKind = Literal["public", "api_key", "unavailable"]

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_DATASET_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATASET_KEYS = {"title", "license", "citation"}
_DATASET_OPTIONAL = {"description", "access", "files", "years", "url_patterns"}
_FILE_KEYS = {"name", "sha256"}
_FILE_OPTIONAL = {"url", "size", "mirror", "mirror_compression", "members"}
_MEMBER_KEYS = {"path", "sha256"}
_ACCESS_FORMS = "'public', {api_key: ENV_VAR} or {unavailable: <reason>} (optionally with 'instructions: <text>')"
_ID_RULE = (
    "must be a plain lower-case name matching [a-z0-9][a-z0-9_.-]* (it names the folder <raw_dir>/<id>, "
    "so no '/', '..' or absolute path)"
)
_URL_FIX = (
    "only https:// and http:// URLs are downloaded. For an offline copy, remove 'url' and give 'mirror:' the "
    f"file's path relative to the mirror, a directory set by {MIRROR_ENV} (a directory, not a URL)"
)
_SIZE_FIX = "the file's size in bytes, e.g. from 'stat -c %s <file>'; a download stops as soon as more arrives"
_COMPRESSION_FIX = (
    f"give one of {', '.join(MIRROR_COMPRESSIONS)} (how the mirror copy is compressed; size and sha256 stay those of "
    "the uncompressed file), or remove 'mirror_compression' for a plain copy"
)


class DataError(InputError):
    """A dataset cannot be described or resolved; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Access:
    """How a dataset's data can be obtained.

    Attributes
    ----------
    kind : {"public", "api_key", "unavailable"}
        ``public``: files come from a local copy, the mirror or their URL. ``api_key``: the data comes from an
        API that needs a personal key in the environment variable ``env_var``. ``unavailable``: the data is not
        public anywhere; only a copy the user provides is accepted.
    env_var : str
        For ``api_key``: the environment variable that holds the key; empty otherwise.
    reason : str
        For ``unavailable``: why the data cannot be downloaded; empty otherwise.
    instructions : str
        Optional: how to get the key or the data, and what it is for.
    """

    kind: AccessKind = "public"
    env_var: str = ""
    reason: str = ""
    instructions: str = ""


PUBLIC = Access()


@dataclass(frozen=True)
class MemberSpec:
    """One file inside a registered zip/tar archive, extracted to ``resources/raw/<dataset id>/<path>``.

    Attributes
    ----------
    path : str
        Relative POSIX path of the member inside the archive (also its path under the dataset folder).
    sha256 : str
        Expected SHA-256 of the extracted member, 64 lower-case hex characters.

    The path is checked (:func:`check_member_path`) when the registry is read and again before anything is
    extracted or looked up (:mod:`seqstruct.data.archive`, :func:`seqstruct.data.fetch.resolve_file`).
    """

    path: str
    sha256: str


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset.

    Attributes
    ----------
    name : str
        File name, also its name under ``resources/raw/<dataset id>/``: a plain name (see
        :func:`check_file_name`).
    url : str or None
        Public ``https://`` or ``http://`` download URL; ``None`` for a file that is only in the mirror, comes
        from an API, or is not public.
    sha256 : str
        Expected SHA-256 of the file, 64 lower-case hex characters.
    mirror : str or None
        Path of the file relative to the mirror root (``$SEQSTRUCT_DATA_MIRROR``); ``None`` if not mirrored
        (allowed only for datasets whose access is ``api_key`` or ``unavailable``).
    members : tuple of MemberSpec
        For a zip/tar archive: the members to extract; empty otherwise.
    size : int or None
        Size of the file in bytes, a positive integer; required when ``url`` is set (a download or mirror copy
        stops as soon as more arrives), optional otherwise.
    mirror_compression : {"xz", "gz", "bz2"} or None
        How the mirror copy is compressed; ``None`` for a plain copy. Only valid with ``mirror``. ``size`` and
        ``sha256`` are those of the decompressed bytes (the file at ``url``), which a mirror copy must decompress to.

    Raises
    ------
    DataError
        The name is not a plain file name, the URL is not http(s), the size is missing for a URL or not a
        positive integer, the mirror path is absolute or contains ``..``, or the mirror compression is not one of
        :data:`MIRROR_COMPRESSIONS` or is given without a mirror path.
    """

    name: str
    url: str | None
    sha256: str
    mirror: str | None
    members: tuple[MemberSpec, ...] = ()
    size: int | None = None
    mirror_compression: str | None = None

    def __post_init__(self) -> None:
        why = check_file_name(self.name)
        if why:
            raise DataError(f"file name {self.name!r} {why}; give a plain file name")
        what = f"file {self.name!r}"
        if self.url is not None:
            why = check_url(self.url)
            if why:
                raise DataError(f"{what}: url {self.url!r} {why}; {_URL_FIX}")
            if self.size is None:
                raise DataError(f"{what}: a file with a url needs its size in bytes ({_SIZE_FIX})")
        if self.size is not None and (isinstance(self.size, bool) or not isinstance(self.size, int) or self.size <= 0):
            raise DataError(f"{what}: size must be a positive number of bytes, got {self.size!r}")
        if self.mirror is not None:
            why = check_mirror_path(self.mirror)
            if why:
                raise DataError(f"{what}: mirror path {self.mirror!r} {why}; give a path relative to the mirror root")
        if self.mirror_compression is not None:
            if self.mirror_compression not in MIRROR_COMPRESSIONS:
                raise DataError(f"{what}: unknown mirror_compression {self.mirror_compression!r}; {_COMPRESSION_FIX}")
            if self.mirror is None:
                raise DataError(
                    f"{what}: mirror_compression {self.mirror_compression!r} is given without 'mirror'; add the mirror "
                    "path of the compressed copy, or remove 'mirror_compression'"
                )


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset.

    Attributes
    ----------
    id : str
        Registry key, a plain name (``[a-z0-9][a-z0-9_.-]*``), also the folder name under ``resources/raw/``.
    title : str
        Human-readable title.
    license : str
        License or terms of use.
    citation : str
        What to cite when using the data.
    files : tuple of FileSpec
        The files of the dataset, in registry order (may be empty only if access is not public).
    description : str
        Optional free-text description of the content.
    access : Access
        How the data can be obtained; public by default.
    years : (int, int) or None
        Optional: the first and last calendar year the data covers, so that a workflow can check the years a
        config asks for before anything is fetched or prepared.
    url_patterns : dict of str to str
        Optional: name -> download URL pattern of a dataset of many files (e.g. PRISM's one zip per variable
        and day), for users with internet; such files change upstream (PRISM's provisional -> stable), so they
        are checked by their format readers, not by a sha256. A public dataset with patterns may list no files.

    Raises
    ------
    DataError
        The id is not a plain name (it could lead outside ``<raw_dir>/``, e.g. ``../x`` or an absolute path).
    """

    id: str
    title: str
    license: str
    citation: str
    files: tuple[FileSpec, ...]
    description: str = ""
    access: Access = PUBLIC
    years: tuple[int, int] | None = None
    url_patterns: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _DATASET_ID.fullmatch(self.id):
            raise DataError(f"dataset id {self.id!r} {_ID_RULE}; rename it")

    def file(self, name: str) -> FileSpec:
        """Return the file called ``name``.

        Parameters
        ----------
        name : str
            A file name of this dataset.

        Returns
        -------
        FileSpec
            The registered file.

        Raises
        ------
        DataError
            ``name`` is not a file of this dataset; the message lists the valid names.
        """
        for f in self.files:
            if f.name == name:
                return f
        raise DataError(f"dataset {self.id!r} has no file {name!r}; its files are: {self._valid_names()}")

    def locate(self, name: str) -> tuple[FileSpec, MemberSpec | None]:
        """Find a file name or an archive member path of this dataset.

        Parameters
        ----------
        name : str
            A file name, or the path of a member of one of the dataset's archives.

        Returns
        -------
        tuple of (FileSpec, MemberSpec or None)
            ``(file, None)`` for a file name; ``(archive, member)`` for a member path.

        Raises
        ------
        DataError
            ``name`` is neither; the message lists the valid names and member paths.
        """
        for f in self.files:
            if f.name == name:
                return f, None
        for f in self.files:
            for m in f.members:
                if m.path == name:
                    return f, m
        raise DataError(
            f"dataset {self.id!r} has no file or archive member {name!r}; its files are: {self._valid_names()}"
        )

    def sha256_of(self, name: str) -> str:
        """The registered sha256 of file or archive member ``name`` (raises :class:`DataError` as :meth:`locate`)."""
        fspec, member = self.locate(name)
        return member.sha256 if member is not None else fspec.sha256

    def _valid_names(self) -> str:
        names = ", ".join(f.name for f in self.files) or "(none registered)"
        members = ", ".join(m.path for f in self.files for m in f.members)
        return f"{names}; archive members: {members}" if members else names


def load_registry(path: str | os.PathLike[str] = DEFAULT_REGISTRY) -> dict[str, DatasetSpec]:
    """Read and validate the dataset registry.

    Parameters
    ----------
    path : str or os.PathLike
        The registry YAML file.

    Returns
    -------
    dict of str to DatasetSpec
        Dataset id -> :class:`DatasetSpec`, in file order.

    Raises
    ------
    DataError
        The file is missing or unreadable, or a dataset entry is malformed (an id that is not a plain name,
        missing or unknown keys, an unknown access form, a sha256 that is not 64 hex characters, a file name
        that is not a plain name, a URL that is not http(s), a missing or non-positive size for a file with a
        URL, duplicate file names or member paths, an unsafe mirror or member path, a mirror_compression that is
        not xz, gz or bz2 or has no mirror path, no files for a public dataset).
    """
    reg = Path(path)
    try:
        raw = yaml.safe_load(reg.read_text())
    except FileNotFoundError:
        raise DataError(
            f"dataset registry {reg} not found (run from the repository root or pass the registry path)"
        ) from None
    except (OSError, yaml.YAMLError) as exc:
        detail = " ".join(str(exc).split())
        raise DataError(f"dataset registry {reg} cannot be read: {detail}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("datasets"), dict) or not raw["datasets"]:
        raise DataError(f"dataset registry {reg}: expected a top-level mapping 'datasets:' of dataset id -> entry")
    return {str(ds_id): _parse_dataset(reg, str(ds_id), entry) for ds_id, entry in raw["datasets"].items()}


def check_recorded(recorded: Mapping[str, Mapping[str, str]], registry: Mapping[str, DatasetSpec], where: str) -> None:
    """Compare recorded checksums ``{dataset id: {file name: sha256}}`` with the registry.

    Parameters
    ----------
    recorded : mapping
        Checksums as a table's meta records them (``seqstruct.common.provenance.raw_checksums``).
    registry : mapping
        ``load_registry()``.
    where : str
        What recorded them (named in the message), e.g. a meta.json path.

    Raises
    ------
    DataError
        A dataset or file is not registered, or a checksum differs from the registry's.
    """
    for ds_id, files in recorded.items():
        if ds_id not in registry:
            raise DataError(f"{where}: dataset {ds_id!r} is not in the registry; register it or remove the file")
        for name, sha in files.items():
            expected = registry[ds_id].sha256_of(name)
            if sha != expected:
                raise DataError(
                    f"{where}: file {name!r} of dataset {ds_id!r} has sha256 {sha}, the registry says {expected}; "
                    f"the raw file was modified: delete resources/raw/{ds_id}/{name} and run again to fetch it"
                )


def get_dataset(dataset_id: str, registry_path: str | os.PathLike[str] = DEFAULT_REGISTRY) -> DatasetSpec:
    """Return the registered dataset ``dataset_id``.

    Parameters
    ----------
    dataset_id : str
        A dataset id of the registry.
    registry_path : str or os.PathLike
        The registry YAML file.

    Returns
    -------
    DatasetSpec
        The dataset.

    Raises
    ------
    DataError
        The registry is malformed, or the id is not registered; the message lists the known ids, close matches
        and the registry file.
    """
    registry = load_registry(registry_path)
    try:
        return registry[dataset_id]
    except KeyError:
        close = (
            difflib.get_close_matches(dataset_id, list(registry), n=3)
            or [known for known in registry if dataset_id.lower() in known.lower()][:3]
        )
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        raise DataError(
            f"unknown dataset {dataset_id!r} in {registry_path}; {hint}known datasets: {', '.join(registry)}"
        ) from None


def check_file_name(name: str) -> str | None:
    """Say why ``name`` is not a plain file name, or return ``None`` if it is.

    A plain file name is non-empty, has no ``/`` or ``\\``, is not ``.`` or ``..`` and has no NUL or other
    control character, so that ``<dataset folder>/<name>`` is a file directly inside the dataset folder.

    Parameters
    ----------
    name : str
        The file name to check.

    Returns
    -------
    str or None
        A short reason (e.g. ``"contains a NUL character"``), or ``None`` for a plain name.
    """
    if not isinstance(name, str) or not name:
        return "is empty"
    if "\0" in name:
        return "contains a NUL character"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "contains a control character"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if name in {".", ".."}:
        return "is '.' or '..'"
    return None


def check_url(url: str) -> str | None:
    """Say why ``url`` is not a downloadable URL, or return ``None`` if it is.

    Only ``https://`` and ``http://`` URLs with a host are downloaded; ``file:``, ``ftp:``, ``data:`` and any
    other scheme are refused.

    Parameters
    ----------
    url : str
        The URL to check.

    Returns
    -------
    str or None
        A short reason (e.g. ``"is not an https:// or http:// URL (scheme 'file')"``), or ``None``.
    """
    if not isinstance(url, str) or not url:
        return "is empty"
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        return "contains whitespace or a control character"
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:
        return f"cannot be parsed ({exc})"
    if parts.scheme.lower() not in URL_SCHEMES:
        return f"is not an https:// or http:// URL (scheme {parts.scheme.lower() or '(none)'!r})"
    if not parts.netloc:
        return "has no host"
    return None


def check_mirror_path(path: str) -> str | None:
    """Say why ``path`` is not a safe path relative to the mirror root, or return ``None`` if it is.

    Parameters
    ----------
    path : str
        The mirror path to check.

    Returns
    -------
    str or None
        A short reason, or ``None`` for a relative path without ``..`` or NUL characters.
    """
    if not isinstance(path, str) or not path:
        return "is empty"
    if "\0" in path:
        return "contains a NUL character"
    if Path(path).is_absolute() or path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return "is absolute"
    if ".." in PurePosixPath(path.replace("\\", "/")).parts:
        return "contains '..'"
    return None


def check_member_path(path: str) -> str | None:
    """Say why ``path`` is not a safe archive member path, or return ``None`` if it is.

    A safe member path is a non-empty relative POSIX path without backslashes, empty, ``.`` or ``..``
    components, so that ``<dataset folder>/<path>`` stays inside the dataset folder.

    Parameters
    ----------
    path : str
        The member path to check.

    Returns
    -------
    str or None
        A short reason (e.g. ``"is absolute"``), or ``None`` for a safe path.
    """
    if not isinstance(path, str) or not path:
        return "is empty"
    if "\0" in path:
        return "contains a NUL character"
    if "\\" in path:
        return "contains a backslash (use '/')"
    if path.startswith("/") or PurePosixPath(path).is_absolute() or re.match(r"^[A-Za-z]:", path):
        return "is absolute"
    parts = path.split("/")
    if ".." in parts:
        return "contains '..'"
    if any(p in ("", ".") for p in parts):
        return "has an empty or '.' component"
    return None


def _parse_dataset(reg: Path, ds_id: str, entry: Any) -> DatasetSpec:
    where = f"dataset registry {reg}, dataset {ds_id!r}"
    if not _DATASET_ID.fullmatch(ds_id):
        raise DataError(f"{where}: a dataset id {_ID_RULE}; rename it")
    if not isinstance(entry, dict):
        raise DataError(f"{where}: expected a mapping with keys {sorted(_DATASET_KEYS | {'files'})}")
    access = _parse_access(where, entry.get("access", "public"))
    patterns = _parse_patterns(where, entry.get("url_patterns"))
    needs_files = access.kind == "public" and not patterns
    required = _DATASET_KEYS | ({"files"} if needs_files else set())
    _check_keys(where, entry, required, _DATASET_OPTIONAL - required)
    files = entry.get("files") or [] if not needs_files else entry["files"]
    if not isinstance(files, list) or (needs_files and not files):
        raise DataError(
            f"{where}: 'files' must be a non-empty list (only datasets with access api_key or unavailable, or "
            "with url_patterns, may have no files)"
        )
    specs = tuple(_parse_file(f"{where}, file #{i + 1}", f, access) for i, f in enumerate(files))
    _check_unique_names(where, specs)
    return DatasetSpec(
        id=ds_id,
        title=str(entry["title"]),
        license=str(entry["license"]),
        citation=str(entry["citation"]),
        files=specs,
        description=str(entry.get("description") or ""),
        access=access,
        years=_parse_years(where, entry["years"]) if "years" in entry else None,
        url_patterns=patterns,
    )


def _parse_patterns(where: str, raw: Any) -> dict[str, str]:
    """``url_patterns``: a mapping of names to https URL patterns."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        raise DataError(f"{where}: url_patterns must be a non-empty mapping of name -> URL pattern")
    for name, pattern in raw.items():
        if not isinstance(pattern, str) or not pattern.startswith(("https://", "http://")):
            raise DataError(f"{where}: url_patterns.{name} must be an http(s) URL pattern, got {pattern!r}")
    return {str(k): str(v) for k, v in raw.items()}


def _parse_years(where: str, raw: Any) -> tuple[int, int]:
    ok = isinstance(raw, list) and len(raw) == 2 and all(isinstance(y, int) and not isinstance(y, bool) for y in raw)
    if not ok or raw[0] > raw[1]:
        raise DataError(f"{where}: years must be [first, last], two calendar years with first <= last, got {raw!r}")
    return int(raw[0]), int(raw[1])


def _parse_access(where: str, raw: Any) -> Access:
    if raw == "public":
        return PUBLIC
    if not isinstance(raw, dict) or not ({"api_key", "unavailable"} & raw.keys()):
        raise DataError(f"{where}: access must be {_ACCESS_FORMS}, got {raw!r}")
    kind = "api_key" if "api_key" in raw else "unavailable"
    unknown = sorted(set(map(str, raw)) - {kind, "instructions"})
    if unknown:
        raise DataError(f"{where}: access {{{kind}: ...}} has unknown key(s) {', '.join(unknown)}; use {_ACCESS_FORMS}")
    value, instructions = raw[kind], raw.get("instructions", "")
    if not isinstance(instructions, str):
        raise DataError(f"{where}: access 'instructions' must be a string")
    if kind == "api_key":
        if not isinstance(value, str) or not _ENV_VAR.fullmatch(value):
            raise DataError(
                f"{where}: access api_key must name an environment variable (e.g. MY_API_KEY), got {value!r}"
            )
        return Access("api_key", env_var=value, instructions=" ".join(instructions.split()))
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{where}: access unavailable must give the reason as a non-empty string, got {value!r}")
    return Access("unavailable", reason=" ".join(value.split()), instructions=" ".join(instructions.split()))


def _parse_file(where: str, entry: Any, access: Access) -> FileSpec:
    if not isinstance(entry, dict):
        raise DataError(f"{where}: expected a mapping with keys {sorted(_FILE_KEYS | {'mirror'})}")
    required = _FILE_KEYS | ({"mirror"} if access.kind == "public" else set())
    _check_keys(where, entry, required, _FILE_OPTIONAL - required, optional_may_be_empty=False)
    name = str(entry["name"])
    why = check_file_name(name)
    if why:
        raise DataError(f"{where}: file name {name!r} {why}; give a plain file name (it is stored as <id>/<name>)")
    where = f"{where} ({name})"
    sha = _parse_sha(where, entry["sha256"])
    url = entry.get("url")
    if url is not None and not isinstance(url, str):
        raise DataError(f"{where}: url must be a string, got {url!r}")
    if url is not None and access.kind == "unavailable":
        raise DataError(f"{where}: a file of a dataset with access 'unavailable' has no public URL; remove 'url'")
    if url is not None and (why := check_url(url)):
        raise DataError(f"{where}: url {url!r} {why}; {_URL_FIX}")
    size = _parse_size(where, entry.get("size"), url)
    mirror = entry.get("mirror")
    if mirror is not None:
        mirror = str(mirror)
        if why := check_mirror_path(mirror):
            raise DataError(f"{where}: mirror must be a path relative to the mirror root, got {mirror!r} ({why})")
    compression = _parse_compression(where, entry.get("mirror_compression"), mirror)
    members = _parse_members(where, entry["members"]) if "members" in entry else ()
    return FileSpec(
        name=name, url=url, sha256=sha, mirror=mirror, members=members, size=size, mirror_compression=compression
    )


def _parse_compression(where: str, raw: Any, mirror: str | None) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or raw not in MIRROR_COMPRESSIONS:
        raise DataError(
            f"{where}: mirror_compression must be one of {', '.join(MIRROR_COMPRESSIONS)} (how the mirror copy is "
            f"compressed), got {raw!r}; remove it for an uncompressed copy"
        )
    if mirror is None:
        raise DataError(
            f"{where}: mirror_compression {raw!r} needs 'mirror' (the path of the compressed copy in the mirror); "
            "add it, or remove 'mirror_compression'"
        )
    return raw


def _parse_size(where: str, raw: Any, url: str | None) -> int | None:
    if raw is None:
        if url is not None:
            raise DataError(f"{where}: missing key size (required with 'url': {_SIZE_FIX})")
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        raise DataError(f"{where}: size must be a positive number of bytes (an integer, e.g. 726834), got {raw!r}")
    return raw


def _parse_members(where: str, raw: Any) -> tuple[MemberSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{where}: members must be a non-empty list of {{path: <path in the archive>, sha256: ...}}")
    members = []
    for i, entry in enumerate(raw):
        at = f"{where}, member #{i + 1}"
        if not isinstance(entry, dict):
            raise DataError(f"{at}: expected a mapping with keys {sorted(_MEMBER_KEYS)}")
        _check_keys(at, entry, _MEMBER_KEYS, set())
        path = entry["path"]
        if not isinstance(path, str):
            raise DataError(f"{at}: member path must be a string, got {path!r}")
        why = check_member_path(path)
        if why:
            raise DataError(f"{at}: member path {path!r} {why}; give a relative path inside the archive")
        members.append(MemberSpec(path=path, sha256=_parse_sha(f"{at} ({path})", entry["sha256"])))
    return tuple(members)


def _parse_sha(where: str, sha: Any) -> str:
    if not isinstance(sha, str):
        raise DataError(f"{where}: sha256 must be a string of 64 hex characters (quote it in YAML)")
    if not _SHA256.fullmatch(sha):
        raise DataError(f"{where}: sha256 must be 64 hex characters, got {sha!r}")
    return sha.lower()


def _check_unique_names(where: str, files: tuple[FileSpec, ...]) -> None:
    names = [f.name for f in files]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(f"{where}: duplicate file names: {', '.join(dupes)}")
    paths = [m.path for f in files for m in f.members]
    dupes = sorted({p for p in paths if paths.count(p) > 1})
    if dupes:
        raise DataError(f"{where}: duplicate archive member paths: {', '.join(dupes)}")
    taken = set(names) | set(paths)
    for path in paths:
        parts = path.split("/")
        clash = (
            path
            if path in names
            else next(("/".join(parts[:i]) for i in range(1, len(parts)) if "/".join(parts[:i]) in taken), None)
        )
        if clash is not None:
            raise DataError(
                f"{where}: archive member path {path!r} clashes with the file or member {clash!r} (both would live "
                "under the dataset folder); give the member a path that no file or member uses"
            )


def _check_keys(
    where: str, entry: dict[str, Any], required: set[str], optional: set[str], optional_may_be_empty: bool = True
) -> None:
    missing = sorted(required - entry.keys())
    if missing:
        raise DataError(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = sorted(set(map(str, entry)) - required - optional)
    if unknown:
        raise DataError(f"{where}: unknown key(s) {', '.join(unknown)}")
    checked = required | (set() if optional_may_be_empty else optional & entry.keys())
    empty = sorted(k for k in checked if entry[k] in (None, ""))
    if empty:
        raise DataError(f"{where}: empty value for key(s) {', '.join(empty)}")

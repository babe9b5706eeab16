"""Blobs port on a local directory: one file per object, written atomically.

Every write goes to a temporary file in the target's own directory and is then moved into
place (`os.replace`), so a reader sees the old object or the new one, never a partial file.
`if_absent` publishes with `os.link`, which fails when the name exists: the check and the
write are one step, even across processes. The content type travels with the file as an
extended attribute set before the move; where the filesystem has no user xattrs, it goes
to a sidecar file under `.meta/` instead.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

from shared.adapters.blob_keys import check_key, check_prefix
from shared.errors import ConflictError, InvalidInputError, NotFoundError

XATTR = "user.farm.content_type"
META_DIR = ".meta"
TMP_PREFIX = ".~farm-tmp-"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class DirectoryBlobStore:
    """Objects stored as files under `root`, keys mapped to relative paths."""

    def __init__(self, root: Path, *, use_xattr: bool | None = None) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._use_xattr = _xattr_supported(self.root) if use_xattr is None else use_xattr

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        if_absent: bool = False,
    ) -> None:
        """Store `data` at `key`; with `if_absent`, ConflictError when the key exists."""
        path = self._path(key)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInputError(f"blob data must be bytes, got {type(data).__name__}")
        tmp = self._write_temp(path, bytes(data), content_type)
        try:
            if if_absent:
                self._link_new(tmp, path, key)
            else:
                self._replace(tmp, path, key)
        finally:
            _unlink_quietly(tmp)
        if not self._use_xattr:
            self._write_sidecar(key, content_type)

    def get(self, key: str) -> bytes:
        """Return the object's bytes; NotFoundError when missing."""
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFoundError(f"no blob at {key!r}") from None

    def exists(self, key: str) -> bool:
        """Whether an object is stored at `key`."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Delete the object (no error when missing) and prune directories it leaves empty."""
        path = self._path(key)
        if path.is_dir():
            return
        _unlink_quietly(path)
        self._prune(path.parent)
        if not self._use_xattr:
            meta = self.root / META_DIR / key
            _unlink_quietly(meta)
            self._prune(meta.parent)

    def list(self, prefix: str = "") -> list[str]:
        """Keys that start with `prefix`, sorted."""
        check_prefix(prefix)
        if prefix.startswith(META_DIR + "/"):
            return []  # reserved for sidecars: no blob lives there
        base = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            if Path(dirpath) == self.root and META_DIR in dirnames:
                dirnames.remove(META_DIR)
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith(TMP_PREFIX):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def content_type(self, key: str) -> str:
        """Return the content type the object was stored with; NotFoundError when missing."""
        path = self._path(key)
        if not path.is_file():
            raise NotFoundError(f"no blob at {key!r}")
        try:
            if self._use_xattr:
                return os.getxattr(path, XATTR).decode("utf-8")
            return (self.root / META_DIR / key).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return DEFAULT_CONTENT_TYPE  # written by hand, or the sidecar lost a race with delete

    # -- internals -------------------------------------------------------------------------

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own files."""

    def _path(self, key: str) -> Path:
        check_key(key)
        if key == META_DIR or key.startswith(META_DIR + "/"):
            raise InvalidInputError(f"blob keys under {META_DIR!r} are reserved")
        if key.rpartition("/")[2].startswith(TMP_PREFIX):
            raise InvalidInputError(f"blob names starting with {TMP_PREFIX!r} are reserved")
        return self.root / key

    def _write_temp(self, path: Path, data: bytes, content_type: str) -> Path:
        # A concurrent delete may prune the directory between mkdir and open: try again.
        for _ in range(5):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.parent / f"{TMP_PREFIX}{secrets.token_hex(8)}"
                with open(tmp, "xb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                break
            except FileNotFoundError:
                continue
            except (FileExistsError, NotADirectoryError):
                raise ConflictError(
                    f"blob key {path.relative_to(self.root)} runs through an existing blob"
                ) from None
        else:
            raise ConflictError(f"could not create a folder for {path.relative_to(self.root)}")
        if self._use_xattr:
            try:
                os.setxattr(tmp, XATTR, content_type.encode("utf-8"))
            except OSError:
                _unlink_quietly(tmp)
                raise
        return tmp

    def _link_new(self, tmp: Path, path: Path, key: str) -> None:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise ConflictError(f"a blob already exists at {key!r}") from None
        except IsADirectoryError:
            raise ConflictError(f"blob key {key!r} is a folder of other blobs") from None

    def _replace(self, tmp: Path, path: Path, key: str) -> None:
        try:
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST):
                raise ConflictError(f"blob key {key!r} is a folder of other blobs") from None
            raise

    def _write_sidecar(self, key: str, content_type: str) -> None:
        meta = self.root / META_DIR / key
        meta.parent.mkdir(parents=True, exist_ok=True)
        tmp = meta.parent / f"{TMP_PREFIX}{secrets.token_hex(8)}"
        tmp.write_text(content_type, "utf-8")
        os.replace(tmp, meta)

    def _prune(self, directory: Path) -> None:
        while directory != self.root and self.root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return  # not empty (or already gone): stop climbing
            directory = directory.parent


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        pass


def _xattr_supported(root: Path) -> bool:
    if not hasattr(os, "setxattr"):
        return False  # not Linux
    probe = root / f"{TMP_PREFIX}probe-{secrets.token_hex(4)}"
    try:
        probe.touch()
        os.setxattr(probe, XATTR, b"probe")
        return True
    except OSError:
        return False
    finally:
        _unlink_quietly(probe)

"""Files that are safe to write: never over an input, never half written, readable by the owner only.

* :func:`refuse_overwrite` refuses an output path that is an input (the same file by any spelling:
  a relative path, a symbolic link, a hard link), or two outputs that are one file, before anything
  is opened for writing (docs/interpretations.md §73).
* :func:`atomic` writes to a temporary file in the target's directory and renames it over the
  target only when the writing finished; on an error the target is left as it was.
* Every file written here is created owner-only (mode 0600): the DCF database, reject files,
  documents, print files, decisions (they hold SSNs). :func:`private_file` creates an empty file
  so (SQLite then keeps the mode for its database, WAL and shared-memory files).

Standard library only, so any layer may use it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

PRIVATE = 0o600
"""Owner read and write only."""


class SamePathError(ValueError):
    """An output would overwrite an input (or another output)."""


def _key(path: Path) -> Path:
    return Path(os.path.abspath(path)).resolve(strict=False)


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file: the same resolved path (symbolic links and ``..`` followed),
    or, when both exist, the same device and inode (hard links)."""
    if _key(a) == _key(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): different files
        return False


def refuse_overwrite(inputs: Mapping[str, Path | None], outputs: Mapping[str, Path | None]) -> None:
    """Raise :class:`SamePathError` when an output is an input or two outputs are one file.

    ``inputs`` and ``outputs`` map what the user calls a path (``FILE``, ``--rejects``) to the path.
    """
    ins = [(k, Path(v)) for k, v in inputs.items() if v is not None]
    outs = [(k, Path(v)) for k, v in outputs.items() if v is not None]
    for oname, opath in outs:
        for iname, ipath in ins:
            if same_file(opath, ipath):
                raise SamePathError(f"{oname} {opath} is {iname} {ipath}: writing it would destroy the input; "
                                    "name another file (nothing was written)")
    for i, (aname, apath) in enumerate(outs):
        for bname, bpath in outs[i + 1:]:
            if same_file(apath, bpath):
                raise SamePathError(f"{aname} and {bname} are one file ({apath}); name two files "
                                    "(nothing was written)")


@contextmanager
def atomic(path: Path, mode: str = "w", *, encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` (mode 0600) for writing; on success it replaces ``path``.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600
    try:
        binary = "b" in mode
        with os.fdopen(fd, mode, encoding=None if binary else encoding, newline=None if binary else "") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class Staged:
    """Several outputs written side by side to temporary files and renamed together at the end
    (:meth:`commit`), or all removed (:meth:`discard`). For a streamed run with an output and a reject
    file: neither replaces an earlier file until the run has finished."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.targets = [Path(p) for p in paths]
        self.temps: list[Path] = []
        for p in self.targets:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
            os.close(fd)
            self.temps.append(Path(tmp))

    def temp(self, target: Path) -> Path:
        return self.temps[self.targets.index(Path(target))]

    def commit(self) -> None:
        for tmp, target in zip(self.temps, self.targets, strict=True):
            os.chmod(tmp, PRIVATE)  # a writer that re-created the file keeps it owner-only
            os.replace(tmp, target)
        self.temps = []

    def discard(self) -> None:
        for tmp in self.temps:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        self.temps = []

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


_LINE_BREAKERS = re.compile("[\x80-\x9f\u2028\u2029]")


def jsonl_line(obj: Any) -> str:
    """``obj`` as one line of JSON Lines, readable text kept as is (``ensure_ascii=False``) but the characters
    some readers take for a line break (C1 controls such as NEL, U+2028, U+2029) escaped, so one record
    is always one line whoever splits the file."""
    return _LINE_BREAKERS.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(obj, ensure_ascii=False))


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, owner-only."""
    with atomic(path, "w") as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, owner-only."""
    with atomic(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def private_file(path: Path) -> None:
    """Create ``path`` empty and owner-only if it does not exist (an existing file is left as it is; a
    path that cannot be created is left to whoever opens it next, to report)."""
    try:
        fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except OSError:  # it exists, or its directory does not
        return
    os.close(fd)


def file_sha256(path: Path) -> str:
    """The file's content SHA-256 (hex), read in blocks of 1 MiB (bounded memory): how an input file is
    named in the DCF (ingest runs, M/PR imports, population changes)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

"""Enrolled speakers on disk: a thin layer over the C++ SpeakerStore (JSON, atomic writes).

A store file may be shared by several processes (two `mt2kd-edge enroll` at once): change it
with :meth:`SpeakerStore.editing`, which holds an exclusive lock while it reloads the file,
applies the change and saves, so no writer loses another's enrollments. Saving keeps the file's
mode; a new store is created 0600 (voiceprints are personal data).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from . import _core
from .results import SpeakerMatch


class SpeakerStoreError(ValueError):
    """A speaker file is corrupt or foreign (it is never overwritten), cannot be written, or a
    name is unknown or unusable."""


def check_name(name: str) -> str:
    """``name`` if it can name a speaker (1-256 bytes of UTF-8, no control characters), else
    SpeakerStoreError. Checked here as well as in the core: a str that is not UTF-8 (from a
    command line in another encoding) cannot even be passed to it."""
    shown = repr(name[:40]) + ("..." if len(name) > 40 else "") if isinstance(name, str) else repr(name)
    if not isinstance(name, str):
        raise SpeakerStoreError(f"speaker name must be a string, got {type(name).__name__}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise SpeakerStoreError(f"speaker name {shown} is not valid UTF-8") from None
    problem = _core.speaker_name_problem(name)
    if problem:
        raise SpeakerStoreError(f"speaker name {shown} {problem}")
    return name


def _write_error(path: Path, e: Exception) -> SpeakerStoreError:
    reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
    return SpeakerStoreError(f"{path}: cannot write the speaker store ({reason})")


class SpeakerStore:
    """Speakers enrolled by name. ``path`` is read if it exists; ``save()`` writes it atomically."""

    def __init__(self, embedding_dim: int, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path else None
        if self.path and self.path.exists():
            try:
                self._store = _core.SpeakerStore.load(str(self.path))
            except ValueError as e:
                raise SpeakerStoreError(str(e)) from None
            if self._store.embedding_dim != embedding_dim:
                raise SpeakerStoreError(f"{self.path}: holds {self._store.embedding_dim}-d embeddings; this model "
                                        f"makes {embedding_dim}-d ones (enrolled with another model?)")
        else:
            self._store = _core.SpeakerStore(embedding_dim)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SpeakerStore":
        """Open an existing store with whatever embedding size it holds."""
        try:
            core = _core.SpeakerStore.load(str(path))
        except ValueError as e:
            raise SpeakerStoreError(str(e)) from None
        store = cls.__new__(cls)
        store.path, store._store = Path(path), core
        return store

    @classmethod
    @contextlib.contextmanager
    def editing(cls, path: str | os.PathLike, embedding_dim: int | None = None) -> Iterator["SpeakerStore"]:
        """Read-modify-write of a (possibly shared) store file: takes an exclusive lock on
        ``PATH.lock``, reloads the file, yields the store and saves it if the block succeeds.
        ``embedding_dim``: for a store that may not exist yet (None: it must exist)."""
        path = Path(path)
        lock = path.with_name(path.name + ".lock")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise _write_error(path, e) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd closes, even if this process is killed
            if embedding_dim is None:
                if not path.exists():
                    raise SpeakerStoreError(f"{path}: no speaker store yet (enroll someone first)")
                store = cls.load(path)
            else:
                store = cls(embedding_dim, path)  # the file as it is now, after any other writer
            yield store
            store.save(path)
        finally:
            os.close(fd)

    @property
    def core(self) -> "_core.SpeakerStore":
        """The C++ store itself: the core names the speakers of stream events with it."""
        return self._store

    def enroll(self, name: str, embedding: np.ndarray) -> None:
        check_name(name)
        try:
            self._store.enroll(name, np.asarray(embedding, dtype=np.float32))
        except ValueError as e:
            raise SpeakerStoreError(str(e)) from None

    def identify(self, embedding: np.ndarray, threshold: float) -> SpeakerMatch:
        m = self._store.identify(np.asarray(embedding, dtype=np.float32), threshold)
        return SpeakerMatch(m.name, float(m.score))

    def verify(self, name: str, embedding: np.ndarray, threshold: float) -> tuple[float, bool]:
        """-> (score, accepted). Raises SpeakerStoreError for a name nobody enrolled."""
        check_name(name)
        try:
            v = self._store.verify(name, np.asarray(embedding, dtype=np.float32), threshold)
        except ValueError as e:
            raise SpeakerStoreError(str(e)) from None
        return float(v.score), bool(v.accepted)

    def remove(self, name: str) -> None:
        check_name(name)
        if not self._store.remove(name):
            raise SpeakerStoreError(f"unknown speaker '{name}'")

    def names(self) -> list[str]:
        return list(self._store.names())

    def num_utterances(self, name: str) -> int:
        return self._store.num_utterances(name)

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the store atomically; the file keeps its mode (a new one is 0600). This replaces
        the file with this store: to add to a file others may write too, use :meth:`editing`."""
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no path to save the speaker store to")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._store.save(str(target))
        except (OSError, RuntimeError) as e:  # the core raises RuntimeError naming the file
            raise (_write_error(target, e) if isinstance(e, OSError) else SpeakerStoreError(str(e))) from None
        return target

    def __len__(self) -> int:
        return len(self.names())

    def __contains__(self, name: str) -> bool:
        return name in self.names()

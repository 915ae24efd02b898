"""Enrolled speakers on disk: a thin layer over the C++ SpeakerStore (JSON, atomic writes)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import _core
from .results import SpeakerMatch


class SpeakerStoreError(ValueError):
    """A speaker file is corrupt or foreign (it is never overwritten), or a name is unknown."""


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

    def enroll(self, name: str, embedding: np.ndarray) -> None:
        self._store.enroll(name, np.asarray(embedding, dtype=np.float32))

    def identify(self, embedding: np.ndarray, threshold: float) -> SpeakerMatch:
        m = self._store.identify(np.asarray(embedding, dtype=np.float32), threshold)
        return SpeakerMatch(m.name, float(m.score))

    def verify(self, name: str, embedding: np.ndarray, threshold: float) -> tuple[float, bool]:
        """-> (score, accepted). Raises SpeakerStoreError for a name nobody enrolled."""
        try:
            v = self._store.verify(name, np.asarray(embedding, dtype=np.float32), threshold)
        except ValueError as e:
            raise SpeakerStoreError(str(e)) from None
        return float(v.score), bool(v.accepted)

    def remove(self, name: str) -> None:
        if not self._store.remove(name):
            raise SpeakerStoreError(f"unknown speaker '{name}'")

    def names(self) -> list[str]:
        return list(self._store.names())

    def num_utterances(self, name: str) -> int:
        return self._store.num_utterances(name)

    def save(self, path: str | os.PathLike | None = None) -> Path:
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no path to save the speaker store to")
        target.parent.mkdir(parents=True, exist_ok=True)
        self._store.save(str(target))
        return target

    def __len__(self) -> int:
        return len(self.names())

    def __contains__(self, name: str) -> bool:
        return name in self.names()

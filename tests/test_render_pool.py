"""The corpus render pool stops at the first failed item instead of rendering the rest of its queue first."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from train.data import build


def failing_render(item: dict, out_dir: str) -> None:
    (Path(out_dir) / f"{item['id']}.started").touch()
    time.sleep(0.05)
    raise RuntimeError(f"rendering speech item {item['id']} failed: made up")


def test_a_failed_item_is_reported_before_the_queue_drains(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "render_item", failing_render)  # the workers fork, so they see it too
    items = [{"kind": "speech", "split": "train", "id": f"u{i:03d}", "seed": i} for i in range(60)]
    with pytest.raises(RuntimeError, match="rendering speech item u.* failed"):
        build.render_all(items, tmp_path, workers=2, desc="test")
    started = len(list(tmp_path.glob("*.started")))
    assert 1 <= started < 20, f"{started} of 60 items were started after the first failure"

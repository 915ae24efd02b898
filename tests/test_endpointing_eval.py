"""The endpointer's dev-conversation scoring (train/evaluation/endpointing.py): what counts as a found turn
change and a false split, and the command on a real built corpus and exported model."""

from __future__ import annotations

import json

import pytest

from train.evaluation import endpointing as ep

TURNS = [{"start_s": 0.4, "end_s": 2.0, "text": "a"}, {"start_s": 3.2, "end_s": 5.0, "text": "b"},
         {"start_s": 6.2, "end_s": 8.0, "text": "c"}]


def finals(*ends_ms: float) -> list[dict]:
    return [{"end_ms": e, "text": ""} for e in ends_ms]


def test_a_final_in_each_gap_is_an_exact_cut():
    assert ep.score(finals(2900, 5900, 9000), TURNS) == {"changes": 2, "found": 2, "false_splits": 0, "exact": 1}


def test_an_endpoint_may_land_a_little_into_the_next_turn_but_not_more():
    late = 3200 + ep.LATE_MS
    assert ep.score(finals(late, 5900, 9000), TURNS)["found"] == 2
    r = ep.score(finals(late + 1, 5900, 9000), TURNS)
    assert (r["found"], r["false_splits"], r["exact"]) == (1, 1, 0)


def test_one_segment_for_the_whole_conversation_finds_nothing_and_the_last_final_is_no_decision():
    assert ep.score(finals(9000), TURNS) == {"changes": 2, "found": 0, "false_splits": 0, "exact": 0}
    assert ep.score([], TURNS)["found"] == 0


def test_a_cut_inside_a_turn_is_a_false_split():
    r = ep.score(finals(1000, 2900, 5900, 9000), TURNS)
    assert (r["found"], r["false_splits"], r["exact"]) == (2, 1, 0)


@pytest.mark.slow
def test_the_command_scores_each_setting_on_dev_conversations(ci_corpus, tiny_export, tmp_path, capsys):
    out = tmp_path / "endpointing.json"
    assert ep.main(["--model", str(tiny_export["dir"]), "--corpus", str(ci_corpus), "--conversations", "3",
                    "--trailing-silence-ms", "320,800", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["conversations"] == 3 and len(report["rows"]) == 4  # 2 silences x the two rules
    assert {r["tagger_vote_with_text"] for r in report["rows"]} == {False, True}
    for row in report["rows"]:
        assert row["changes"] == 6 and 0 <= row["found"] <= 6 and 0 <= row["wer"]
    assert "best:" in capsys.readouterr().out
    assert ep.main(["--model", str(tiny_export["dir"]), "--corpus", str(tmp_path / "none")]) == 2

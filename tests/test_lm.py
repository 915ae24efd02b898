"""The word LM: the in-project Kneser-Ney builder (train/lm.py), its ARPA and binary forms as the C++ core
reads them, what text goes in (never held-out sentences), and the LM in a model directory (model.json,
manifest, --lm / --no-lm, one-line errors for missing or corrupt files), chunking invariance with it on."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mt2kd_edge import _core
from mt2kd_edge.engine import Engine
from mt2kd_edge.model_files import ModelFileError
from mt2kd_edge.synthetic import speech_like
from train import lm as lmb

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ["the cat is on the mat", "the cat sat", "a cat is a cat", "the mat is red", "is the cat on a mat",
             "the red cat sat on the mat", "a mat", "on the mat the cat is", "big is the mat"]
# (chosen so that every count-of-count the discount estimates need is there: no fallback discount)


def naive_kn_bigram(sentences: list[str]) -> dict:
    """Interpolated modified Kneser-Ney for order 2, written out directly from Chen and Goodman's
    formulas with dictionaries: the reference the vectorised builder is checked against."""
    big, uni_left = Counter(), {}
    words = set()
    for s in sentences:
        toks = ["<s>", *s.split(), "</s>"]
        words.update(toks)
        for a, b in zip(toks, toks[1:]):
            big[(a, b)] += 1
    for (a, b) in big:
        uni_left.setdefault(b, set()).add(a)
    uni = {w: len(uni_left.get(w, ())) for w in words if w != "<s>"}
    uni["<unk>"] = 0
    vocab_size = len(uni)  # every word that can follow, <unk> included

    def discounts(counts):
        n = [sum(1 for c in counts if c == k) for k in range(1, 5)]
        y = n[0] / (n[0] + 2 * n[1])
        return [1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]]

    def d(c, ds):
        return ds[min(c, 3) - 1] if c > 0 else 0.0

    du = discounts([c for c in uni.values() if c > 0])
    total = sum(uni.values())
    gamma0 = sum(d(c, du) for c in uni.values()) / total
    p1 = {w: (c - d(c, du)) / total + gamma0 / vocab_size for w, c in uni.items()}
    db = discounts(list(big.values()))
    ctx_total = Counter()
    for (a, _), c in big.items():
        ctx_total[a] += c
    gamma = {a: sum(d(c, db) for (x, _), c in big.items() if x == a) / t for a, t in ctx_total.items()}
    p2 = {(a, b): (c - d(c, db)) / ctx_total[a] + gamma[a] * p1[b] for (a, b), c in big.items()}
    return {"p1": p1, "p2": p2, "gamma": gamma}


def test_kneser_ney_matches_the_formulas_written_out():
    ref = naive_kn_bigram(SENTENCES)
    vocab, tables = lmb.estimate(SENTENCES, order=2)
    v = len(vocab)
    uni, bi = tables
    for w, p in ref["p1"].items():
        assert math.exp(uni.log_prob[vocab.index(w)]) == pytest.approx(p, rel=1e-9), w
    got = {(vocab[c // v], vocab[c % v]): math.exp(lp) for c, lp in zip(bi.codes, bi.log_prob)}
    assert got.keys() == ref["p2"].keys()
    for key, p in ref["p2"].items():
        assert got[key] == pytest.approx(p, rel=1e-9), key
    for a, g in ref["gamma"].items():
        assert math.exp(uni.log_backoff[vocab.index(a)]) == pytest.approx(g, rel=1e-9), a


@pytest.mark.parametrize("cutoffs", [[1, 1, 1], [1, 1, 2], [1, 2, 2]])
def test_every_conditional_distribution_sums_to_one_even_pruned(cutoffs):
    vocab, tables = lmb.estimate(SENTENCES * 2 + ["the cat is red", "red is the mat"], 3, cutoffs)
    v = len(vocab)
    contexts = [("<s>",), ("the",), ("<s>", "the"), ("the", "cat"), ("cat", "is"), ("on", "the"), ("mat", "xyz"),
                ("a", "a")]
    for ctx in contexts:
        ids = [vocab.index(w) if w in vocab else 0 for w in ctx]
        codes = np.array([sum(i * v ** (len(ids) - k) for k, i in enumerate(ids)) + w for w in range(v) if w != 1])
        total = lmb._model_prob(tables[:len(ids) + 1], codes, v).sum()
        assert total == pytest.approx(1.0, abs=1e-9), (ctx, cutoffs)


def test_arpa_and_binary_forms_score_alike_and_fit_the_budget(tmp_path):
    big = [f"{a} {b} {c}" for a in ("the", "a", "one") for b in ("cat", "dog", "mat", "red", "big")
           for c in ("sat", "ran", "is", "was")] * 3 + SENTENCES
    full = lmb.build_lm(big, 3, 10**9, log=lambda *_: None)
    budget = full.bytes - 1  # one byte short of the unpruned model: the builder must prune
    pruned = lmb.build_lm(big, 3, budget, log=lambda *_: None)
    assert pruned.cutoffs != [1, 1, 1] and pruned.bytes <= budget
    out, arpa = tmp_path / "lm.bin", tmp_path / "lm.arpa.gz"
    lmb.write_lm(pruned, out, arpa)
    assert out.stat().st_size == pruned.bytes  # the size estimate is the file's size exactly
    binary = _core.NgramLm.load(str(out))
    import gzip

    (tmp_path / "lm.arpa").write_bytes(gzip.decompress(arpa.read_bytes()))
    text = _core.NgramLm.load(str(tmp_path / "lm.arpa"))
    assert binary.order == 3 and binary.counts == [len(t.codes) for t in pruned.tables]
    for sentence in ("the cat sat", "a dog was", "zebra cat", "the mat is red"):
        assert binary.sentence_score(sentence.split()) == text.sentence_score(sentence.split())
    assert binary.sentence_score("the cat sat".split()) > binary.sentence_score("sat cat the".split())
    assert not binary.knows("zebra") and binary.knows("cat")
    with pytest.raises(ValueError, match="gzip"):
        _core.NgramLm.load(str(arpa))


def test_the_training_text_never_holds_a_held_out_sentence(ci_corpus, tmp_path):
    from train.data.text import read_corpus_sentences

    text = lmb.training_text(ci_corpus)
    held = set()
    for split in ("dev", "test", "realdev"):
        path = ci_corpus / "manifests" / f"speech_cuts_{split}.jsonl.gz"
        if path.is_file():
            held |= {lmb.normalise(t) for t in lmb.manifest_texts(path)}
    assert held and not held & set(text.sentences)
    planned = lmb.plan_heldout_sentences("ci", 0, read_corpus_sentences())
    assert {lmb.normalise(t) for t in planned} & set(text.sentences) == set()
    train = {lmb.normalise(t) for t in lmb.manifest_texts(ci_corpus / "manifests" / "speech_cuts_train.jsonl.gz")}
    assert train <= set(text.sentences)  # every training transcript is in
    # the plan's held-out draw is the builder's: every test sentence it rendered is one of them
    assert held - {lmb.normalise(t) for t in planned} <= {lmb.normalise(t) for t in
                                                          lmb.manifest_texts(ci_corpus / "manifests" /
                                                                             "speech_cuts_realdev.jsonl.gz")}
    extra = tmp_path / "more.txt"
    extra.write_text(text.sentences[0].upper() + "\n")
    assert text.sentences[0] not in lmb.training_text(ci_corpus, exclude=[extra]).sentences


def lm_model(tiny_export, tmp_path: Path) -> Path:
    """The tiny exported model with a word LM over its own tokens' words installed."""
    model = tmp_path / "model"
    shutil.copytree(tiny_export["dir"], model)
    built = lmb.build_lm(SENTENCES * 3, 3, 10**6, log=lambda *_: None)
    lmb.write_lm(built, tmp_path / "lm.bin")
    lmb.install_lm(model, tmp_path / "lm.bin", lm_weight=0.5, word_bonus=1.0, oov_penalty=4.0, beam_size=4)
    return model


def test_a_model_directory_decodes_with_its_lm_by_default(tiny_export, tmp_path):
    model = lm_model(tiny_export, tmp_path)
    meta = json.loads((model / "model.json").read_text())
    assert meta["decoding"]["lm"] == "lm.bin" and (model / "lm.bin").is_file()
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["files"]["lm.bin"]["bytes"] == (model / "lm.bin").stat().st_size
    engine = Engine.from_dir(model)  # verified against the updated manifest
    assert engine.decoding["beam_size"] == 4 and engine.decoding["lm"].endswith("lm.bin")
    assert engine.decoding["lm_weight"] == 0.5 and engine.decoding["oov_penalty"] == 4.0
    assert Engine.from_dir(model, lm=None).decoding["lm"] is None  # --no-lm
    assert Engine.from_dir(model, beam_size=1).decoding == {**engine.decoding, "beam_size": 1, "lm": None}  # greedy
    other = tmp_path / "other.arpa"
    other.write_text(lmb.arpa_text(*lmb.estimate(["the cat"], 2)))
    assert Engine.from_dir(model, lm=other).decoding["lm"] == str(other)  # --lm FILE
    with pytest.raises(ValueError, match="an LM needs beam search"):
        Engine.from_dir(model, lm=other, beam_size=1)
    # a plain directory without a decoding section still decodes greedily, as before
    assert Engine.from_dir(tiny_export["dir"]).decoding["lm"] is None
    assert Engine.from_dir(tiny_export["dir"]).decoding["beam_size"] == 1


def test_missing_or_corrupt_lm_files_give_one_line_errors(tiny_export, tmp_path):
    model = lm_model(tiny_export, tmp_path)
    with pytest.raises(ModelFileError, match=r"no_such\.bin: LM file not found"):
        Engine.from_dir(model, lm=tmp_path / "no_such.bin")
    data = bytearray((model / "lm.bin").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model / "lm.bin").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="lm.bin: contents do not match the sha256"):
        Engine.from_dir(model)
    with pytest.raises(ModelFileError, match=r"lm.bin: corrupt LM \(checksum mismatch"):
        Engine.from_dir(model, verify=False)
    (tmp_path / "bad.arpa").write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0\tthe\n")
    with pytest.raises(ModelFileError, match=r"bad\.arpa:\d+: not a valid ARPA LM") as error:
        Engine.from_dir(model, lm=tmp_path / "bad.arpa")
    assert "\n" not in str(error.value)
    (model / "lm.bin").unlink()
    with pytest.raises(ModelFileError, match="lm.bin: LM file not found"):
        Engine.from_dir(model, verify=False)
    meta = json.loads((model / "model.json").read_text())
    meta["decoding"]["lm"] = "../../etc/passwd"
    (model / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="must name a file inside the model directory"):
        Engine.from_dir(model, verify=False)


def transcribe(engine: Engine, audio: np.ndarray, pieces: list[int] | None = None):
    s = engine.create_stream()
    bounds = np.cumsum(pieces) if pieces else []
    for piece in np.split(audio, [b for b in bounds if b < len(audio)]):
        s.accept_waveform(16000, piece)
        engine.decode_all(s)
    s.input_finished()
    engine.decode_all(s)
    return s.transcript()


@pytest.fixture(scope="module")
def lm_engine(tiny_export, tmp_path_factory):
    model = lm_model(tiny_export, tmp_path_factory.mktemp("lm_engine"))
    return Engine.from_dir(model, hotwords=["the mat", ("cats", 3.0)])


CLIP = speech_like(4.0, seed=5)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.integers(min_value=1, max_value=9000), min_size=1, max_size=12))
def test_with_the_lm_on_results_do_not_depend_on_how_audio_is_chunked(lm_engine, pieces):
    whole = transcribe(lm_engine, CLIP)
    assert whole.text, "the tiny model spells something here, so the LM has words to score"
    assert transcribe(lm_engine, CLIP, pieces) == whole  # text, tokens, times and words


def test_the_lm_changes_what_the_beam_finds(lm_engine, tiny_export):
    plain = Engine.from_dir(tiny_export["dir"], beam_size=4)
    texts = [transcribe(e, speech_like(3.0, seed=s)).text for s in range(4) for e in (plain, lm_engine)]
    assert texts[0::2] != texts[1::2]  # fused with the LM the search goes elsewhere on some clip


def test_lm_command_line_builds_installs_and_scores(ci_corpus, tiny_export, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_export["dir"], model)
    out = subprocess.run([sys.executable, "-m", "train.lm", "build", "--corpus", str(ci_corpus), "--install", str(model),
                          "--no-text-sources", "--max-bytes", "300000", "--arpa", str(tmp_path / "lm.arpa")],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "held-out ones left out" in out.stdout and (model / "lm.bin").stat().st_size <= 300000
    assert Engine.from_dir(model).decoding["lm"] == str(model / "lm.bin")
    out = subprocess.run([sys.executable, "-m", "train.lm", "wer", "--model", str(model), "--cuts",
                          str(ci_corpus / "manifests" / "speech_cuts_test.jsonl.gz"), "--limit", "3", "--json"],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert set(result["wer"]) == {"greedy", "beam", "beam+lm"}
    assert result["wer"]["beam+lm"]["decoding"]["lm"] and result["wer"]["greedy"]["decoding"]["beam_size"] == 1
    out = subprocess.run([sys.executable, "-m", "train.lm", "tune", "--model", str(model), "--cuts",
                          str(ci_corpus / "manifests" / "speech_cuts_dev.jsonl.gz"), "--limit", "3", "--lm-weights",
                          "0.2,0.6", "--word-bonuses", "1.5", "--oov-penalties", "4", "--install"],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    decoding = json.loads((model / "model.json").read_text())["decoding"]
    assert decoding["lm_weight"] in (0.2, 0.6) and (decoding["word_bonus"], decoding["oov_penalty"]) == (1.5, 4)
    assert decoding["lm_info"]["tuned_on"] == ["speech_cuts_dev.jsonl.gz"] and "ngrams" in decoding["lm_info"]
    assert Engine.from_dir(model).decoding["word_bonus"] == 1.5  # the manifest still verifies
    bad = subprocess.run([sys.executable, "-m", "train.lm", "build", "--out", str(tmp_path / "x.bin"), "--exclude",
                          str(tmp_path / "missing.txt")], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "missing.txt: file to exclude not found" in bad.stderr


def test_bench_times_the_decoder_against_the_encoder(tiny_export, tmp_path):
    from mt2kd_edge.bench import format_table, run_bench

    model = lm_model(tiny_export, tmp_path)
    result = run_bench(model, None, 2.0, (1,))
    rows = {r["what"]: r for r in result["decoding_rows"]}
    assert set(rows) == {"executorch int8, greedy", "executorch int8, beam 4", "executorch int8, beam 4 + LM"}
    for r in rows.values():
        assert "error" not in r and r["decoder_ms_per_chunk"] > 0 and r["model_ms_per_chunk"] > 0
    assert rows["executorch int8, beam 4 + LM"]["decoding"]["lm"]
    assert result["ratios"]["decoder_beam4_lm_vs_encoder_1core"] == rows["executorch int8, beam 4 + LM"]["decoder_vs_model"]
    assert "lm.bin" in result["model_bytes"] and "decoder / model" in format_table(result)

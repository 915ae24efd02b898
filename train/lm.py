"""The word language model the beam search fuses in: built from training text only, scored with WER.

    python -m train.lm build --corpus data/corpus-default --out build/lm.bin      # from a built corpus
    python -m train.lm build --preset default --exclude models/default/demo/demo.json \\
        --install models/default                                                 # into a model directory
    python -m train.lm wer --model models/default --cuts data/corpus-default/manifests/speech_cuts_test.jsonl.gz

**What goes in.** The training transcripts (``<corpus>/manifests/speech_cuts_train.jsonl.gz``) and the
corpus text sources (``train.data.text.read_corpus_sentences``), minus every held-out sentence: the dev and
test sentences of the preset's plan (``train.data.plan.split_sentences`` with the plan's generator, so
they are known before anything is rendered), every sentence in the corpus's dev, test and realdev
manifests, and any ``--exclude`` file (a manifest, a demo.json or plain text, one sentence per line).

**The estimator.** Interpolated modified Kneser-Ney (Chen and Goodman 1999, as KenLM's lmplz computes it):
three discounts per order from the count-of-counts, continuation counts for the lower orders (except
n-grams that start with <s>), the lowest order interpolated with a uniform distribution over the vocabulary
(which is what <unk> gets). To fit the size budget, n-grams are pruned by count (cutoffs rise until the
binary fits); a pruned n-gram's probability mass joins its context's backoff weight, so every conditional
distribution still sums to one. Words are lower-cased and split at spaces: exactly the words the CTC
pieces spell between word starts ("▁").

**The output.** ARPA text (``--arpa``, optional) and the runtime's compact binary form (``--out``), written
atomically by the C++ core (``mt2kd_edge._core.NgramLm``), which is also what reads them back.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mt2kd_edge import model_layout as layout
from train.data.layout import manifest_path

DEFAULT_ORDER = 3
DEFAULT_MAX_BYTES = 5_000_000  # the bundled LM's budget
# Weights an LM is installed with unless `python -m train.lm tune --install` sets its own: the session-4 best
# on half its test cuts; on the session-7 bundle's dev set they are within 0.5 WER points of a 3x3x2 grid's best.
DEFAULT_LM_WEIGHT = 0.35
DEFAULT_WORD_BONUS = 1.0
DEFAULT_OOV_PENALTY = 10.0
DEFAULT_BEAM = 4
SPECIALS = ("<unk>", "<s>", "</s>")
UNK, BOS, EOS = 0, 1, 2
HELDOUT_SPLITS = ("dev", "test", "realdev")


def normalise(text: str) -> str:
    """The LM's form of a sentence: lower case, single spaces (the corpus text is already normalised)."""
    return " ".join(text.lower().split())


# ---------------------------------------------------------------- what goes in

def manifest_texts(path: Path) -> list[str]:
    """The supervision texts of a lhotse cut manifest (.jsonl or .jsonl.gz), read without lhotse."""
    opener = gzip.open if path.suffix == ".gz" else open
    out = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                cut = json.loads(line)
                text = " ".join(s.get("text") or "" for s in cut.get("supervisions", []))
                if text.strip():
                    out.append(text)
    return out


def exclusion_texts(path: Path) -> list[str]:
    """Sentences to keep out of the LM: a cut manifest, a demo.json (its turns) or plain text lines."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file to exclude not found")
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        return manifest_texts(path)
    if path.suffix == ".json":
        doc = json.loads(path.read_text())
        turns = doc.get("turns") if isinstance(doc, dict) else None
        if not isinstance(turns, list):
            raise ValueError(f"{path}: a .json to exclude must be a demo.json with a 'turns' list")
        return [t["text"] for t in turns if isinstance(t, dict) and t.get("text")]
    return [line for line in path.read_text().splitlines() if line.strip()]


def plan_heldout_sentences(preset_name: str, seed: int, sentences: Sequence[str]) -> set[str]:
    """The dev and test sentences of a preset's plan: the same draw as ``train.data.build.make_plan``
    (its first generator, ``default_rng([seed, 0])``), over the same sorted sentence list."""
    from train.data.plan import split_sentences
    from train.data.presets import PRESETS

    if preset_name not in PRESETS:
        raise ValueError(f"unknown corpus preset {preset_name!r}; choose from {sorted(PRESETS)}")
    by_split = split_sentences(list(sentences), PRESETS[preset_name].heldout_sentences, np.random.default_rng([seed, 0]))
    return {sentences[i] for split in ("dev", "test") for i in by_split[split]}


@dataclass
class TrainingText:
    sentences: list[str]  # normalised, distinct, sorted
    excluded: int  # distinct candidate sentences dropped as held-out
    heldout: int  # distinct held-out sentences known
    sources: dict[str, int] = field(default_factory=dict)  # where the sentences came from (before exclusion)


def training_text(corpus: Path | None = None, preset: str | None = None, seed: int | None = None,
                  text_sources: bool = True, exclude: Iterable[Path] = ()) -> TrainingText:
    """Every sentence the LM may learn from, with every held-out sentence removed."""
    from train.data.text import read_corpus_sentences

    candidates: set[str] = set()
    heldout: set[str] = set()
    sources: dict[str, int] = {}
    corpus_sentences = read_corpus_sentences() if (text_sources or preset or corpus) else []
    if corpus is not None:
        train = manifest_path(corpus, "speech", "train")
        if not train.is_file():
            raise FileNotFoundError(f"{train}: no training transcripts (build the corpus first)")
        texts = {normalise(t) for t in manifest_texts(train)}
        sources["training transcripts"] = len(texts)
        candidates |= texts
        for split in HELDOUT_SPLITS:
            path = manifest_path(corpus, "speech", split)
            if path.is_file():
                heldout |= {normalise(t) for t in manifest_texts(path)}
        build = corpus / "build.json"
        if build.is_file() and preset is None:
            info = json.loads(build.read_text())
            preset, seed = info.get("preset"), info.get("seed", 0) if seed is None else seed
    if text_sources:
        texts = {normalise(t) for t in corpus_sentences}
        sources["corpus text sources"] = len(texts)
        candidates |= texts
    if preset is not None:
        heldout |= {normalise(t) for t in plan_heldout_sentences(preset, 0 if seed is None else seed, corpus_sentences)}
    for path in exclude:
        heldout |= {normalise(t) for t in exclusion_texts(Path(path))}
    heldout.discard("")
    kept = sorted(t for t in candidates - heldout if t)
    return TrainingText(kept, len(candidates & heldout), len(heldout), sources)


# ---------------------------------------------------------------- the estimator

@dataclass
class NgramTable:
    """One order's n-grams: codes (base-V digits, first word most significant), probabilities and,
    below the top order, backoff weights (natural log both)."""
    codes: np.ndarray
    log_prob: np.ndarray
    log_backoff: np.ndarray | None = None


def _discounts(counts: np.ndarray) -> np.ndarray:
    """Modified Kneser-Ney D1, D2, D3+ from the count-of-counts (Chen and Goodman's estimates), with a
    fallback to one absolute discount when the data is too small for them."""
    n = [int(np.count_nonzero(counts == k)) for k in range(1, 5)]
    y = n[0] / (n[0] + 2 * n[1]) if n[0] + 2 * n[1] > 0 else 0.5
    d = [1 - 2 * y * n[1] / n[0] if n[0] else y, 2 - 3 * y * n[2] / n[1] if n[1] else y,
         3 - 4 * y * n[3] / n[2] if n[2] else y]
    return np.array([dk if 0 < dk < k + 1 else min(max(y, 0.1), 0.9) for k, dk in enumerate(d)])


def _discount(counts: np.ndarray, d: np.ndarray) -> np.ndarray:
    return np.where(counts >= 3, d[2], np.where(counts == 2, d[1], d[0]))


def _ngrams(sentences: list[np.ndarray], n: int, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct n-gram codes within sentences, with their counts."""
    parts = []
    for ids in sentences:
        if len(ids) >= n:
            code = np.zeros(len(ids) - n + 1, np.int64)
            for k in range(n):
                code = code * vocab + ids[k:len(ids) - n + 1 + k]
            parts.append(code)
    codes = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return np.unique(codes, return_counts=True)


def estimate(sentences: Sequence[str], order: int = DEFAULT_ORDER, cutoffs: Sequence[int] | None = None
             ) -> tuple[list[str], list[NgramTable]]:
    """Interpolated modified Kneser-Ney. ``cutoffs[n]``: keep an (n+1)-gram only if it was seen at least
    that often (``cutoffs[0]`` is ignored: every word keeps its unigram). Returns the vocabulary (ids:
    <unk>, <s>, </s>, then the words sorted) and one table per order."""
    if not 1 <= order <= 6:
        raise ValueError(f"order must be 1-6, got {order}")
    cutoffs = list(cutoffs or [1] * order)
    words = sorted({w for s in sentences for w in s.split()} - set(SPECIALS))
    vocab = [*SPECIALS, *words]
    if len(vocab) ** order >= 2**62:
        raise ValueError(f"{len(vocab)} words at order {order} do not fit the 64-bit n-gram codes")
    index = {w: i for i, w in enumerate(vocab)}
    ids = [np.array([BOS, *(index[w] for w in s.split()), EOS], np.int64) for s in sentences]
    v = len(vocab)
    raw = [_ngrams(ids, n, v) for n in range(1, order + 1)]  # raw counts per order
    # adjusted counts: the top order keeps raw counts; lower ones count distinct left neighbours,
    # except n-grams starting with <s> (nothing precedes them)
    adjusted = []
    for n in range(1, order + 1):
        codes, counts = raw[n - 1]
        if n < order:
            higher = raw[n][0]
            suffix, left = np.unique(higher % v**n, return_counts=True)
            pos = np.searchsorted(suffix, codes)
            pos = np.minimum(pos, max(len(suffix) - 1, 0))
            cont = np.where((len(suffix) > 0) & (suffix[pos] == codes), left[pos], 0)
            first = codes // v ** (n - 1)
            counts = np.where(first == BOS, counts, cont)
        adjusted.append((codes, counts.astype(np.float64)))
    tables: list[NgramTable] = []
    for n in range(1, order + 1):
        codes, counts = adjusted[n - 1]
        raw_counts = raw[n - 1][1]
        usable = counts > 0
        if n == 1:
            # unigrams: every word of the vocabulary (absent ones, such as <unk>, get only the uniform share)
            uni = np.zeros(v)
            uni[codes[usable]] = counts[usable]
            uni[BOS] = 0
            d = _discounts(uni[uni > 0])
            total = uni.sum()
            disc = np.where(uni > 0, (uni - _discount(uni, d)) / total, 0.0)
            gamma = 1.0 - disc.sum()
            prob = disc + gamma / (v - 1)  # uniform over the words that can follow (all but <s>)
            prob[BOS] = 0.0
            tables.append(NgramTable(np.arange(v, dtype=np.int64), np.log(np.maximum(prob, 1e-300))))
            tables[-1].log_prob[BOS] = -99.0 * math.log(10)
            continue
        keep = usable & (raw_counts >= cutoffs[n - 1])
        d = _discounts(counts[usable])
        context = codes // v
        ctx_codes, ctx_index = np.unique(context, return_inverse=True)
        ctx_total = np.bincount(ctx_index, weights=counts, minlength=len(ctx_codes))
        disc = np.where(keep, (counts - _discount(counts, d)) / ctx_total[ctx_index], 0.0)
        ctx_gamma = 1.0 - np.bincount(ctx_index, weights=disc, minlength=len(ctx_codes))
        ctx_gamma = np.clip(ctx_gamma, 1e-12, 1.0)
        # P of the last word after the context minus its first word: the model one order down
        lower_codes = codes % v ** (n - 1)
        lower_p = _model_prob(tables, lower_codes, v)
        prob = disc + ctx_gamma[ctx_index] * lower_p
        k = np.flatnonzero(keep)
        tables.append(NgramTable(codes[k], np.log(prob[k])))
        # the contexts' backoff weights go on the order below (a context that is not there has weight 1)
        below = tables[-2]
        pos = np.searchsorted(ctx_codes, below.codes)
        pos = np.minimum(pos, len(ctx_codes) - 1)
        found = ctx_codes[pos] == below.codes
        below.log_backoff = np.where(found, np.log(ctx_gamma[pos]), 0.0)
    if order > 1 and tables[-2].log_backoff is None:
        tables[-2].log_backoff = np.zeros(len(tables[-2].codes))
    return vocab, tables


def _model_prob(tables: list[NgramTable], codes: np.ndarray, v: int) -> np.ndarray:
    """P(last word | the other words) of each code under the backoff model built so far
    (``len(tables)`` orders; codes of that many words)."""
    n = len(tables)
    table = tables[n - 1]
    if n == 1:
        return np.exp(table.log_prob[codes])
    pos = np.minimum(np.searchsorted(table.codes, codes), max(len(table.codes) - 1, 0))
    found = (len(table.codes) > 0) & (table.codes[pos] == codes)
    out = np.empty(len(codes))
    out[found] = np.exp(table.log_prob[pos[found]])
    missing = ~found
    if missing.any():
        ctx = codes[missing] // v  # the context's backoff, then the order below
        below = tables[n - 2]
        cpos = np.minimum(np.searchsorted(below.codes, ctx), len(below.codes) - 1)
        cfound = below.codes[cpos] == ctx
        backoff = np.where(cfound, below.log_backoff[cpos] if below.log_backoff is not None else 0.0, 0.0)
        out[missing] = np.exp(backoff) * _model_prob(tables[:n - 1], codes[missing] % v ** (n - 1), v)
    return out


def binary_size(vocab: Sequence[str], counts: Sequence[int]) -> int:
    """Bytes of the runtime's binary form for these n-gram counts (see runtime/include/mt2kd/ngram_lm.h)."""
    pad = lambda b: (b + 3) // 4 * 4  # noqa: E731
    id_bytes = 2 if len(vocab) <= 65536 else 4
    size = 8 + 12 + 4 * len(counts) + 4 + pad(sum(len(w.encode()) + 1 for w in vocab))
    for n, c in enumerate(counts):
        top = n == len(counts) - 1
        size += (pad(c * id_bytes) if n else 0) + pad(2 * c) + (0 if top else pad(2 * c) + 4 * (c + 1))
    return size + 4


def arpa_text(vocab: Sequence[str], tables: Sequence[NgramTable]) -> str:
    """The model as ARPA text (log10 values)."""
    v = len(vocab)
    out = io.StringIO()
    out.write("\\data\\\n")
    for n, t in enumerate(tables, 1):
        out.write(f"ngram {n}={len(t.codes)}\n")
    ln10 = math.log(10)
    for n, t in enumerate(tables, 1):
        out.write(f"\n\\{n}-grams:\n")
        digits = [(t.codes // v ** (n - 1 - k)) % v for k in range(n)]
        lp = t.log_prob / ln10
        bo = t.log_backoff / ln10 if t.log_backoff is not None else None
        for i in range(len(t.codes)):
            gram = " ".join(vocab[d[i]] for d in digits)
            out.write(f"{lp[i]:.6f}\t{gram}" + (f"\t{bo[i]:.6f}\n" if bo is not None else "\n"))
    out.write("\n\\end\\\n")
    return out.getvalue()


# Cutoff schedules tried in turn until the binary fits: (minimum count of a 2-gram, of a 3-gram, ...).
def _cutoff_schedule(order: int) -> list[list[int]]:
    steps = [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (4, 5), (5, 6), (6, 8), (8, 10), (10, 14), (14, 20),
             (20, 30), (30, 50), (50, 100)]
    return [[1] + [a] + [b] * max(order - 2, 0) for a, b in steps]


@dataclass
class BuiltLm:
    vocab: list[str]
    tables: list[NgramTable]
    cutoffs: list[int]
    bytes: int


def build_lm(sentences: Sequence[str], order: int = DEFAULT_ORDER, max_bytes: int = DEFAULT_MAX_BYTES,
             log=print) -> BuiltLm:
    """The largest model of the cutoff schedule that fits in ``max_bytes``."""
    if not sentences:
        raise ValueError("no training sentences for the LM")
    for cutoffs in _cutoff_schedule(order):
        vocab, tables = estimate(sentences, order, cutoffs)
        size = binary_size(vocab, [len(t.codes) for t in tables])
        log(f"  cutoffs {cutoffs}: n-grams {[len(t.codes) for t in tables]}, {size / 1e6:.2f} MB")
        if size <= max_bytes:
            return BuiltLm(vocab, tables, cutoffs, size)
    raise ValueError(f"even the strongest pruning does not fit {max_bytes} bytes (the vocabulary alone is "
                     f"{binary_size(vocab, [len(vocab)] + [0] * (order - 1))} bytes)")


def write_lm(lm: BuiltLm, out: Path, arpa: Path | None = None) -> None:
    """The binary form (and ARPA text if asked), each written atomically."""
    from mt2kd_edge import _core
    from mt2kd_edge.fileio import atomic_write

    text = arpa_text(lm.vocab, lm.tables)
    compiled = _core.NgramLm.from_arpa(text, str(arpa or out))
    out.parent.mkdir(parents=True, exist_ok=True)
    compiled.save(str(out))
    if arpa is not None:
        data = text.encode()
        with atomic_write(arpa) as f:
            f.write(gzip.compress(data, mtime=0) if arpa.suffix == ".gz" else data)


# ---------------------------------------------------------------- into a model directory

def install_lm(model_dir: Path, lm_file: Path, lm_weight: float = DEFAULT_LM_WEIGHT,
               word_bonus: float = DEFAULT_WORD_BONUS, oov_penalty: float = DEFAULT_OOV_PENALTY,
               beam_size: int = DEFAULT_BEAM, info: dict | None = None, name: str = layout.LM) -> Path:
    """Copy ``lm_file`` into ``model_dir`` as ``name``, set model.json's decoding section (the model then
    decodes with it by default) and update the two files' entries in manifest.json."""
    from mt2kd_edge import _core
    from mt2kd_edge.fileio import atomic_write, sha256

    _core.NgramLm.load(str(lm_file))  # refuse a bad file before touching the model directory
    target = model_dir / name
    if lm_file.resolve() != target.resolve():
        with atomic_write(target) as f:
            f.write(lm_file.read_bytes())
    meta_path = model_dir / layout.MODEL_JSON
    meta = json.loads(meta_path.read_text())
    meta["decoding"] = {"beam_size": beam_size, "lm": name, "lm_weight": lm_weight, "word_bonus": word_bonus,
                        "oov_penalty": oov_penalty, **({"lm_info": info} if info else {})}
    with atomic_write(meta_path, "w") as f:
        f.write(json.dumps(meta, indent=2) + "\n")
    manifest_path = model_dir / layout.MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        for path in (target, meta_path):
            manifest["files"][path.name] = {"bytes": path.stat().st_size, "sha256": sha256(path)}
        manifest["files"] = dict(sorted(manifest["files"].items()))
        with atomic_write(manifest_path, "w") as f:
            f.write(json.dumps(manifest, indent=2) + "\n")
    return target


# ---------------------------------------------------------------- scoring

def cut_audio(cut: dict) -> tuple[np.ndarray, int]:
    """A cut's audio from its recording's first file source (mono)."""
    import soundfile as sf

    rec = cut["recording"]
    source = rec["sources"][0]
    if source.get("type") != "file":
        raise ValueError(f"cut {cut.get('id')}: only file sources are read here, got {source.get('type')!r}")
    rate = int(rec["sampling_rate"])
    start = int(round(float(cut.get("start", 0)) * rate))
    frames = int(round(float(cut["duration"]) * rate))
    audio, file_rate = sf.read(source["source"], start=start, frames=frames, dtype="float32", always_2d=True)
    return audio[:, 0].copy(), file_rate


def read_cuts(path: Path, limit: int | None = None) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        cuts = [json.loads(line) for line in f if line.strip()]
    return cuts[:limit]


DECODERS = {  # name -> options for Engine.from_dir
    "greedy": {"beam_size": 1, "lm": None},
    "beam": {"lm": None},
    "beam+lm": {},
}


def transcribe(engine, audio: np.ndarray, rate: int, endpoint_texts: bool = False) -> str:
    """The text of one recording: the final text, or with endpointing all finals joined."""
    if endpoint_texts:
        piece = rate // 10
        return " ".join(e.text for e in engine.events((audio[i:i + piece] for i in range(0, len(audio), piece)), rate)
                        if e.type == "final")
    stream = engine.create_stream()
    stream.accept_waveform(rate, audio)
    stream.input_finished()
    engine.decode_all(stream)
    return stream.transcript().text


def score(model: Path, decoders: Sequence[str], cuts: Sequence[Path], demo: bool = False, limit: int | None = None,
          beam_size: int = DEFAULT_BEAM, lm: Path | None = None, backend: str = "executorch",
          **weights: float) -> dict:
    """WER of each decoder on each set; ``lm``/``weights`` replace the model's own LM and weights."""
    from mt2kd_edge.engine import MODEL_LM, Engine
    from train.evaluation.metrics import word_error_rate

    sets: dict[str, list[tuple[str, np.ndarray, int]]] = {}
    for path in cuts:
        sets[path.name.replace(".jsonl.gz", "")] = [(" ".join(s["text"] for s in c["supervisions"]), *cut_audio(c))
                                                    for c in read_cuts(path, limit)]
    if demo:
        import soundfile as sf

        info = json.loads((model / layout.DEMO / layout.DEMO_INFO).read_text())
        audio, rate = sf.read(model / layout.DEMO / layout.DEMO_CLIP, dtype="float32")
        sets["demo clip"] = [(" ".join(t["text"] for t in info["turns"]), audio, rate)]
    results: dict = {"model": str(model), "sets": {k: len(v) for k, v in sets.items()}, "wer": {}}
    for name in decoders:
        if name not in DECODERS:
            raise ValueError(f"unknown decoder {name!r}; choose from {', '.join(DECODERS)}")
        options = {"beam_size": beam_size, "lm": lm if lm is not None else MODEL_LM, **weights, **DECODERS[name]}
        if name == "beam+lm" and options["lm"] == MODEL_LM:
            from mt2kd_edge.model_files import read_decoding_defaults

            if "lm" not in read_decoding_defaults(model):
                raise ValueError(f"{model}: its model.json names no LM; pass --lm FILE")
        t0 = time.perf_counter()
        endpoint = {"endpoint": False}
        engine = Engine.from_dir(model, backend=backend, **options, **endpoint)
        demo_engine = Engine.from_dir(model, backend=backend, **options) if demo else None
        row = {}
        for set_name, items in sets.items():
            use = demo_engine if set_name == "demo clip" else engine
            hyps = [transcribe(use, a, r, endpoint_texts=set_name == "demo clip") for _, a, r in items]
            row[set_name] = {"wer": word_error_rate([ref for ref, _, _ in items], hyps), "example": hyps[0] if hyps else ""}
        row["seconds"] = time.perf_counter() - t0
        row["decoding"] = engine.decoding
        results["wer"][name] = row
    return results


def format_scores(results: dict) -> str:
    sets = list(results["sets"])
    header = " | ".join(f"{s} ({results['sets'][s]})" for s in sets)
    lines = [f"| decoder | {header} |",
             "|---|" + "---|" * len(sets)]
    for name, row in results["wer"].items():
        lines.append(f"| {name} | " + " | ".join(f"{100 * row[s]['wer']:.1f}" for s in sets) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- command line

def _add_build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", type=Path, help="a built corpus: its training transcripts in, its dev/test/realdev out "
                   "(and its preset's held-out plan, from build.json)")
    p.add_argument("--preset", help="the corpus preset whose planned held-out sentences stay out (default: from "
                   "the corpus's build.json)")
    p.add_argument("--seed", type=int, help="the corpus seed (default: from build.json, else 0)")
    p.add_argument("--no-text-sources", action="store_true", help="leave out the corpus text sources (transcripts only)")
    p.add_argument("--exclude", type=Path, action="append", default=[],
                   help="more held-out text: a cut manifest, a demo.json or a text file (repeatable)")
    p.add_argument("--order", type=int, default=DEFAULT_ORDER, help=f"n-gram order, 1-6 (default {DEFAULT_ORDER})")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES,
                   help=f"size budget of the binary (default {DEFAULT_MAX_BYTES})")


def cmd_build(args: argparse.Namespace) -> int:
    if args.out is None and args.install is None:
        raise ValueError("say where the LM goes: --out FILE and/or --install MODEL_DIR")
    if not 1 <= args.order <= 6:
        raise ValueError(f"--order must be 1-6, got {args.order}")
    t0 = time.perf_counter()
    text = training_text(args.corpus, args.preset, args.seed, not args.no_text_sources, args.exclude)
    print(f"{len(text.sentences)} training sentences ({', '.join(f'{k}: {v}' for k, v in text.sources.items())}); "
          f"{text.excluded} held-out ones left out ({text.heldout} known)")
    lm = build_lm(text.sentences, args.order, args.max_bytes)
    out = args.out or Path(args.install) / layout.LM
    write_lm(lm, out, args.arpa)
    counts = [len(t.codes) for t in lm.tables]
    info = {"order": args.order, "ngrams": counts, "cutoffs": lm.cutoffs, "training_sentences": len(text.sentences),
            "heldout_excluded": text.excluded, "built_by": "python -m train.lm build (interpolated modified Kneser-Ney)"}
    print(f"wrote {out}: {out.stat().st_size / 1e6:.2f} MB, n-grams {counts}, cutoffs {lm.cutoffs} "
          f"({time.perf_counter() - t0:.0f} s)")
    if args.install:
        install_lm(Path(args.install), out, args.lm_weight, args.word_bonus, args.oov_penalty, args.beam_size, info)
        print(f"installed into {args.install} (model.json decoding: beam {args.beam_size}, lm_weight {args.lm_weight}, "
              f"word_bonus {args.word_bonus}, oov_penalty {args.oov_penalty})")
    return 0


def cmd_wer(args: argparse.Namespace) -> int:
    weights = {k: v for k, v in (("lm_weight", args.lm_weight), ("word_bonus", args.word_bonus),
                                 ("oov_penalty", args.oov_penalty)) if v is not None}
    results = score(args.model, args.decoders.split(","), args.cuts, args.demo, args.limit, args.beam_size, args.lm,
                    args.backend, **weights)
    print(json.dumps(results, indent=2) if args.json else format_scores(results))
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    """A grid over lm_weight x word_bonus on a dev set (never the test set)."""
    import itertools

    rows = []
    grid = itertools.product(*([float(x) for x in text.split(",")]
                               for text in (args.lm_weights, args.word_bonuses, args.oov_penalties)))
    for w, b, oov in grid:
        r = score(args.model, ["beam+lm"], args.cuts, False, args.limit, args.beam_size, args.lm, args.backend,
                  lm_weight=w, word_bonus=b, oov_penalty=oov)
        wer = float(np.mean([v["wer"] for v in r["wer"]["beam+lm"].values() if isinstance(v, dict) and "wer" in v]))
        rows.append((wer, w, b, oov))
        print(f"lm_weight {w:g} word_bonus {b:g} oov_penalty {oov:g}: WER {100 * wer:.2f} %", flush=True)
    best = min(rows)
    print(f"best: lm_weight {best[1]:g} word_bonus {best[2]:g} oov_penalty {best[3]:g} (WER {100 * best[0]:.2f} %)")
    if args.install:
        from mt2kd_edge.model_files import read_decoding_defaults

        lm_file = args.lm or read_decoding_defaults(args.model).get("lm")
        if lm_file is None:
            raise ValueError(f"{args.model}: its model.json names no LM to install the weights with; pass --lm FILE")
        meta = json.loads((args.model / layout.MODEL_JSON).read_text()).get("decoding", {})
        info = {**meta.get("lm_info", {}), "tuned_on": [p.name for p in args.cuts], "tuned_limit": args.limit,
                "tuned_wer": round(best[0], 4)}
        install_lm(args.model, Path(lm_file), best[1], best[2], best[3], args.beam_size, info)
        print(f"installed into {args.model}/model.json")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.lm", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the word n-gram LM from training text (held-out sentences left out)")
    _add_build_args(b)
    b.add_argument("--out", type=Path, help="the binary LM to write")
    b.add_argument("--arpa", type=Path, help="also write ARPA text here (.gz: compressed)")
    b.add_argument("--install", type=Path, metavar="MODEL_DIR",
                   help="put the LM into this model directory: lm.bin, model.json's decoding section, manifest")
    b.add_argument("--lm-weight", type=float, default=DEFAULT_LM_WEIGHT)
    b.add_argument("--word-bonus", type=float, default=DEFAULT_WORD_BONUS)
    b.add_argument("--oov-penalty", type=float, default=DEFAULT_OOV_PENALTY)
    b.add_argument("--beam-size", type=int, default=DEFAULT_BEAM)
    b.set_defaults(func=cmd_build)
    for name, func, text in (("wer", cmd_wer, "WER of greedy, beam and beam+LM decoding, streaming through the runtime"),
                             ("tune", cmd_tune, "grid-search lm_weight and word_bonus on a dev set")):
        w = sub.add_parser(name, help=text)
        w.add_argument("--model", type=Path, required=True, help="a model directory")
        w.add_argument("--cuts", type=Path, action="append", default=[], help="a lhotse cut manifest (repeatable)")
        w.add_argument("--limit", type=int, help="at most this many cuts per manifest")
        w.add_argument("--beam-size", type=int, default=DEFAULT_BEAM)
        w.add_argument("--lm", type=Path, help="an LM file instead of the model's own")
        w.add_argument("--backend", choices=("executorch", "onnx"), default="executorch")
        if name == "wer":
            w.add_argument("--decoders", default="greedy,beam,beam+lm", help="comma-separated: greedy,beam,beam+lm")
            w.add_argument("--demo", action="store_true", help="also score the model's demo clip (demo/demo.json)")
            w.add_argument("--lm-weight", type=float)
            w.add_argument("--word-bonus", type=float)
            w.add_argument("--oov-penalty", type=float)
            w.add_argument("--json", action="store_true")
        else:
            w.add_argument("--lm-weights", default="0.2,0.35,0.5,0.7")
            w.add_argument("--word-bonuses", default="0,1,2,3")
            w.add_argument("--oov-penalties", default="2,5,10")
            w.add_argument("--install", action="store_true",
                           help="write the best weights into the model's model.json (decoding section, manifest)")
        w.set_defaults(func=func)
    args = p.parse_args(argv)
    if getattr(args, "cuts", None) == [] and not getattr(args, "demo", False) and args.command != "build":
        p.error("give --cuts MANIFEST (or --demo)")
    try:
        return args.func(args)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

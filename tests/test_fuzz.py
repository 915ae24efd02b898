"""Issue 17: fuzzing what users and files hand the runtime. Random and truncated WAV headers,
random mutations of model.json, of the metadata embedded in the .pte and the ONNX file, and of
speakers.json: each gives a clean one-line error naming the file, or a correct result; never a
crash, a hang or a traceback.

Each batch runs in a child process (this file, run as a script) under a time limit, so a crash
is a signal and a hang a timeout, not a dead test run. The child prints the case it is on to
stderr first, so a crash names its case. Seeds are fixed: a failure reproduces.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "models" / "default"
VALUES = [0, -1, 1, 7, 2**31 - 1, 2**31, 2**63, -2**63, 1e308, -1e308, 0.5, float("nan"), "", "x", "Speech", None,
          True, [], {}, [1, 2, 3], [0], {"a": 1}, "é" * 50]


# ---------------------------------------------------------------- mutations (deterministic)

def paths_of(doc, prefix=()):
    """Every path into a JSON document (dict keys and list indices)."""
    yield prefix
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield from paths_of(value, prefix + (key,))


def mutate_json(doc, rng: random.Random) -> str:
    """One random structural or textual mutation of ``doc``, as text."""
    doc = copy.deepcopy(doc)
    kind = rng.choice(["replace", "replace", "replace", "delete", "duplicate", "swap", "truncate_text", "flip_text"])
    if kind in ("truncate_text", "flip_text"):
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        if kind == "truncate_text":
            return text[:rng.randrange(len(text))]
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice('{}[]",:0123456789-eE .ab\\\x00\x7f')
        return "".join(chars)
    paths = [p for p in paths_of(doc) if p]
    path = rng.choice(paths)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if kind == "replace":
        parent[key] = copy.deepcopy(rng.choice(VALUES))
    elif kind == "delete":
        del parent[key]
    elif kind == "duplicate" and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    elif kind == "swap" and isinstance(parent, list) and len(parent) > 1:
        other = rng.randrange(len(parent))
        parent[key], parent[other] = parent[other], parent[key]
    else:
        parent[key] = copy.deepcopy(rng.choice(VALUES))
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))  # as the exporter writes it


def wav_bytes(rate=16000, channels=1, bits=16, fmt=1, seconds=0.3, fmt_size=16, data_size=None, extra=b"") -> bytes:
    frames = int(rate * seconds) if 4000 <= rate <= 192000 else 4800
    data = bytes(random.Random(rate ^ channels ^ bits).getrandbits(8) for _ in range(min(frames * channels * max(bits, 8) // 8, 40000)))
    block = channels * bits // 8
    body = struct.pack("<HHIIHH", fmt & 0xFFFF, channels & 0xFFFF, rate % 2**32, (rate * block) % 2**32, block & 0xFFFF,
                       bits & 0xFFFF) + extra
    body = body[:fmt_size] if fmt_size < len(body) else body + b"\x00" * (fmt_size - len(body))
    size = len(data) if data_size is None else data_size
    return (b"RIFF" + struct.pack("<I", (36 + len(data)) % 2**32) + b"WAVEfmt " + struct.pack("<I", fmt_size) + body +
            b"data" + struct.pack("<I", size % 2**32) + data)


def wav_cases(count: int, seed: int = 17) -> list[bytes]:
    rng = random.Random(seed)
    fields = {"rate": [0, 1, 3999, 4000, 8000, 44100, 48000, 192000, 192001, 2**31 - 1, 2**32 - 1],
              "channels": [0, 1, 2, 7, 65535], "bits": [0, 8, 16, 24, 32, 33, 64], "fmt": [0, 1, 3, 0xFFFE, 0x55, 0x1234],
              "fmt_size": [0, 2, 14, 16, 18, 40], "data_size": [None, 0, 1, 3, 2**32 - 1, 2**31], "seconds": [0.0, 0.01, 0.3]}
    cases = []
    base = [wav_bytes(), wav_bytes(48000, 2, 32, 3), wav_bytes(8000), wav_bytes(44100, 1, 16, 0xFFFE, fmt_size=40,
                                                                               extra=b"\x16\x00" + b"\x00" * 6 + b"\x01\x00")]
    while len(cases) < count:
        kind = rng.choice(["truncate", "fields", "fields", "flip", "random"])
        if kind == "truncate":
            b = rng.choice(base)
            cases.append(b[:rng.randrange(len(b))])
        elif kind == "fields":
            args = {k: rng.choice(v) for k, v in fields.items() if rng.random() < 0.5}
            try:
                cases.append(wav_bytes(**args))
            except struct.error:
                continue
        elif kind == "flip":
            b = bytearray(rng.choice(base))
            for _ in range(rng.randint(1, 6)):
                b[rng.randrange(min(64, len(b)))] = rng.randrange(256)
            cases.append(bytes(b))
        else:
            cases.append(b"RIFF" + bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 200))))
    return cases


# ---------------------------------------------------------------- the child process

def clean(error: BaseException, where: str) -> str | None:
    """None if ``error`` is a clean refusal naming ``where``, else what is wrong with it."""
    message = str(error)
    if not isinstance(error, ValueError) or isinstance(error, UnicodeError):
        return f"{type(error).__name__}: {message[:300]}"
    if "\n" in message or len(message) > 600 or where not in message:
        return f"not a one-line error naming {where}: {message[:300]!r}"
    return None


def worker(kind: str, directory: Path, count: int) -> dict:
    import numpy as np

    from mt2kd_edge import _core
    from mt2kd_edge.engine import Engine
    from mt2kd_edge.model_files import read_model_metadata
    from mt2kd_edge.speakers import SpeakerStore
    from mt2kd_edge.synthetic import speech_like

    clip = speech_like(1.5, seed=4)
    rng = random.Random({"model-json": 1, "pte": 2, "onnx": 3, "speakers": 4, "wav": 5}[kind])
    summary = {"ok": 0, "refused": 0, "bad": []}
    reference = {}

    def decode(engine: Engine):
        s = engine.create_stream()
        s.accept_waveform(16000, clip)
        s.input_finished()
        engine.decode_all(s)
        return [t.id for t in s.transcript().tokens], s.speaker_embedding()

    def check(case: int, where: str, attempt) -> None:
        print(f"case {case}: {where}", file=sys.stderr, flush=True)
        try:
            attempt()
            summary["ok"] += 1
        except Exception as e:  # noqa: BLE001 - sorting clean refusals from everything else is the point
            problem = clean(e, where)
            if problem:
                summary["bad"].append(f"case {case}: {problem}")
            else:
                summary["refused"] += 1

    if kind == "wav":
        engine = Engine.from_dir(DEFAULT)
        for case, path in enumerate(sorted(directory.glob("*.wav"))):
            def attempt(path=path):
                samples, rate = _core.read_wav(str(path))  # the C++ apps' path: reader, then stream
                assert _core.MIN_SAMPLE_RATE <= rate <= _core.MAX_SAMPLE_RATE
                s = engine.create_stream()
                try:
                    s.accept_waveform(rate, samples)
                except ValueError as e:  # NaN or loud floats inside the data: fine, if said clearly
                    raise ValueError(f"{path}: {e}") from None
                s.input_finished()
                engine.decode_all(s)
            check(case, str(path), attempt)
    elif kind == "model-json":
        doc = json.loads((DEFAULT / "model.json").read_text())
        for case in range(count):
            path = directory / f"model-{case}.json"
            path.write_text(mutate_json(doc, rng), errors="surrogatepass")

            def attempt(path=path):
                read_model_metadata(path)
                _core.ModelInfo.from_json(path.read_text(errors="replace"), str(path))
            check(case, str(path), attempt)
    elif kind in ("pte", "onnx"):
        backend = "executorch" if kind == "pte" else "onnx"
        # the mutated copies have no model.json (so no LM): the reference decodes the same way
        reference = decode(Engine.from_dir(DEFAULT, backend=backend, beam_size=1, lm=None))
        if kind == "pte":
            data = (DEFAULT / "model.int8.pte").read_bytes()
            start = data.index(b'{"backend":"executorch"')
            text, end = json.JSONDecoder().raw_decode(data[start:].decode("utf-8", "replace"))
            original = data[start:start + len(json.dumps(text, sort_keys=True, separators=(",", ":")).encode())]
            doc = json.loads(original)
        else:
            import onnx

            proto = onnx.load(str(DEFAULT / "model.int8.onnx"))
            doc = json.loads(proto.metadata_props[0].value)
        model = directory / "model"
        model.mkdir()
        made = 0
        while made < count:
            mutated = mutate_json(doc, rng).encode("utf-8", "surrogatepass")
            if kind == "pte":
                if len(mutated) > len(original):  # the string lives inside the program: same length only
                    continue
                (model / "model.int8.pte").write_bytes(data.replace(original, mutated.ljust(len(original)), 1))
            else:
                proto.metadata_props[0].value = mutated.decode("utf-8", "replace")
                (model / "model.int8.onnx").write_bytes(proto.SerializeToString())

            def attempt():
                engine = Engine.from_dir(model, backend=backend, verify=False)
                tokens, embedding = decode(engine)
                # accepted: the mutation touched nothing the runtime uses, so the result is the same
                assert tokens == reference[0], "accepted, but the transcript changed"
                assert np.allclose(embedding, reference[1], atol=1e-5), "accepted, but the embedding changed"
            check(made, str(model / f"model.int8.{kind}"), attempt)
            made += 1
    elif kind == "speakers":
        store = SpeakerStore(8)
        for i, name in enumerate(("ann", "bob", "Zoë")):
            store.enroll(name, np.random.default_rng(i).standard_normal(8).astype(np.float32))
        store.save(directory / "good.json")
        doc = json.loads((directory / "good.json").read_text())
        for case in range(count):
            path = directory / f"speakers-{case}.json"
            path.write_text(mutate_json(doc, rng), errors="surrogatepass")

            def attempt(path=path):
                loaded = SpeakerStore.load(path)
                assert all(_core.speaker_name_problem(n) == "" for n in loaded.names())
                if loaded.names():
                    probe = np.ones(loaded._store.embedding_dim, np.float32)
                    loaded.identify(probe, 0.5)
                loaded.save(directory / "resaved.json")
                assert SpeakerStore.load(directory / "resaved.json").names() == loaded.names()
            check(case, str(path), attempt)
    return summary


def run_worker(kind: str, directory: Path, count: int, timeout: float) -> dict:
    out = subprocess.run([sys.executable, __file__, kind, str(directory), str(count)], capture_output=True, text=True,
                         timeout=timeout, cwd=ROOT)
    last_case = [line for line in out.stderr.splitlines() if line.startswith("case ")][-1:]
    assert out.returncode == 0, f"the {kind} worker died (rc {out.returncode}) at {last_case}: {out.stderr[-2000:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def assert_clean(summary: dict, total: int) -> None:
    assert not summary["bad"], "\n".join(summary["bad"][:20])
    assert summary["ok"] + summary["refused"] == total
    assert summary["refused"] > 0  # both ways out were taken: the fuzzing reaches the checks


# ---------------------------------------------------------------- the tests

def test_random_and_truncated_wav_headers(tmp_path):
    cases = wav_cases(300)
    for i, data in enumerate(cases):
        (tmp_path / f"case{i:03d}.wav").write_bytes(data)
    files = sorted(str(p) for p in tmp_path.glob("*.wav"))
    summary = run_worker("wav", tmp_path, len(files), timeout=240)
    assert_clean(summary, len(files))
    assert summary["ok"] > 20
    # the same files through the command, in one run: each either streams or gets its error line
    cli = shutil.which("mt2kd-edge", path=str(Path(sys.executable).parent))
    out = subprocess.run([cli, "run", *files], capture_output=True, text=True, timeout=300)
    assert out.returncode in (0, 2) and "Traceback" not in out.stderr, out.stderr[-3000:]
    # besides our errors, stderr may hold ExecuTorch's cpuinfo log ("I ...") and notes from the MPEG
    # decoder inside libsndfile ("Note: ...") on WAV files that claim MPEG data
    errors = [line for line in out.stderr.splitlines() if not line.startswith(("I ", "Note: "))]
    assert all(line.startswith("error: ") for line in errors), [e for e in errors if not e.startswith("error: ")][:5]
    streamed = {line[3:].rsplit(" (", 1)[0] for line in out.stdout.splitlines() if line.startswith("== ")}
    refused = {line[7:].split(": ", 1)[0] for line in errors[:-1] if line.startswith("error: /")}
    assert set(files) <= streamed | refused, sorted(set(files) - streamed - refused)[:5]
    assert errors[-1] == f"error: {len(refused)} of {len(files)} files failed"


def test_mutated_model_json(tmp_path):
    assert_clean(run_worker("model-json", tmp_path, 300, timeout=120), 300)


def test_mutated_metadata_embedded_in_the_pte(tmp_path):
    assert_clean(run_worker("pte", tmp_path, 40, timeout=180), 40)


def test_mutated_metadata_embedded_in_the_onnx_file(tmp_path):
    assert_clean(run_worker("onnx", tmp_path, 25, timeout=180), 25)


def test_mutated_speakers_json(tmp_path):
    assert_clean(run_worker("speakers", tmp_path, 300, timeout=120), 300)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    result = worker(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
    print(json.dumps(result))

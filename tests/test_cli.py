"""The `mt2kd-edge` command as a user runs it: the installed entry point, in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mt2kd_edge.synthetic import speech_like

CLI = shutil.which("mt2kd-edge", path=str(Path(sys.executable).parent))


def run(*args: str) -> subprocess.CompletedProcess:
    assert CLI, "the mt2kd-edge entry point is not installed in this environment: run `make setup`"
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300)


def test_check_streams_and_passes_on_synthetic_audio():
    out = run("check", "--seconds", "2")
    assert out.returncode == 0, out.stderr
    assert "PASS: streaming equals the full forward" in out.stdout
    assert "UNTRAINED" in out.stdout  # it says honestly what it ran
    assert "7 chunks of 320 ms" in out.stdout  # 2 s -> 6.25 chunks -> 7 with the padded tail


def test_check_on_a_wav_file_with_another_chunk(tmp_path):
    wav = tmp_path / "clip.wav"
    sf.write(wav, speech_like(1.5), 16000, subtype="PCM_16")
    out = run("check", "--audio", str(wav), "--chunk-ms", "160")
    assert out.returncode == 0, out.stderr
    assert "10 chunks of 160 ms" in out.stdout


def test_bad_inputs_give_one_line_errors(tmp_path):
    wav8k = tmp_path / "8k.wav"
    sf.write(wav8k, np.zeros(8000, np.float32), 8000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF but not really")
    bad_ckpt = tmp_path / "model.pt"
    bad_ckpt.write_bytes(b"\x00" * 64)
    cases = [
        (("check", "--audio", str(tmp_path / "missing.wav")), "no such audio file"),
        (("check", "--audio", str(wav8k)), "8000 Hz audio; this model needs 16000 Hz"),
        (("check", "--audio", str(broken)), "not a readable audio file"),
        (("spec", "--checkpoint", str(bad_ckpt)), "model.pt: not a readable checkpoint"),
        (("check", "--chunk-ms", "300"), "multiple of 40"),
    ]
    for args, message in cases:
        out = run(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert message in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_help_teaches():
    out = run("--help")
    assert out.returncode == 0
    for word in ("check", "spec", "examples:"):
        assert word in out.stdout


def test_spec_prints_every_state():
    out = run("spec")
    assert out.returncode == 0, out.stderr
    assert "state speaker.stats" in out.stdout and "state layer5.conv" in out.stdout


# ---- the runtime commands, on a tiny exported model ----

@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "clip.wav"
    sf.write(path, speech_like(2.5, seed=3), 16000, subtype="PCM_16")
    return path


def test_run_prints_finals_and_tags_and_jsonl_events(tiny_export, wav):
    import json

    out = run("run", "--model", str(tiny_export["dir"]), str(wav))
    assert out.returncode == 0, out.stderr
    assert f"== {wav}" in out.stdout and "unknown:" in out.stdout  # a final line, nobody enrolled
    out = run("run", "--model", str(tiny_export["dir"]), "--backend", "onnx", "--jsonl", str(wav))
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    finals = [e for e in events if e["type"] == "final"]
    assert finals and all({"text", "start_ms", "end_ms", "speaker"} <= set(e) for e in finals)
    assert finals[0]["speaker"] is None
    for e in events:
        if e["type"] == "tag":
            assert {"label", "score", "start_ms", "end_ms"} <= set(e) and e["start_ms"] < e["end_ms"]


def test_enroll_then_identify_list_and_remove(tiny_export, wav, tmp_path):
    import json

    store = tmp_path / "speakers.json"
    model = str(tiny_export["dir"])
    out = run("enroll", "--model", model, "--speakers", str(store), "alice", str(wav), str(wav))
    assert out.returncode == 0, out.stderr
    assert "2 utterance(s)" in out.stdout and store.is_file()
    out = run("run", "--model", model, "--speakers", str(store), "--jsonl", str(wav))
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert any(e["type"] == "speaker" and e["name"] == "alice" for e in events)
    assert run("speakers", "list", "--speakers", str(store)).stdout.startswith("alice\t2")
    out = run("speakers", "remove", "bob", "--speakers", str(store))
    assert out.returncode == 2 and "unknown speaker 'bob'" in out.stderr
    assert run("speakers", "remove", "alice", "--speakers", str(store)).returncode == 0
    assert "(no speakers enrolled)" in run("speakers", "list", "--speakers", str(store)).stdout


def test_runtime_commands_report_bad_inputs(tiny_export, wav, tmp_path):
    broken = tmp_path / "speakers.json"
    broken.write_text("{ not json")
    cases = [
        (("run", "--model", str(tmp_path / "nope"), str(wav)), "model directory not found"),
        (("run", "--model", str(tiny_export["dir"]), str(tmp_path / "missing.wav")), "no such audio file"),
        (("run", "--model", str(tiny_export["dir"]), "--speakers", str(broken), str(wav)), "left untouched"),
    ]
    for args, message in cases:
        out = run(*args)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert broken.read_text() == "{ not json"


def test_soak_reports_flat_memory_and_core_cost(tiny_export):
    import json

    out = run("soak", "--model", str(tiny_export["dir"]), "--minutes", "3", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["audio_s"] == 180 and len(report["rss_by_audio_minute"]) == 3
    assert report["model_ms_per_chunk"] > 0 and report["core_ms_per_chunk"] >= 0


# ---- live: the real sounddevice path, fed by an ALSA `file` device (no sound card needed) ----

ASOUNDRC = """pcm.!default {{
  type plug
  slave.pcm "mt2kdfile"
}}
pcm.mt2kdfile {{
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "{raw}"
  format "raw"
}}
"""


def run_env(env: dict, *args: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, env={**os.environ, **env})


def test_live_through_a_real_input_stream_equals_run_on_the_same_audio(tiny_export, tmp_path):
    import json

    audio = (speech_like(2.5, seed=9) * 32767).astype(np.int16)
    home = tmp_path / "home"
    home.mkdir()
    audio.tofile(home / "in.raw")  # raw S16 16 kHz: what the ALSA file device plays into the stream
    (home / ".asoundrc").write_text(ASOUNDRC.format(raw=home / "in.raw"))
    sf.write(tmp_path / "in.wav", audio, 16000, subtype="PCM_16")
    model = str(tiny_export["dir"])
    listed = run_env({"HOME": str(home)}, "live", "--list-devices")
    assert listed.returncode == 0 and "mt2kdfile" in listed.stdout, listed.stderr
    live = run_env({"HOME": str(home)}, "live", "--model", model, "--max-seconds", "2.5", "--sample-rate", "16000",
                   "--jsonl")
    assert live.returncode == 0, live.stderr[-2000:]
    ran = run("run", "--model", model, "--jsonl", "--chunk-ms", "20", str(tmp_path / "in.wav"))
    live_events = [json.loads(line) for line in live.stdout.splitlines()]
    run_events = [{k: v for k, v in json.loads(line).items() if k != "file"} for line in ran.stdout.splitlines()]
    assert live_events == run_events and any(e["type"] == "final" for e in live_events)
    plain = run_env({"HOME": str(home)}, "live", "--model", model, "--max-seconds", "1", "--plain")
    assert plain.returncode == 0 and "unknown:" in plain.stdout


def test_live_without_an_input_device_says_so(tiny_export, tmp_path):
    empty = tmp_path / "empty-home"
    empty.mkdir()
    out = run_env({"HOME": str(empty)}, "live", "--model", str(tiny_export["dir"]))
    assert out.returncode == 2 and "no audio input device found" in out.stderr and "Traceback" not in out.stderr


def test_bench_measures_every_form_side_by_side(tiny_export, tmp_path):
    import json

    students = []  # three "single-task students": the same export under three names
    for task in ("asr", "at", "sv"):
        (tmp_path / task).symlink_to(tiny_export["dir"], target_is_directory=True)
        students.append(str(tmp_path / task))
    out = run("bench", "--model", str(tiny_export["dir"]), "--checkpoint", str(tiny_export["ckpt"]),
              "--seconds", "3", "--cores", "1", "--json", "--single-task", ",".join(students))
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    rows = {r["what"]: r for r in result["rows"]}
    for what in ("onnx fp32 (C++ core)", "onnx int8 (C++ core)", "executorch fp32 (C++ core)",
                 "executorch int8 (C++ core)", "torch eager fp32", "sherpa-onnx ASR only (our zipformer2_ctc export), fp32",
                 "sherpa-onnx ASR only (our zipformer2_ctc export), int8"):
        assert what in rows and "error" not in rows[what], (what, rows.get(what))
        assert rows[what]["median_ms"] > 0 and rows[what]["p95_ms"] >= rows[what]["median_ms"]
    assert all(not r["torch_loaded"] for w, r in rows.items() if "C++ core" in w)  # runtime-only processes
    assert rows["torch eager fp32"]["torch_loaded"]
    assert result["ratios"]["three_tasks_vs_sherpa_asr_only_1core"] > 0
    assert result["ratios"]["three_tasks_executorch_int8_vs_sherpa_int8_asr_only_1core"] > 0
    assert "single-task sv: executorch int8 (C++ core)" in rows
    # one model against three copies of itself (about a third on an idle machine). Its size is the benchmark's
    # to report, not a test's to assert: beside a training job it read 2.8 (session 14, `make test-fast`).
    assert result["ratios"]["shared_vs_3_single_task_models_1core"] > 0
    assert result["model_bytes"]["model.int8.pte"] < result["model_bytes"]["model.fp32.pte"]


def test_bench_reports_parallel_streams_and_the_memory_of_each_process(tiny_export, cpp_build, tmp_path):
    import json

    model = tmp_path / "model"
    shutil.copytree(tiny_export["dir"], model)
    (model / "demo").mkdir()
    sf.write(model / "demo" / "clip.wav", speech_like(2.0), 16000, subtype="PCM_16")
    out = run("bench", "--model", str(model), "--seconds", "2", "--cores", "1", "--json",
              "--cpp-app", str(cpp_build / "mt2kd_transcribe"))
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    parallel = {r["what"].split(",")[0]: r for r in result["parallel_rows"]}
    assert set(parallel) == {"executorch int8", "onnx int8"}
    for r in parallel.values():
        assert set(r["audio_s_per_s"]) == {"1", "2", "4"} and min(r["audio_s_per_s"].values()) > 0, r
    assert result["ratios"]["executorch_int8_4_streams_vs_1_1core"] > 0
    assert result["ratios"]["executorch_int8_vs_fp32_1core"] > 0
    app, python = result["memory_rows"]
    assert "mt2kd_transcribe" in app["what"] and app["peak_rss_mb"] > 0, app
    stages = python["stages"]
    assert 0 < stages["imports_mb"] < stages["engine_loaded_mb"] <= python["peak_rss_mb"]
    assert python["heavy_modules_loaded"] == [] and python["events"] > 0  # a runtime-only process, that streamed
    assert app["peak_rss_mb"] < python["peak_rss_mb"]  # the same work without an interpreter and numpy

    missing = run("bench", "--model", str(model), "--seconds", "1", "--cores", "1", "--cpp-app", str(tmp_path / "none"))
    assert missing.returncode == 0, missing.stderr[-2000:]
    assert "skipped: " in missing.stdout and "make cpp-test" in missing.stdout


def test_export_command_wraps_the_exporter(tiny_export, tmp_path):
    import subprocess as sp

    out = sp.run([CLI, "export", str(tiny_export["ckpt"]), "--out", str(tmp_path / "m"), "--forms", "onnx-fp32"],
                 capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "m" / "model.fp32.onnx").is_file() and (tmp_path / "m" / "manifest.json").is_file()


def test_export_command_takes_every_option_of_the_exporter():
    out = subprocess.run([CLI, "export", "--help"], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("usage: mt2kd-edge export")
    for option in ("--out", "--forms", "--calibration", "--calibration-files", "--pte-int8"):
        assert option in out.stdout, option


def test_run_feeds_pieces_of_piece_ms_and_the_old_spelling_still_works(tiny_export, tmp_path):
    sf.write(tmp_path / "in.wav", speech_like(1.5), 16000, subtype="PCM_16")
    new = run("run", "--model", str(tiny_export["dir"]), "--jsonl", "--piece-ms", "40", str(tmp_path / "in.wav"))
    old = run("run", "--model", str(tiny_export["dir"]), "--jsonl", "--chunk-ms", "40", str(tmp_path / "in.wav"))
    assert new.returncode == old.returncode == 0, new.stderr + old.stderr
    assert new.stdout == old.stdout and new.stdout
    assert "--chunk-ms is now --piece-ms" in old.stderr and not new.stderr.strip()

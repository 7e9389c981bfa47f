#!/usr/bin/env bash
# make env's first step: Python 3.11 with its venv module, Java 17+ for Spark, and the OpenMP
# runtime that LightGBM's PyPI wheel links against (unlike torch's, it does not bundle one).
# Where one is missing on Debian/Ubuntu and this user may install packages (root, or sudo),
# apt-get installs it and one line says so; otherwise this stops with one line naming the
# package. The Java check is thresher.prerequisites, the one every Spark session runs.
# usage: install_prerequisites.sh [PYTHON]   (default python3.11)
set -euo pipefail
python=${1:-python3.11}
repo=$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)
python_package=python3.11-venv

python_ready() {
  # Debian splits ensurepip (what `python -m venv` needs) into python3.X-venv.
  command -v "$python" >/dev/null 2>&1 &&
    "$python" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info[:2] != (3, 11))' \
      >/dev/null 2>&1
}

# Sets `as_root` to the prefix that runs apt-get as root, or fails when there is none.
may_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$EUID" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    return 1
  fi
}

apt_updated=no
apt_install() {
  local package=$1 why=$2
  local log=${TMPDIR:-/tmp}/thresher-apt-$$.log
  echo "make env: $why: installing $package with ${as_root[*]:+sudo }apt-get"
  {
    if [ "$apt_updated" = no ]; then "${as_root[@]}" apt-get update -qq && apt_updated=yes; fi
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "$package"
  } >"$log" 2>&1 || {
    tail -n 5 "$log" >&2
    echo "make env: apt-get could not install $package (log: $log): install it, then re-run" >&2
    exit 1
  }
  rm -f "$log"
}

if ! python_ready; then
  # Installing the package helps only when PYTHON is the distribution's python3.11.
  if [ "$python" = python3.11 ] && may_install; then
    apt_install "$python_package" "Python 3.11 with venv not found"
  fi
  python_ready || {
    echo "make env: $python is not Python 3.11 with its venv module: install $python_package" \
      "(Debian/Ubuntu) or run make env PYTHON=/path/to/python3.11" >&2
    exit 1
  }
fi

java_check() { PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" "$python" -m thresher.prerequisites; }
if ! java_package=$(java_check 2>/dev/null); then
  if [ -n "$java_package" ] && may_install; then
    apt_install "$java_package" "Spark's Java 17+ not found"
  fi
  # Prints the one-line reason (and the package that fixes it) when Java is still missing.
  java_check >/dev/null
fi

openmp_ready() { "$python" -c 'import ctypes; ctypes.CDLL("libgomp.so.1")' >/dev/null 2>&1; }
if ! openmp_ready; then
  if may_install; then
    apt_install libgomp1 "the OpenMP runtime LightGBM loads (libgomp.so.1) not found"
  fi
  openmp_ready || {
    echo "make env: libgomp.so.1, the OpenMP runtime LightGBM loads, not found: install libgomp1" >&2
    exit 1
  }
fi

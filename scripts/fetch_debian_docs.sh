#!/usr/bin/env bash
# Unpack Debian documentation packages (real multilingual HTML and Mallard pages) into $1.
# Idempotent: a package already unpacked is skipped. Needs apt-get (Debian/Ubuntu).
set -euo pipefail
dest=${1:?usage: fetch_debian_docs.sh DEST}
packages=(debian-handbook installation-guide-amd64 installation-guide-arm64 gnome-user-docs)
mkdir -p "$dest" "$dest/../debs"
debs=$(cd "$dest/../debs" && pwd)
missing=()
for pkg in "${packages[@]}"; do
  [ -f "$dest/$pkg/.unpacked" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && { echo "demo input present: $dest"; exit 0; }

command -v apt-get >/dev/null || { echo "apt-get not found: run 'make demo DATA=path' with your own files" >&2; exit 1; }
cd "$debs"
if ! apt-get download "${missing[@]}" >/dev/null 2>&1; then
  echo "refreshing the apt package lists" >&2
  apt-get update -qq
  apt-get download "${missing[@]}"
fi
for pkg in "${missing[@]}"; do
  deb=$(ls -t "$debs/${pkg}"_*.deb | head -1)
  rm -rf "${dest:?}/$pkg"
  mkdir -p "$dest/$pkg"
  dpkg -x "$deb" "$dest/$pkg"
  # Keep only the pages; images, stylesheets and changelogs are not documents.
  find "$dest/$pkg" -type f ! -name '*.html' ! -name '*.page' -delete
  touch "$dest/$pkg/.unpacked"
  echo "unpacked $pkg: $(find "$dest/$pkg" -type f \( -name '*.html' -o -name '*.page' \) | wc -l) pages"
done

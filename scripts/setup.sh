#!/usr/bin/env bash
# Installs what itsdump needs to build and test on Debian: as root with apt-get; otherwise it
# prints the exact apt-get line and stops. Sourced by run.sh and test.sh.
set -euo pipefail
# zsh and fish: the tests load the completion scripts in them (bash is always there).
# libbz2-dev and liblzma-dev: the release build is one static executable, and the static libdw needs them.
packages=(libelf-dev libdw-dev zlib1g-dev liblzo2-dev libsnappy-dev libzstd-dev libbz2-dev liblzma-dev pkg-config zstd tar zsh fish)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${missing[@]}" >&2
  else
    echo "setup: missing Debian packages; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "setup: no Swift toolchain on PATH: install Swift 6.2 or later (swift.org) and retry" >&2
  exit 2
fi

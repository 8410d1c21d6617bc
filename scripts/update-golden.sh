#!/usr/bin/env bash
# Regenerates the golden CLI outputs of Tests/itsdumpTests/Golden from the bundled extracts.
# Run it only on purpose, after an intended change of the output, and review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -q
bin=$(swift build --show-bin-path)/itsdump
g=Tests/itsdumpTests/Golden
mkdir -p "$g"
while read -r name args; do
  # shellcheck disable=SC2086
  COLUMNS=80 "$bin" $args > "$g/$name" || true
done < "$g/commands.txt"

#!/usr/bin/env bash
# The first command for a newcomer: install what is missing, build, and print the routing
# graph of the bundled real KVM snapshot extract. Extra arguments go to `itsdump routes`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release -q
# The extract carries its registers (its ITSDUMP note): no flags.
exec "$(swift build -c release --show-bin-path)/itsdump" routes fixtures/kvm-basic/core.extract.elf "$@"

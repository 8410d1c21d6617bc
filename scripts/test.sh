#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test. The real snapshots
# are read from ../shared/fixtures (or $ITSDUMP_SHARED_FIXTURES) and unpacked into a
# temporary folder once per run. Then Documentation/'s generated files are checked.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build "$@"
# The man page, completions and generated pages of Documentation/ must be what the code makes.
scripts/update-docs.sh --check

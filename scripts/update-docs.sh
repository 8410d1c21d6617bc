#!/usr/bin/env bash
# Rewrites the generated parts of Documentation/ (the rule table of check-rules.md) from the
# code, by running the test that compares them with ITSDUMP_UPDATE_DOCS=1. Review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests -q
ITSDUMP_UPDATE_DOCS=1 swift test --skip-build --filter DocumentationTests

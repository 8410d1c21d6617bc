#!/usr/bin/env bash
# Regenerates what Documentation/ derives from the code, and with --check only compares:
#   - Documentation/itsdump.1, the man page, from the command definitions (swift-argument-
#     parser's generate-manual plugin, debug build);
#   - Documentation/completions/ (itsdump.bash, _itsdump for zsh, itsdump.fish), from
#     `itsdump --generate-completion-script`;
#   - the rule table of Documentation/check-rules.md (RuleID.allCases) and the outputs of
#     Documentation/troubleshooting.md, through the tests that compare them.
# Without --check, review the diff and commit it. With --check, exit 1 on any difference
# (scripts/test.sh runs it, so CI fails on a stale page).
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1
# The manual's date: the version's, not the day it is regenerated (so that --check is stable).
date=2026-12-07
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
swift build --build-tests -q
bin=$(swift build --show-bin-path)/itsdump
swift package --allow-writing-to-directory "$out" generate-manual --configuration debug --date "$date" \
    --output-directory "$out" >/dev/null
# The plugin leaves the blank lines of each abstract's text in the page, which mdoc warns about
# ("Empty input line"): a paragraph break is .Pp in mdoc.
sed -i 's/^$/.Pp/' "$out/itsdump.1"
mkdir -p "$out/completions"
"$bin" --generate-completion-script bash > "$out/completions/itsdump.bash"
"$bin" --generate-completion-script zsh > "$out/completions/_itsdump"
"$bin" --generate-completion-script fish > "$out/completions/itsdump.fish"
status=0
for f in itsdump.1 completions/itsdump.bash completions/_itsdump completions/itsdump.fish; do
    if [ $check = 1 ]; then
        if ! cmp -s "$out/$f" "Documentation/$f"; then
            echo "Documentation/$f is stale: run scripts/update-docs.sh" >&2
            status=1
        fi
    else
        mkdir -p "$(dirname "Documentation/$f")"
        cp "$out/$f" "Documentation/$f"
    fi
done
if [ $check = 1 ]; then
    swift test --skip-build --filter 'DocumentationTests|TroubleshootingPageTests' >/dev/null || {
        echo "Documentation/check-rules.md or troubleshooting.md is stale: run scripts/update-docs.sh" >&2
        status=1
    }
else
    ITSDUMP_UPDATE_DOCS=1 swift test --skip-build --filter 'DocumentationTests|TroubleshootingPageTests' >/dev/null
fi
exit $status

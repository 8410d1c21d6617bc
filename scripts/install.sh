#!/usr/bin/env bash
# Installs itsdump under PREFIX (default /usr/local):
#   PREFIX/bin/itsdump                                   the tool (release build)
#   PREFIX/share/man/man1/itsdump.1                      the man page (Documentation/itsdump.1)
#   PREFIX/share/bash-completion/completions/itsdump     bash completion
#   PREFIX/share/zsh/site-functions/_itsdump             zsh completion
#   PREFIX/share/fish/vendor_completions.d/itsdump.fish  fish completion
#   PREFIX/share/itsdump/commit                          the git commit, for `itsdump --version`
# ITSDUMP_BIN=path installs that binary instead of building one (the tests use it).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
if [ -n "${ITSDUMP_BIN:-}" ]; then
    bin=$ITSDUMP_BIN
else
    scripts/setup.sh
    swift build -c release
    bin=$(swift build -c release --show-bin-path)/itsdump
fi
install -d "$prefix/bin" "$prefix/share/man/man1" "$prefix/share/bash-completion/completions" \
    "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d" "$prefix/share/itsdump"
install -m 0755 "$bin" "$prefix/bin/itsdump"
install -m 0644 Documentation/itsdump.1 "$prefix/share/man/man1/itsdump.1"
install -m 0644 Documentation/completions/itsdump.bash "$prefix/share/bash-completion/completions/itsdump"
install -m 0644 Documentation/completions/_itsdump "$prefix/share/zsh/site-functions/_itsdump"
install -m 0644 Documentation/completions/itsdump.fish "$prefix/share/fish/vendor_completions.d/itsdump.fish"
if commit=$(git rev-parse HEAD 2>/dev/null); then
    printf '%s\n' "$commit" > "$prefix/share/itsdump/commit"
else
    rm -f "$prefix/share/itsdump/commit"
fi
echo "installed itsdump $("$prefix/bin/itsdump" --version) under $prefix"
echo "man page: man itsdump (if $prefix/share/man is on MANPATH); completions load in new shells"

#!/usr/bin/env bash
# The bash completion offers shmframe's commands, a command's options and the names of
# the live feeds (from a real publisher); the zsh completion at least parses.
#   completion_test.sh SHMFRAME_CLI SOURCE_DIR
set -euo pipefail
CLI=$1
SOURCE_DIR=$2
if [ ! -f /usr/share/bash-completion/bash_completion ]; then
    echo "skipped: bash-completion is not installed"
    exit 77
fi
WORK=$(mktemp -d)
publisher=""
cleanup() {
    if [ -n "$publisher" ]; then
        kill "$publisher" 2>/dev/null || true
        wait "$publisher" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
export SHMFRAME_DIR="$WORK/feeds"

"$CLI" publish completion-cam --quiet --size 32x32 --fps 10 &
publisher=$!
for _ in $(seq 200); do
    "$CLI" list --names | grep -qx completion-cam && break
    sleep 0.1
done

# bash-completion is written for interactive shells: no -e, -u or pipefail from here.
set +euo pipefail
# shellcheck disable=SC1091
source /usr/share/bash-completion/bash_completion
# shellcheck disable=SC1091
source "$SOURCE_DIR/tools/completion/shmframe.bash"

# Completes "$@" (the last word is the one being typed) and prints the candidates.
complete_words() {
    COMP_WORDS=("$CLI" "$@")
    COMP_CWORD=$#
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _shmframe
    printf '%s\n' "${COMPREPLY[@]}"
}

failures=0
expect() {
    local want=$1
    shift
    if complete_words "$@" | grep -qx -- "$want"; then
        echo "ok: '$*' offers $want"
    else
        echo "FAIL: '$*' does not offer $want (got: $(complete_words "$@" | tr '\n' ' '))"
        failures=$((failures + 1))
    fi
}

expect top t
expect info in
expect completion-cam info comp
expect completion-cam stats ""
expect completion-cam --dir "$SHMFRAME_DIR" snapshot ""
expect --json top --j
expect --names list --na
expect NV12 publish cam --format N

if command -v zsh >/dev/null 2>&1; then
    zsh -n "$SOURCE_DIR/tools/completion/_shmframe" || { echo "FAIL: _shmframe does not parse"; failures=$((failures + 1)); }
fi
[ "$failures" = 0 ] || exit 1
echo "1 passed, 0 failed"

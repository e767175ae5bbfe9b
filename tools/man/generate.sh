#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Generates the manual pages of a program from its own --help with help2man, so the
# pages cannot drift from the program: PROGRAM.1, and PROGRAM-COMMAND.1 for every
# command listed under "Subcommands:" in PROGRAM --help (CLI11's layout).
#   generate.sh PROGRAM OUTDIR VERSION "SHORT DESCRIPTION" [--see-also TEXT]
set -euo pipefail
program=$1
outdir=$2
version=$3
description=$4
name=$(basename "$program")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$outdir"
rm -f "$outdir/$name.1" "$outdir/$name"-*.1

commands=$("$program" --help 2>/dev/null |
    awk 'tolower($0) ~ /^subcommands:/ {on = 1; next} on && /^[^ ]/ {on = 0} on && NF {print $1}')

# The main page lists the commands and points at their own pages.
{
    echo "[ENVIRONMENT]"
    echo ".TP"
    echo ".B SHMFRAME_DIR"
    echo "The feed directory, instead of \$XDG_RUNTIME_DIR/shmframe or /tmp/shmframe-UID."
    if [ -n "$commands" ]; then
        echo "[SEE ALSO]"
        first=1
        for command in $commands; do
            [ "$first" = 1 ] || echo ","
            printf '.BR %s-%s (1)' "$name" "$command"
            first=0
        done
        echo
    fi
} > "$work/main.h2m"
help2man --no-info --version-string="$version" \
    --name="$description" --include="$work/main.h2m" --output="$outdir/$name.1" "$program"

# One page per command, through a wrapper named PROGRAM-COMMAND that runs
# "PROGRAM COMMAND --help".
for command in $commands; do
    wrapper="$work/$name-$command"
    printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$program" "$command" > "$wrapper"
    chmod +x "$wrapper"
    summary=$("$program" --help 2>/dev/null |
        awk -v c="$command" 'tolower($0) ~ /^subcommands:/ {on = 1; next} on && $1 == c {$1 = ""; sub(/^ +/, ""); print; exit}')
    printf '[SEE ALSO]\n.BR %s (1)\n' "$name" > "$work/$command.h2m"
    help2man --no-info --version-string="$version" \
        --name="${summary:-$name $command}" --include="$work/$command.h2m" \
        --output="$outdir/$name-$command.1" "$wrapper"
    # help2man names the page after the wrapper: call it what the user types.
    sed -i "s|$work/||g" "$outdir/$name-$command.1"
done

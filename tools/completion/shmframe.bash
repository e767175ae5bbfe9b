# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for shmframe: commands and options come from `shmframe --help`
# itself (so they cannot drift from the program), feed names from
# `shmframe list --names` (the live feeds of $SHMFRAME_DIR or --dir).

_shmframe_commands() {
    "$1" --help 2>/dev/null | awk 'tolower($0) ~ /^subcommands:/ {on = 1; next} on && /^[^ ]/ {on = 0} on && NF {print $1}'
}

_shmframe_options() {
    "$1" ${2:+"$2"} --help 2>/dev/null | grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,' | sort -u
}

_shmframe() {
    local cur prev words cword
    _init_completion || return
    local program=${words[0]} command="" dir="" i
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            --dir) dir=${words[i + 1]}; ((i++)) ;;
            -*) ;;
            *) if [[ -z $command ]]; then command=${words[i]}; fi ;;
        esac
    done

    case "$prev" in
        --dir) _filedir -d; return ;;
        --out) _filedir -d; return ;;
        --format) COMPREPLY=($(compgen -W 'RGBA BGRA RGBx BGRx RGB BGR GRAY8 GRAY16_LE NV12 I420 YUY2 UYVY' -- "$cur")); return ;;
        --pattern) COMPREPLY=($(compgen -W 'moving gradient checkers noise smpte solid:' -- "$cur")); return ;;
        --mode) COMPREPLY=($(compgen -W 'latest sequential' -- "$cur")); return ;;
        --policy) COMPREPLY=($(compgen -W 'never-block lossless' -- "$cur")); return ;;
        --size | --fps | --frames | --interval | --count | --timeout | --slots | --lease-limit | --align | --access | --wait-readers | --runs) return ;;
    esac

    if [[ -z $command ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$(_shmframe_options "$program")" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_shmframe_commands "$program")" -- "$cur"))
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_shmframe_options "$program" "$command")" -- "$cur"))
        return
    fi
    case "$command" in
        info | stats | snapshot | publish | serve)
            # The first positional argument is a feed; snapshot's second is a file.
            local positional=0
            for ((i = 1; i < cword; i++)); do
                case "${words[i]}" in
                    --dir) ((i++)) ;;
                    -*) ;;
                    *) ((positional++)) ;;
                esac
            done
            if ((positional == 1)); then
                COMPREPLY=($(compgen -W "$("$program" ${dir:+--dir "$dir"} list --names 2>/dev/null)" -- "$cur"))
            elif [[ $command == snapshot ]]; then
                _filedir
            fi
            ;;
    esac
}
complete -F _shmframe shmframe

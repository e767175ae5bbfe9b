#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in their own build dir and runs
# each for a bounded time, starting from the seed corpus in tests/fuzz/corpus.
#
#   scripts/fuzz.sh [--seconds N] [--build-dir DIR] [--jobs N] [TARGET...]
#
# Defaults: 30 s per target, build dir build-fuzz at the repository root. Inputs the
# fuzzer finds interesting go to DIR/corpus (never into the repository); a crash is
# saved as DIR/artifacts/TARGET-crash-* and makes the script fail. Exit code 77 means
# "skipped": clang or its libFuzzer runtime is not installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=30
build="$root/build-fuzz"
jobs=2
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --build-dir) build="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_protocol_parse fuzz_pool_header)

cxx="${CXX_FUZZ:-$(command -v clang++ || true)}"
if [[ -z "$cxx" ]]; then
    echo "fuzz.sh: SKIPPED: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev)"
    exit 77
fi
resource_dir="$("$cxx" -print-resource-dir)"
if ! ls "$resource_dir"/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
    echo "fuzz.sh: SKIPPED: no libFuzzer runtime for $cxx (Debian: apt-get install libclang-rt-14-dev)"
    exit 77
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root/tests/fuzz" -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --parallel "$jobs" --target "${targets[@]}"

mkdir -p "$build/artifacts"
status=0
for target in "${targets[@]}"; do
    seeds="$root/tests/fuzz/corpus/$target"
    corpus="$build/corpus/$target"
    mkdir -p "$corpus"
    echo "fuzz.sh: $target for ${seconds}s"
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a leak or a
    # huge allocation is a failure too.
    if ! "$build/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" \
        "$corpus" "$seeds" 2>"$build/$target.log"; then
        status=1
        echo "fuzz.sh: $target FAILED; see $build/$target.log and $build/artifacts/" >&2
        tail -n 40 "$build/$target.log" >&2
    fi
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ +DONE" "$build/$target.log" || true
done
exit "$status"

#!/usr/bin/env bash
# Builds shmframe with sanitizers and runs tests there:
#   address -> build-asan, -DSHMFRAME_SANITIZE=address (AddressSanitizer + UBSan + LeakSanitizer)
#   thread  -> build-tsan, -DSHMFRAME_SANITIZE=thread  (ThreadSanitizer)
#
#   scripts/sanitize.sh [address|thread|all] [--everything] [--jobs N] [-- CTEST_ARGS...]
#
# By default it builds the library, the test peer and the library and robustness
# suites, and runs the tests labelled lib or robustness (the churn test included, for
# SHMFRAME_CHURN_SECONDS, 30 s unless set). --everything builds every target and runs
# every test but the fuzzers (sanitized builds of their own), benchmarks and install checks. Extra arguments
# after -- go to ctest, e.g. -- -R Hostile. Any sanitizer report fails the run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kinds=(address)
everything=0
jobs=2
ctest_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        address|thread) kinds=("$1"); shift ;;
        all) kinds=(address thread); shift ;;
        --everything) everything=1; shift ;;
        --jobs) jobs="$2"; shift 2 ;;
        --) shift; ctest_args=("$@"); break ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "sanitize.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

export SHMFRAME_CHURN_SECONDS="${SHMFRAME_CHURN_SECONDS:-30}"
# halt_on_error: the first report fails the test that caused it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/scripts/tsan-suppressions.txt}"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
status=0
for kind in "${kinds[@]}"; do
    extra_flags=""
    case "$kind" in
        address) build="$root/build-asan" ;;
        # g++ warns that TSan does not model std::atomic_thread_fence (-Wtsan); the
        # reader's seqlock copy uses one. Keep every other warning an error.
        thread) build="$root/build-tsan"; extra_flags="-Wno-tsan" ;;
    esac
    echo "sanitize.sh: $kind build in $build"
    cmake -S "$root" -B "$build" "${generator[@]}" -DSHMFRAME_SANITIZE="$kind" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMFRAME_WERROR=ON \
        -DCMAKE_CXX_FLAGS="$extra_flags" >/dev/null
    if [[ $everything -eq 1 ]]; then
        cmake --build "$build" --parallel "$jobs"
        args=(-LE 'fuzz|bench|install|package')
    else
        cmake --build "$build" --parallel "$jobs" --target shmframe shmframe_test_peer \
            shmframe_lib_tests shmframe_robustness_tests shmframe_churn_test shmframe_c_api_test
        args=(-L 'lib|robustness')
    fi
    [[ ${#ctest_args[@]} -gt 0 ]] && args+=("${ctest_args[@]}")
    if ! (cd "$build" && ctest --output-on-failure -j "$jobs" "${args[@]}"); then
        echo "sanitize.sh: $kind run FAILED" >&2
        status=1
    fi
done
exit "$status"

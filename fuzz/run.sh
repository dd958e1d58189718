#!/usr/bin/env bash
# Run the harness for N inputs (default 100000): fuzz/run.sh N [libFuzzer flags...]
# Seeds go to build/fuzz/seeds, the growing corpus to build/fuzz/corpus, crash inputs and
# mismatches to build/fuzz/artifacts (all ignored by git). Exits non-zero on a crash, a
# sanitizer report or a mismatch. Build first with fuzz/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${FUZZ_VENV:-.venv-fuzz}
RUNS=${1:-100000}
shift || true
out=${FUZZ_OUT:-build/fuzz}
mkdir -p "$out/corpus" "$out/artifacts"
"$VENV/bin/python" fuzz/fuzz_cut.py --seeds "$out/seeds"
preload=""
[ -f "$VENV/asan_with_fuzzer.so" ] && preload="$PWD/$VENV/asan_with_fuzzer.so"
# Python itself leaks by design: leak detection off; everything else aborts.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# run from fuzz/: the installed iucut (instrumented core), not src/
cd fuzz
LD_PRELOAD="$preload" "../$VENV/bin/python" fuzz_cut.py "../$out/corpus" "../$out/seeds" \
  -runs="$RUNS" -max_len="${FUZZ_MAX_LEN:-4096}" -artifact_prefix="../$out/artifacts/" -print_final_stats=1 "$@"

#!/usr/bin/env bash
# Build the fuzzing environment, never committed: a virtual environment of its own
# (.venv-fuzz) with atheris and iucut installed from this checkout, its compiled cutter
# core built by clang with AddressSanitizer, UBSan and libFuzzer's coverage hooks, and the
# runtime to preload (ASan + UBSan + libFuzzer in one shared object, what atheris calls
# asan_with_fuzzer.so). Needs clang and compiler-rt (Debian: clang, libclang-rt-*-dev).
# FUZZ_SANITIZE=0 builds the core plainly (no sanitizers, no coverage, no preload).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${FUZZ_VENV:-.venv-fuzz}
SANITIZE=${FUZZ_SANITIZE:-1}
CLANG=${CLANG:-$(command -v clang || command -v clang-14 || true)}
if [ -z "$CLANG" ] && [ "$SANITIZE" = 1 ]; then
  echo "fuzz/build.sh: no clang on PATH (Debian: apt-get install clang libclang-rt-14-dev);" \
    "FUZZ_SANITIZE=0 builds without sanitizers" >&2
  exit 2
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip setuptools wheel
"$VENV/bin/pip" install --quiet atheris

# Without sanitizers the core is built plainly (its coverage hooks would need the
# preloaded runtime): atheris then mutates without feedback from the C code.
flags="-g -O1"
if [ "$SANITIZE" = 1 ]; then
  flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
  # ASan, UBSan and libFuzzer merged into one runtime, preloaded into Python (atheris'
  # documented way to fuzz native extensions): the core's coverage counters then reach
  # the fuzzer, and atheris runs on the preloaded libFuzzer.
  rt=$(dirname "$("$CLANG" -print-file-name=libclang_rt.asan-x86_64.a)")
  tmp=$(mktemp -d)
  cp "$rt/libclang_rt.asan-x86_64.a" "$tmp/asan.a"
  # a shared object cannot carry .preinit_array: drop the preinit object (atheris does too)
  ar d "$tmp/asan.a" $(ar t "$tmp/asan.a" | grep preinit)
  "$CLANG" -shared -o "$VENV/asan_with_fuzzer.so" \
    -Wl,--whole-archive "$tmp/asan.a" "$rt/libclang_rt.fuzzer_no_main-x86_64.a" \
    -Wl,--no-whole-archive -lpthread -ldl -lrt -lm -lstdc++
  rm -rf "$tmp"
else
  rm -f "$VENV/asan_with_fuzzer.so"
fi
# Not editable: the instrumented core goes to the fuzzing environment's site-packages,
# never into src/ (where .venv's ordinary build lives). setuptools reuses object files
# under build/ that look up to date: clear them before and after, so neither build links
# the other's objects.
rm -rf build/temp.* build/lib.*
cc=("CC=$CLANG" "LDSHARED=$CLANG -shared")
[ -n "$CLANG" ] || cc=()
env ${cc[@]+"${cc[@]}"} CFLAGS="$flags" LDFLAGS="" \
  "$VENV/bin/pip" install --quiet --no-build-isolation --force-reinstall .
rm -rf build/temp.* build/lib.*
echo "fuzz/build.sh: $VENV ready (sanitizers: $SANITIZE)"

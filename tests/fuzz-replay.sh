#!/usr/bin/env bash
# Replay every seed of the fuzz corpora once: build the libFuzzer targets (fuzz/build.sh, clang,
# ASan + UBSan) into BUILD_DIR/fuzz and run each target on each file of fuzz/corpus/TARGET.
# One test per corpus file: it passes when the target returns from that input (no sanitizer
# report, no failed property, no timeout). Ends with one line "fuzz: N passed, N failed".
# Usage: tests/fuzz-replay.sh BUILD_DIR          (tests/run.sh passes build-test)
#
# A target runs all its files in one process ("TARGET FILE..." runs each once, as -runs=0 does
# for a directory) and is started again after the file that failed, so one bad input does not
# hide the others. A target without a corpus, or a build that fails, counts as one failure.
# Crash artifacts go to BUILD_DIR/fuzz/artifacts/, never into the work tree.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
out="$(cd "$1" && pwd)/fuzz"
pass=0
fail=0

if ! "$root/fuzz/build.sh" "$out"; then
  echo "fuzz: the fuzz targets did not build"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi
mkdir -p "$out/artifacts"
log="$out/replay.log"

for src in "$root"/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  files=()
  while IFS= read -r -d '' f; do files+=("$f"); done \
    < <(find "$root/fuzz/corpus/$t" -maxdepth 1 -type f -print0 2>/dev/null | LC_ALL=C sort -z)
  if [ ${#files[@]} -eq 0 ]; then
    echo "$t: no seed corpus in fuzz/corpus/$t"
    fail=$((fail + 1))
    continue
  fi
  tp=0
  tf=0
  i=0
  while [ "$i" -lt ${#files[@]} ]; do
    "$out/$t" -timeout=25 -rss_limit_mb=2560 -artifact_prefix="$out/artifacts/$t-" \
      "${files[@]:$i}" >"$log" 2>&1
    rc=$?
    done_n=$(grep -c '^Executed ' "$log")
    tp=$((tp + done_n))
    i=$((i + done_n))
    if [ "$rc" -ne 0 ]; then
      tf=$((tf + 1))
      if [ "$i" -lt ${#files[@]} ]; then
        echo "$t: FAILED on ${files[$i]#"$root"/} (exit $rc):"
        i=$((i + 1))
      else
        echo "$t: exit $rc after its last input (a leak?):"
      fi
      grep -v -e '^Running: ' -e '^Executed ' "$log" | tail -n 40 | sed 's/^/    /'
    fi
  done
  echo "$t: $tp passed, $tf failed (of ${#files[@]} corpus files)"
  pass=$((pass + tp))
  fail=$((fail + tf))
done

echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

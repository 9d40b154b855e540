#!/usr/bin/env bash
# Fuzz each libFuzzer target for a bounded time, one after the other (what `make fuzz` runs).
# Usage: fuzz/fuzz.sh BUILD_DIR [SECONDS]      (SECONDS per target, default 60)
#
# Each target starts from its seed corpus fuzz/corpus/TARGET (read only) and writes the new
# inputs it finds to BUILD_DIR/fuzz/corpus-new/TARGET, which is kept from run to run (and read
# again next time) but is not in git; crashes go to BUILD_DIR/fuzz/crashes/TARGET-crash-*.
# Exit 1 when a target crashed (a real bug: the artifact reproduces it with
# "BUILD_DIR/fuzz/TARGET ARTIFACT"). fuzz/TARGET.dict, when present, is the target's dictionary.
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ] || ! mkdir -p "$1"; then
  echo "usage: $0 BUILD_DIR [SECONDS]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
out="$(cd "$1" && pwd)/fuzz"
secs=${2:-60}
case "$secs" in '' | *[!0-9]*) echo "fuzz: SECONDS must be a whole number, not '$secs'" >&2; exit 2 ;; esac

"$root/fuzz/build.sh" "$out" || exit 1
mkdir -p "$out/crashes" "$out/corpus-new"
crashed=0
for src in "$root"/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  new="$out/corpus-new/$t"
  mkdir -p "$new"
  before=$(find "$new" -type f | wc -l)
  dict=()
  [ -f "$root/fuzz/$t.dict" ] && dict=(-dict="$root/fuzz/$t.dict")
  echo "fuzz: $t for ${secs}s ..."
  "$out/$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/$t-" "${dict[@]}" "$new" "$root/fuzz/corpus/$t" >"$out/$t.log" 2>&1
  rc=$?
  after=$(find "$new" -type f | wc -l)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -n 1)
  echo "fuzz: $t: ${runs:-?} runs, ${cov:-cov: ?}, $((after - before)) new inputs (log $out/$t.log)"
  if [ "$rc" -ne 0 ]; then
    crashed=1
    echo "fuzz: $t CRASHED (exit $rc); artifacts:"
    ls -1 "$out/crashes/$t-"* 2>/dev/null | sed 's/^/    /'
    grep -m 1 -A 30 -e '^==[0-9]*==ERROR' -e 'runtime error' -e 'fuzz_[a-z_]*: .*:[0-9]*:' "$out/$t.log" | sed 's/^/    /'
  fi
done
echo "fuzz: new inputs are in $out/corpus-new/ (not in git); copy one into fuzz/corpus/TARGET/ to keep it as a seed"
echo "fuzz: crashes, if any, are in $out/crashes/"
exit "$crashed"

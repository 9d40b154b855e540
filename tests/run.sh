#!/usr/bin/env bash
# Run every test tier against a build and end with exactly one line "N passed, N failed".
# Usage: tests/run.sh BUILD_DIR        (make test builds BUILD_DIR=build-test first)
#
# Tiers, in order; each prints its own "TIER: P passed, F failed" line as it goes:
#   layers  tests/layers.sh: the include-direction check (one test per source file)
#   unit    every meson test executable, counted from Criterion's Synthesis lines
#   api     node --test tests/api/*.test.mjs against the real hpf serve (HPF_BIN)
#   e2e     node --test tests/e2e/*.test.mjs (browser tests)
#   fault   node --test tests/fault/*.test.mjs, when that folder has tests (optional tier)
# Exit non-zero when any test failed or a (required) tier ran no test at all; an empty tier
# counts as one failure. Sanitizers halt on the first error, so a report fails its test.
# Node's TAP output of each tier is kept in tests/out/TIER.tap.
#
# One file alone:  HPF_BIN=build-test/hpf node --test tests/api/auth.test.mjs
set -uo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
out="$root/tests/out"
mkdir -p "$out"

export HPF_BIN="$build/hpf"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="${LSAN_OPTIONS:-}"
export NODE_NO_WARNINGS=1

total_pass=0
total_fail=0
started=$(date +%s)

add() { # tier passed failed
  printf '%s: %d passed, %d failed\n' "$1" "$2" "$3"
  total_pass=$((total_pass + $2))
  total_fail=$((total_fail + $3))
}

# --- layers ---------------------------------------------------------------------------------
tier_layers() {
  local log="$out/layers.log" n bad
  bash "$root/tests/layers.sh" >"$log" 2>&1
  local rc=$?
  cat "$log"
  n=$(sed -n 's/^layers: \([0-9]*\) files checked.*/\1/p' "$log" | tail -n 1)
  bad=$(sed -n 's/^layers: .* in \([0-9]*\) files$/\1/p' "$log" | tail -n 1)
  n=${n:-0}
  bad=${bad:-0}
  if [ "$n" -eq 0 ]; then
    echo "layers: no source file checked (an empty tier fails)"
    add layers 0 1
  elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    add layers $((n)) 1
  else
    add layers $((n - bad)) "$bad"
  fi
}

# --- unit -----------------------------------------------------------------------------------
tier_unit() {
  local log="$out/unit.log" p f
  node "$root/tests/lib/unit-tier.mjs" "$build" 2>&1 | tee "$log"
  p=$(sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$log" | tail -n 1)
  f=$(sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | tail -n 1)
  total_pass=$((total_pass + ${p:-0}))
  total_fail=$((total_fail + ${f:-1}))
  if [ -z "$p" ]; then
    echo "unit: the unit runner printed no summary"
  elif [ "$((p + f))" -eq 0 ]; then
    echo "unit: no unit test ran (an empty tier fails)"
    total_fail=$((total_fail + 1))
  fi
}

# --- node:test tiers (api, e2e, fault) -----------------------------------------------------------
tier_node() { # name dir concurrency required(0|1)
  local name=$1 dir=$2 conc=$3 required=$4
  local tap="$out/$name.tap"
  shopt -s nullglob
  local files=("$dir"/*.test.mjs)
  shopt -u nullglob
  if [ ${#files[@]} -eq 0 ]; then
    if [ "$required" -eq 1 ]; then
      echo "$name: no test files in ${dir#"$root"/} (an empty tier fails)"
      add "$name" 0 1
    else
      echo "$name: no test files in ${dir#"$root"/} (optional tier, skipped)"
    fi
    return
  fi
  rm -f "$tap"
  (cd "$root/tests" && timeout --kill-after=30 1500 node --test --test-concurrency="$conc" --test-timeout=180000 \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}")
  local rc=$?
  local pass fail cancelled
  pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
  fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
  cancelled=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
  pass=${pass:-0}
  fail=$(( ${fail:-0} + ${cancelled:-0} ))
  if [ -z "$(sed -n '/^# pass /p' "$tap" 2>/dev/null)" ]; then
    echo "$name: node --test ended (exit $rc) without a summary"
    fail=$((fail + 1))
  elif [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    echo "$name: node --test exited $rc although no test failed"
    fail=1
  elif [ $((pass + fail)) -eq 0 ]; then
    echo "$name: no test ran (an empty tier fails)"
    fail=1
  fi
  add "$name" "$pass" "$fail"
}

echo "== layers"
tier_layers
echo "== unit"
tier_unit
echo "== api"
if [ ! -x "$HPF_BIN" ]; then echo "api: $HPF_BIN is missing or not executable"; fi
tier_node api "$root/tests/api" 2 1
echo "== e2e"
tier_node e2e "$root/tests/e2e" 1 1
echo "== fault"
tier_node fault "$root/tests/fault" 1 0

echo "tests took $(( $(date +%s) - started )) s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]

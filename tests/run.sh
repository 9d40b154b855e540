#!/usr/bin/env bash
# Run every test tier against a build and end with exactly one line "N passed, N failed".
# Usage: tests/run.sh BUILD_DIR        (make test builds BUILD_DIR=build-test first)
#
# Tiers, in order; each prints its own "TIER: P passed, F failed" line as it goes:
#   layers  tests/layers.sh: the include-direction check (one test per source file)
#   unit    every meson test executable, counted from Criterion's Synthesis lines
#   api     node --test tests/api/*.test.mjs against the real hpf serve (HPF_BIN), twice:
#           api[sqlite] (HPF_TEST_STORE=sqlite) and api[postgres] (HPF_TEST_STORE=postgres on a
#           throwaway PostgreSQL 15 cluster from scripts/pgtest.sh, stopped by a trap)
#   fuzz    tests/fuzz-replay.sh: every libFuzzer seed corpus replayed once (fuzz/)
#   e2e     node --test tests/e2e/*.test.mjs (browser tests, SQLite)
#   fault   node --test tests/fault/*.test.mjs on both stores, as fault[sqlite] and
#           fault[postgres]; a file whose header says "// store: postgres" runs only in the
#           PostgreSQL run
# HPF_TEST_STORES="sqlite postgres" (the default) chooses the store runs.
# Exit non-zero when any test failed or a (required) tier ran no test at all; an empty tier
# counts as one failure. Sanitizers halt on the first error, so a report fails its test.
# Node's TAP output of each tier is kept in tests/out/TIER.tap (api-sqlite.tap, ...).
#
# One file alone:  HPF_BIN=build-test/hpf node --test tests/api/auth.test.mjs
# One file on PostgreSQL:
#   scripts/pgtest.sh start /tmp/hpf-pg
#   HPF_TEST_STORE=postgres HPF_TEST_PG_DIR=/tmp/hpf-pg HPF_BIN=build-test/hpf node --test tests/api/auth.test.mjs
#   scripts/pgtest.sh stop /tmp/hpf-pg
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

# --- fuzz corpus replay ------------------------------------------------------------------------
tier_fuzz() {
  local log="$out/fuzz.log" p f
  bash "$root/tests/fuzz-replay.sh" "$build" >"$log" 2>&1
  p=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$log" | tail -n 1)
  f=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | tail -n 1)
  if [ -z "$p" ]; then
    echo "fuzz: the replay printed no summary (see ${log#"$root"/})"
    add fuzz 0 1
  elif [ "$((p + f))" -eq 0 ]; then
    echo "fuzz: no corpus file replayed (an empty tier fails)"
    add fuzz 0 1
  else
    add fuzz "$p" "$f"
  fi
}

# --- node:test tiers (api, e2e, fault) -----------------------------------------------------------
# The test files of DIR for a store: on sqlite, those not marked "// store: postgres".
test_files() { # dir store
  local f
  shopt -s nullglob
  for f in "$1"/*.test.mjs; do
    if [ "$2" = postgres ] || ! head -n 20 "$f" | grep -q '^// store: postgres'; then echo "$f"; fi
  done
  shopt -u nullglob
}

tier_node() { # name dir concurrency required(0|1) [store]
  local name=$1 dir=$2 conc=$3 required=$4 store=${5:-sqlite}
  local tap="$out/$(echo "$name" | tr '[]' '-_' | sed 's/_$//').tap"
  local files=()
  mapfile -t files < <(test_files "$dir" "$store")
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
  (cd "$root/tests" && export HPF_TEST_STORE="$store" && timeout --kill-after=30 1500 node --test --test-concurrency="$conc" --test-timeout=180000 \
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
echo "== fuzz (seed corpora replayed)"
tier_fuzz
# --- the PostgreSQL cluster of the postgres runs ------------------------------------------------
# One scratch folder per run (reachable by the postgres user): pg/ is the shared cluster of
# HPF_TEST_PG_DIR; tests that need clusters of their own (primary + standby) make them under
# HPF_TEST_PG_SCRATCH, and the trap stops whatever a killed test left there.
stores=${HPF_TEST_STORES:-sqlite postgres}
scratch=$(mktemp -d /tmp/hpf-test-XXXXXX)
chmod 0711 "$scratch"
export HPF_TEST_PG_SCRATCH="$scratch"
pg_ready=0
cleanup() {
  local d
  for d in "$scratch"/*/; do
    [ -f "$d/.pgtest" ] && "$root/scripts/pgtest.sh" stop "$d" >/dev/null 2>&1
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start() {
  [ "$pg_ready" -eq 1 ] && return 0
  local log="$out/pgtest.log"
  if "$root/scripts/pgtest.sh" start "$scratch/pg" >"$log" 2>&1; then
    export HPF_TEST_PG_DIR="$scratch/pg"
    pg_ready=1
    echo "postgres: test cluster on 127.0.0.1:$(cat "$log")"
  else
    cat "$log"
    pg_ready=2
  fi
  [ "$pg_ready" -eq 1 ]
}

run_store_tier() { # tier dir concurrency required store
  local name="$1[$5]"
  if [ "$5" = postgres ] && ! pg_start; then
    echo "$name: the PostgreSQL test cluster did not start (see above)"
    add "$name" 0 1
    return
  fi
  tier_node "$name" "$2" "$3" "$4" "$5"
}

if [ ! -x "$HPF_BIN" ]; then echo "api: $HPF_BIN is missing or not executable"; fi
for st in $stores; do
  echo "== api[$st]"
  run_store_tier api "$root/tests/api" 2 1 "$st"
done
echo "== e2e"
tier_node e2e "$root/tests/e2e" 1 1
for st in $stores; do
  echo "== fault[$st]"
  run_store_tier fault "$root/tests/fault" 1 1 "$st"
done

echo "tests took $(( $(date +%s) - started )) s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]

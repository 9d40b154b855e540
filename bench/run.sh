#!/usr/bin/env bash
# HPF benchmarks (not tests): figures next to the physical baseline measured in the same run.
# Usage: bench/run.sh [BUILD_DIR]     (make bench builds the release binary first)
# Writes bench/out/results.md and prints it. Loopback only; every load is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
hpf=$build/hpf
out=bench/out
mkdir -p "$out"
work=$(mktemp -d /tmp/hpf-bench.XXXXXX)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
MEMBERS=${BENCH_MEMBERS:-100000}
EMPLOYERS=${BENCH_EMPLOYERS:-2000}
MONTHS=${BENCH_MONTHS:-12}
DURATION=${BENCH_DURATION:-10}
export HPF_BUSINESS_DATE=${HPF_BUSINESS_DATE:-2026-11-15}

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# 1. Baseline: SQLite, 1 M small rows in one transaction (WAL), sqlite3 CLI, median of 3.
for i in 1 2 3; do
  rm -f "$work/base.db"*
  t0=$(now)
  sqlite3 "$work/base.db" "PRAGMA journal_mode=WAL; CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER, c TEXT);
    BEGIN; WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 1000000)
    INSERT INTO t SELECT x, x * 3, 'row' FROM s; COMMIT;" >/dev/null
  t1=$(now)
  echo "1000000 / ($t1 - $t0)" | bc -l
done | median > "$work/base_rows"
base_rows=$(printf '%.0f' "$(cat "$work/base_rows")")

# 2. hpf demo --members 100000: wall time, median of 3 runs on a fresh directory.
for i in 1 2 3; do
  rm -rf "$work/demo"
  t0=$(now)
  "$hpf" demo --data-dir "$work/demo" --employers "$EMPLOYERS" --members "$MEMBERS" \
    --months "$MONTHS" --seed 7 > "$work/logins" 2> "$work/demo.log"
  t1=$(now)
  echo "$t1 - $t0" | bc -l
done | median > "$work/demo_secs"
demo_secs=$(printf '%.1f' "$(cat "$work/demo_secs")")
postings=$(sqlite3 "$work/demo/hpf.db" "SELECT count(*) FROM posting")
rows=$(sqlite3 "$work/demo/hpf.db" "SELECT (SELECT count(*) FROM posting) + (SELECT count(*) FROM member) + (SELECT count(*) FROM voucher_line) + (SELECT count(*) FROM remittance) + (SELECT count(*) FROM voucher) + (SELECT count(*) FROM employer)")
demo_rows_s=$(echo "$rows / $demo_secs" | bc -l)
"$hpf" verify --data-dir "$work/demo" > "$work/verify.txt"

# 3. wrk over HTTPS, 64 connections: an authenticated balance read and a static file, same
#    server, same run.
"$hpf" serve --data-dir "$work/demo" --listen 127.0.0.1:0 --web-dir web/dist \
  > "$work/serve.out" 2> "$work/serve.err" &
srv_pid=$!
for _ in $(seq 100); do grep -q serving "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^hpf: serving //p' "$work/serve.out")
read -r _ _ muser mpass < <(grep '^login member' "$work/logins" | head -1)
curl -sk -c "$work/cookies" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$muser\",\"password\":\"$mpass\"}" "$url/api/v1/session" > "$work/session.json"
acct=$(sed -n 's/.*"account_no":"\([0-9X]*\)".*/\1/p' "$work/session.json")
token=$(awk '$6 == "hpf_session" {print $7}' "$work/cookies")
static=index.html
run_wrk() { wrk -t2 -c64 -d"${DURATION}s" --latency "$@" 2>&1; }
run_wrk -H "Cookie: hpf_session=$token" "$url/api/v1/members/$acct" > "$work/wrk_api.txt"
run_wrk "$url/$static" > "$work/wrk_static.txt"
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$1"; }
api_rps=$(rps "$work/wrk_api.txt"); static_rps=$(rps "$work/wrk_static.txt")

cat > "$out/results.md" <<MD
# HPF bench results ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?'))

| What | Figure | Baseline (same run) | Ratio |
|---|---|---|---|
| \`hpf demo --employers $EMPLOYERS --members $MEMBERS --months $MONTHS\` | ${demo_secs} s (median of 3); $rows rows ($postings postings): $(printf '%.0f' "$demo_rows_s") rows/s | SQLite 1 M rows in one transaction: $base_rows rows/s | $(echo "$demo_rows_s / $base_rows" | bc -l | xargs printf '%.3f') |
| HTTPS GET /api/v1/members/{grzh} (session cookie), wrk -t2 -c64 -d${DURATION}s | $api_rps req/s, p99 $(p99 "$work/wrk_api.txt")$( [ -n "$(non2xx "$work/wrk_api.txt")" ] && echo ", non-2xx $(non2xx "$work/wrk_api.txt")") | static /$static: $static_rps req/s, p99 $(p99 "$work/wrk_static.txt") | $(echo "$api_rps / $static_rps" | bc -l | xargs printf '%.3f') |

$(cat "$work/verify.txt")

Commands: \`make bench\` (this script: bench/run.sh build).
MD
cat "$out/results.md"

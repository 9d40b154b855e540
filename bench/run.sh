#!/usr/bin/env bash
# HPF benchmarks (not tests): every figure next to the physical baseline measured in the same run,
# on SQLite and on PostgreSQL 15 side by side.
# Usage: bench/run.sh [BUILD_DIR]     (make bench builds the release binary first)
# Writes bench/out/results.md and prints it; progress goes to stderr. Loopback only; every load is
# bounded in time; everything started here (servers, the PostgreSQL cluster) is stopped on exit.
#
# Knobs (environment):
#   BENCH_MEMBERS=100000 BENCH_EMPLOYERS=2000 BENCH_MONTHS=12   the demo population
#   BENCH_DEMO_RUNS=3          hpf demo runs on SQLite (median)
#   BENCH_PG_DEMO_RUNS=1       hpf demo runs on PostgreSQL (median; one run takes about 10 min)
#   BENCH_VERIFY_RUNS=1        timed hpf verify runs after the demo (median)
#   BENCH_DURATION=10          seconds of each wrk read load (balance read, static file)
#   BENCH_WRITE_DURATION=20    seconds of each remittance load
#   BENCH_WRITE_CONNS=8        concurrent remittance clients (wrk connections, 2 threads)
#   BENCH_THREADS=4            hpf serve --threads
#   BENCH_PGBENCH_SCALE=10 BENCH_PGBENCH_CLIENTS=8 BENCH_PGBENCH_SECS=20   the pgbench anchor
#   BENCH_STORES="sqlite postgres"   which stores to run
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
build=${1:-build}
out=bench/out
mkdir -p "$out"
MEMBERS=${BENCH_MEMBERS:-100000}
EMPLOYERS=${BENCH_EMPLOYERS:-2000}
MONTHS=${BENCH_MONTHS:-12}
DEMO_RUNS=${BENCH_DEMO_RUNS:-3}
PG_DEMO_RUNS=${BENCH_PG_DEMO_RUNS:-1}
VERIFY_RUNS=${BENCH_VERIFY_RUNS:-1}
DURATION=${BENCH_DURATION:-10}
WDURATION=${BENCH_WRITE_DURATION:-20}
WCONNS=${BENCH_WRITE_CONNS:-8}
THREADS=${BENCH_THREADS:-4}
PGB_SCALE=${BENCH_PGBENCH_SCALE:-10}
PGB_CLIENTS=${BENCH_PGBENCH_CLIENTS:-8}
PGB_SECS=${BENCH_PGBENCH_SECS:-20}
STORES=${BENCH_STORES:-sqlite postgres}
PGBIN=/usr/lib/postgresql/15/bin
# The demo posts the 12 months before this business date; the remittance load then runs with a
# business date five years later, so that every employer has 61 unposted months (2026-11 ..
# 2031-11): each request is a distinct employer-month, none is a replay.
DEMO_DATE=2026-11-15
WRITE_DATE=2031-11-15
export HPF_BUSINESS_DATE=$DEMO_DATE

work=$(mktemp -d /tmp/hpf-bench.XXXXXX)
pgdir=
srv_pid=
sim_pid=
t_start=$(date +%s)
stop_server() {
  if [ -n "$srv_pid" ]; then
    kill "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=
  fi
}
cleanup() {
  stop_server
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  if [ -n "$pgdir" ]; then scripts/pgtest.sh stop "$pgdir" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private copy of the binary: a rebuild of BUILD_DIR during the run does not change what is
# measured half-way.
case $build in /*) bdir=$build ;; *) bdir=$repo/$build ;; esac
cp "$bdir/hpf" "$work/hpf"
cp "$bdir/hpf-sim" "$work/hpf-sim"
hpf=$work/hpf
# the commit the binary was built from (BUILD_DIR may sit in another checkout)
src=$repo
case $build in /*) src=$(git -C "$build" rev-parse --show-toplevel 2>/dev/null || echo "$repo") ;; esac
rev=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')
if [ -n "$(git -C "$src" status --porcelain -- src sql meson.build 2>/dev/null)" ]; then
  rev="$rev + uncommitted changes in src/ or sql/"
fi

say() { echo "bench: [$(($(date +%s) - t_start)) s] $*" >&2; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
calc() { echo "$*" | bc -l; }
fmt0() { printf '%.0f' "$1"; }
fmt1() { printf '%.1f' "$1"; }
fmt3() { printf '%.3f' "$1"; }
thou() { fmt0 "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; } # 1234567 -> 1,234,567

# ---------------------------------------------------------------------------------------------
# Anchors, all in this run: SQLite bulk insert and durable single-row commits; PostgreSQL bulk
# insert and pgbench TPC-B on the very cluster hpf then uses.

say "SQLite anchors"
for _ in 1 2 3; do
  rm -f "$work/base.db"*
  t0=$(now)
  sqlite3 "$work/base.db" "PRAGMA journal_mode=WAL; CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER, c TEXT);
    BEGIN; WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 1000000)
    INSERT INTO t SELECT x, x * 3, 'row' FROM s; COMMIT;" >/dev/null
  t1=$(now)
  calc "1000000 / ($t1 - $t0)"
done | median >"$work/sq_bulk"
sq_bulk=$(cat "$work/sq_bulk")

# 2,000 single-row INSERTs, each its own transaction (autocommit), WAL, synchronous=FULL: every
# commit waits for the WAL fsync, as an hpf write transaction on SQLite does.
{
  echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
  echo "CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER, c TEXT);"
  seq 2000 | awk '{print "INSERT INTO t(b, c) VALUES (" $1 ", '\''row'\'');"}'
} >"$work/commits.sql"
for _ in 1 2 3; do
  rm -f "$work/commit.db"*
  t0=$(now)
  sqlite3 "$work/commit.db" <"$work/commits.sql" >/dev/null
  t1=$(now)
  calc "2000 / ($t1 - $t0)"
done | median >"$work/sq_commit"
sq_commit=$(cat "$work/sq_commit")

pg_bulk='' pgb_tps='' pgb_lat=
if [[ " $STORES " == *" postgres "* ]] && [ ! -x "$PGBIN/pgbench" ]; then
  say "no PostgreSQL 15 in $PGBIN (scripts/deps.sh bench installs it): SQLite only"
  STORES=${STORES/postgres/}
fi
if [[ " $STORES " == *" postgres "* ]]; then
  say "PostgreSQL 15: throwaway cluster"
  pgdir=$(mktemp -d /tmp/hpf-bench-pg.XXXXXX)
  pgport=$(scripts/pgtest.sh start "$pgdir")
  pgsql() { scripts/pgtest.sh psql "$pgdir" -At "$@"; }
  scripts/pgtest.sh createdb "$pgdir" anchor
  say "PostgreSQL anchors: bulk insert, pgbench -i -s $PGB_SCALE, pgbench -c $PGB_CLIENTS -T $PGB_SECS"
  for _ in 1 2 3; do
    pgsql -d anchor -c "DROP TABLE IF EXISTS t" -c "CREATE TABLE t(a BIGINT PRIMARY KEY, b BIGINT, c TEXT)"
    t0=$(now)
    pgsql -d anchor -c "INSERT INTO t SELECT x, x * 3, 'row' FROM generate_series(1, 1000000) x" >/dev/null
    t1=$(now)
    calc "1000000 / ($t1 - $t0)"
  done | median >"$work/pg_bulk"
  pg_bulk=$(cat "$work/pg_bulk")
  scripts/pgtest.sh dropdb "$pgdir" anchor
  scripts/pgtest.sh createdb "$pgdir" pgbench
  pgb=("$PGBIN/pgbench" -h 127.0.0.1 -p "$pgport" -U postgres)
  "${pgb[@]}" -i -q -s "$PGB_SCALE" pgbench >"$work/pgbench_init.txt" 2>&1
  "${pgb[@]}" -c "$PGB_CLIENTS" -j 2 -T "$PGB_SECS" pgbench >"$work/pgbench.txt" 2>&1
  pgb_tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.txt" | tail -1)
  pgb_lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$work/pgbench.txt")
  scripts/pgtest.sh dropdb "$pgdir" pgbench
fi

# ---------------------------------------------------------------------------------------------
# Per store: hpf demo (timed), verify (timed), balance reads and static file under wrk, then
# remittances posted through the API under wrk, then verify again.

store_args() { # STORE -> the --db/--data-dir arguments of that store's demo database
  case $1 in
    sqlite) echo "--data-dir $work/sqlite --db sqlite:$work/sqlite/hpf.db" ;;
    postgres) echo "--data-dir $work/postgres --db $(scripts/pgtest.sh url "$pgdir" hpf_demo)" ;;
  esac
}
store_sql() { # STORE SQL -> one value
  case $1 in
    sqlite) sqlite3 "$work/sqlite/hpf.db" "$2" ;;
    postgres) pgsql -d hpf_demo -c "$2" ;;
  esac
}
fresh_store() { # STORE: empty data dir and database
  rm -rf "${work:?}/$1"
  mkdir -p "$work/$1"
  if [ "$1" = postgres ]; then
    scripts/pgtest.sh dropdb "$pgdir" hpf_demo
    scripts/pgtest.sh createdb "$pgdir" hpf_demo
  fi
}

start_server() { # STORE BUSINESS_DATE
  # shellcheck disable=SC2046
  # --session-step-up-s: the remittance load outlasts the five minutes after which money routes
  # ask for the second factor again; one login drives it.
  # --peers: the SMS gateway (hpf-sim) that carries members' one-time login codes.
  HPF_BUSINESS_DATE=$2 "$hpf" serve $(store_args "$1") --listen 127.0.0.1:0 --web-dir web/dist \
    --threads "$THREADS" --session-step-up-s 86400 --peers "$sim_url" --peers-ca "$work/sim/cert.pem" \
    >"$work/serve-$1.out" 2>>"$work/serve-$1.err" &
  srv_pid=$!
  for _ in $(seq 200); do grep -q serving "$work/serve-$1.out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^hpf: serving //p' "$work/serve-$1.out")
  [ -n "$url" ] || {
    cat "$work/serve-$1.err" >&2
    exit 1
  }
}

login() { # ROLE LOGINS_FILE COOKIEJAR -> session JSON on stdout
  # The demo login of ROLE: operators and agents with their password and a TOTP code computed
  # from the secret on their line by `hpf totp`; members with their password, then the SMS code
  # that hpf-sim received (found by the outbox key, "otp:" + SM3 of the challenge).
  local user pass secret ch key code
  read -r _ _ user pass secret < <(grep "^login $1 " "$2" | head -1)
  if [ "$1" != member ]; then
    # A code is good once: a second login of the same user within one 30 s step waits for the
    # next step.
    for _ in 1 2; do
      curl -sfk -c "$3" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$user\",\"password\":\"$pass\",\"totp\":\"$("$hpf" totp "$secret")\"}" \
        "$url/api/v1/session" && return
      sleep $((31 - $(date +%s) % 30))
    done
    return 1
  fi
  ch=$(curl -sfk -H 'Content-Type: application/json' -d "{\"username\":\"$user\",\"password\":\"$pass\"}" \
    "$url/api/v1/session" | sed -n 's/.*"challenge":"\([^"]*\)".*/\1/p')
  key="otp:$(printf %s "$ch" | openssl dgst -sm3 -r | cut -d' ' -f1)"
  for _ in $(seq 100); do
    code=$(curl -sfk "$sim_url/sms/v1/messages" | node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const j = JSON.parse(s); const m = (j.items ?? j).find((x) => x.idempotency_key === process.argv[1]);
        process.stdout.write(m ? m.params.code : ""); });' "$key")
    [ -n "$code" ] && break
    sleep 0.1
  done
  curl -sfk -c "$3" -H 'Content-Type: application/json' \
    -d "{\"challenge\":\"$ch\",\"code\":\"$code\"}" "$url/api/v1/session/otp"
}
metric() { # NAME -> value from /metrics (0 when not yet present)
  # %.0f: awk's print would write a large counter (nanoseconds) as 1.8e+10, which bash cannot add.
  curl -sfk "$url/metrics" | awk -v n="$1" '$1 == n {v = $2} END {printf "%.0f\n", v + 0}'
}
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$1"; }
wrk_secs() { sed -n 's/.* requests in \([0-9.]*\)\(m\{0,1\}s\).*/\1 \2/p' "$1" | awk '{print ($2 == "ms") ? $1 / 1000 : $1}'; }

# Rosters for the remittance load: GET .../remittances/draft for every employer (outside the
# timed part), turned into POST bodies without the period; employers in a shuffled order (fixed
# seed), so that a load shorter than one pass still sees the usual mix of firm sizes.
cat >"$work/rosters.mjs" <<'JS'
import fs from 'node:fs';
import https from 'node:https';
const [base, cookie, csrf, empFile, period, outFile] = process.argv.slice(2);
const agent = new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false });
const get = (path) => new Promise((resolve, reject) => {
  const req = https.get(base + path, { agent, headers: { Cookie: cookie, 'X-CSRF-Token': csrf } }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (body += c));
    res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${path}: ${res.statusCode} ${body}`))));
  });
  req.on('error', reject);
});
const emps = fs.readFileSync(empFile, 'utf8').split('\n').filter(Boolean);
const lines = new Array(emps.length);
let next = 0;
await Promise.all([0, 1, 2, 3].map(async () => {
  while (next < emps.length) {
    const i = next++;
    const d = await get(`/api/v1/employers/${emps[i]}/remittances/draft?period=${period}`);
    const rows = d.rows.map((r) => ({ account_no: r.account_no, name: r.name, unit: r.unit, individual: r.individual }));
    lines[i] = rows.length ? `${emps[i]}\t${d.total}\t${JSON.stringify(rows)}` : null;
  }
}));
let s = 7; // deterministic Fisher-Yates (LCG)
const rnd = (n) => ((s = (s * 1103515245 + 12345) % 2147483648) % n);
const keep = lines.filter(Boolean);
for (let i = keep.length - 1; i > 0; i--) { const j = rnd(i + 1); [keep[i], keep[j]] = [keep[j], keep[i]]; }
fs.writeFileSync(outFile, keep.join('\n') + '\n');
agent.destroy();
JS

# wrk: maker-checker, two requests per remittance with two sessions (docs/internals/approval.md).
# A thread's next request approves, as the checker (a second operator), the oldest approval that
# one of its submits got back (202); when none waits, it submits the next employer-month as the
# maker (the demo operator: scope over every employer), with an Idempotency-Key unique to it.
# Thread t of T takes submits t, t+T, t+2T, ...; submit k is employer k mod E, month
# first + k div E.
cat >"$work/remit.lua" <<'LUA'
local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end
local emps, nemp, k, step, first, nper, tag = {}, 0, 0, 1, 0, 1, "b"
local maker, checker = {}, {}
local waiting, head, tail = {}, 1, 0 -- approval ids to approve, oldest first
function init(args)
  step, first, nper, tag = tonumber(args[2]), tonumber(args[3]), tonumber(args[4]), args[5]
  maker = { cookie = "hpf_session=" .. args[6], csrf = args[7] }
  checker = { cookie = "hpf_session=" .. args[8], csrf = args[9] }
  for line in io.lines(args[1]) do
    local dwzh, total, rows = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
    nemp = nemp + 1
    emps[nemp] = { dwzh, total, rows }
  end
  k = tid
end
local function headers(who)
  local h = {}
  for name, v in pairs(wrk.headers) do h[name] = v end
  h["Cookie"] = who.cookie
  h["X-CSRF-Token"] = who.csrf
  return h
end
function request()
  if head <= tail then
    local id = waiting[head]
    waiting[head] = nil
    head = head + 1
    return wrk.format("POST", "/api/v1/approvals/" .. id .. "/approve", headers(checker))
  end
  local e = emps[(k % nemp) + 1]
  local m = first + math.floor(k / nemp) % nper
  k = k + step
  local period = string.format("%04d-%02d", math.floor(m / 12), m % 12 + 1)
  local h = headers(maker)
  h["Idempotency-Key"] = tag .. "-" .. e[1] .. "-" .. period
  return wrk.format("POST", "/api/v1/employers/" .. e[1] .. "/remittances", h,
    '{"period":"' .. period .. '","total":"' .. e[2] .. '","rows":' .. e[3] .. '}')
end
function response(status, hdrs, body)
  if status == 202 then
    local id = body:match('"approval_id":(%d+)')
    if id then
      tail = tail + 1
      waiting[tail] = id
    end
  end
end
LUA

declare -A R # results, key STORE.NAME

bench_store() { # STORE
  local s=$1 runs t0 t1 i
  runs=$DEMO_RUNS
  [ "$s" = postgres ] && runs=$PG_DEMO_RUNS
  say "$s: hpf demo --employers $EMPLOYERS --members $MEMBERS --months $MONTHS ($runs run(s))"
  for i in $(seq "$runs"); do
    fresh_store "$s"
    t0=$(now)
    # progress lines on stderr, stamped as they come: where account opening ends
    # shellcheck disable=SC2046
    "$hpf" demo $(store_args "$s") --employers "$EMPLOYERS" --members "$MEMBERS" \
      --months "$MONTHS" --seed 7 2>&1 >"$work/logins-$s" |
      while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done >"$work/demo-$s.log"
    t1=$(now)
    calc "$t1 - $t0" | tee -a "$work/demo_runs-$s" >/dev/null
    say "$s: demo run $i: $(fmt1 "$(calc "$t1 - $t0")") s"
  done
  R[$s.demo_secs]=$(median <"$work/demo_runs-$s")
  # the last run: opening the accounts, then posting the months
  local opened
  opened=$(awk '/ members$/ && !/remitted/ {t = $1} END {print t}' "$work/demo-$s.log")
  R[$s.open_secs]=$(calc "$opened - $t0")
  R[$s.post_secs]=$(calc "$t1 - $opened")
  R[$s.demo_all]=$(sort -g "$work/demo_runs-$s" | xargs printf '%.1f ' | sed 's/ $//')
  if [ "$s" = postgres ]; then
    # What an operator does after a bulk load: fresh planner statistics, a checkpoint.
    t0=$(now)
    pgsql -d hpf_demo -c "ANALYZE" -c "CHECKPOINT" >/dev/null
    R[$s.analyze]=$(calc "$(now) - $t0")
  fi
  R[$s.postings]=$(store_sql "$s" "SELECT count(*) FROM posting")
  R[$s.rows]=$(store_sql "$s" "SELECT (SELECT count(*) FROM posting) + (SELECT count(*) FROM member) + (SELECT count(*) FROM voucher_line) + (SELECT count(*) FROM remittance) + (SELECT count(*) FROM voucher) + (SELECT count(*) FROM employer)")
  case $s in
    sqlite) R[$s.bytes]=$(sqlite3 "$work/sqlite/hpf.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null && stat -c %s "$work/sqlite/hpf.db") ;;
    postgres) R[$s.bytes]=$(pgsql -d hpf_demo -c "SELECT pg_database_size('hpf_demo')") ;;
  esac

  say "$s: hpf verify ($VERIFY_RUNS run(s)) and a raw scan of the postings"
  : >"$work/verify_runs-$s"
  for _ in $(seq "$VERIFY_RUNS"); do
    t0=$(now)
    # shellcheck disable=SC2046
    "$hpf" verify $(store_args "$s") >"$work/verify-$s.txt"
    calc "$(now) - $t0" >>"$work/verify_runs-$s"
  done
  R[$s.verify_secs]=$(median <"$work/verify_runs-$s")
  R[$s.verify_out]=$(cat "$work/verify-$s.txt")
  for _ in 1 2 3; do
    t0=$(now)
    store_sql "$s" "SELECT count(*), sum(amount), sum(balance_after) FROM posting" >/dev/null
    calc "$(now) - $t0"
  done | median >"$work/scan-$s"
  R[$s.scan_secs]=$(cat "$work/scan-$s")

  # hpf audit verify prints its own throughput next to one core's raw SM3 speed measured in the
  # same process: one connection, then one per processor (--jobs 0 = automatic).
  say "$s: hpf audit verify (one connection, then automatic parallel parts)"
  for j in 1 auto; do
    # shellcheck disable=SC2046
    "$hpf" audit verify $(store_args "$s") $([ "$j" = 1 ] && echo --jobs 1) >"$work/audit-$s-$j.txt" 2>&1 || true
    R[$s.audit_$j]=$(cat "$work/audit-$s-$j.txt")
  done

  # A second operator, the checker of the remittance load, in a logins file of its own (the
  # line format of `hpf demo`: login ROLE USERNAME PASSWORD TOTP_SECRET).
  local cpass='Second#2026bench' curi
  # shellcheck disable=SC2046
  curi=$(echo "$cpass" | "$hpf" user add-operator --username checker --name 复核员 $(store_args "$s") |
    grep '^otpauth://')
  echo "login operator checker $cpass $(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' <<<"$curi")" \
    >"$work/logins-$s-checker"

  say "$s: wrk reads ($DURATION s each)"
  start_server "$s" "$WRITE_DATE"
  local acct token
  # A member reads their own account (the common read: untraced, RULES 11.2 concerns others);
  # then an operator reads the same account, each read traced in the audit chain first.
  login member "$work/logins-$s" "$work/cookies-m-$s" >"$work/session-m-$s.json"
  acct=$(sed -n 's/.*"account_no":"\([0-9X]*\)".*/\1/p' "$work/session-m-$s.json")
  token=$(awk '$6 == "hpf_session" {print $7}' "$work/cookies-m-$s")
  wrk -t2 -c64 -d"${DURATION}s" --latency -H "Cookie: hpf_session=$token" \
    "$url/api/v1/members/$acct" >"$work/wrk_api-$s.txt" 2>&1
  login operator "$work/logins-$s" "$work/cookies-r-$s" >"$work/session-r-$s.json"
  token=$(awk '$6 == "hpf_session" {print $7}' "$work/cookies-r-$s")
  wrk -t2 -c64 -d"${DURATION}s" --latency -H "Cookie: hpf_session=$token" \
    "$url/api/v1/members/$acct" >"$work/wrk_traced-$s.txt" 2>&1
  R[$s.traced_rps]=$(rps "$work/wrk_traced-$s.txt")
  R[$s.traced_p99]=$(p99 "$work/wrk_traced-$s.txt")
  R[$s.traced_bad]=$(non2xx "$work/wrk_traced-$s.txt")
  wrk -t2 -c64 -d"${DURATION}s" --latency "$url/index.html" >"$work/wrk_static-$s.txt" 2>&1
  R[$s.api_rps]=$(rps "$work/wrk_api-$s.txt")
  R[$s.api_p99]=$(p99 "$work/wrk_api-$s.txt")
  R[$s.api_bad]=$(non2xx "$work/wrk_api-$s.txt")
  R[$s.static_rps]=$(rps "$work/wrk_static-$s.txt")
  R[$s.static_p99]=$(p99 "$work/wrk_static-$s.txt")

  say "$s: remittance rosters, then wrk POST remittances (${WDURATION} s, $WCONNS connections)"
  login operator "$work/logins-$s" "$work/cookies-o-$s" >"$work/session-o-$s.json"
  # The checker: a second operator (maker-checker: nobody approves their own request).
  login operator "$work/logins-$s-checker" "$work/cookies-c-$s" >"$work/session-c-$s.json"
  local otoken csrf ctoken ccsrf r0 n0 x0 nrem
  otoken=$(awk '$6 == "hpf_session" {print $7}' "$work/cookies-o-$s")
  csrf=$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$work/session-o-$s.json")
  ctoken=$(awk '$6 == "hpf_session" {print $7}' "$work/cookies-c-$s")
  ccsrf=$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$work/session-c-$s.json")
  store_sql "$s" "SELECT account_no FROM employer ORDER BY id" >"$work/employers-$s"
  node "$work/rosters.mjs" "$url" "hpf_session=$otoken" "$csrf" "$work/employers-$s" \
    "${DEMO_DATE:0:7}" "$work/rosters-$s.tsv"
  # months from the demo's business month to the write business month, inclusive
  local first last
  first=$((10#${DEMO_DATE:0:4} * 12 + 10#${DEMO_DATE:5:2} - 1))
  last=$((10#${WRITE_DATE:0:4} * 12 + 10#${WRITE_DATE:5:2} - 1))
  r0=$(metric hpf_remittances_posted_total)
  n0=$(metric hpf_remittance_rows_posted_total)
  x0=$(metric hpf_request_retries_total)
  local a0 ans0
  a0=$(metric hpf_audit_appends_total)
  ans0=$(metric hpf_audit_append_nanoseconds_total)
  wrk -t2 -c"$WCONNS" -d"${WDURATION}s" --latency --timeout 30s -s "$work/remit.lua" \
    -H 'Content-Type: application/json' \
    "$url" -- "$work/rosters-$s.tsv" 2 "$first" $((last - first + 1)) "b$$" \
    "$otoken" "$csrf" "$ctoken" "$ccsrf" >"$work/wrk_remit-$s.txt" 2>&1
  R[$s.remits]=$(($(metric hpf_remittances_posted_total) - r0))
  R[$s.remit_rows]=$(($(metric hpf_remittance_rows_posted_total) - n0))
  R[$s.retries]=$(($(metric hpf_request_retries_total) - x0))
  R[$s.appends]=$(($(metric hpf_audit_appends_total) - a0))
  R[$s.append_ns]=$(($(metric hpf_audit_append_nanoseconds_total) - ans0))
  R[$s.remit_avg]=$(awk '$1 == "Latency" && $2 ~ /^[0-9]/ {v = $2; if (v ~ /us$/) print v / 1000; else if (v ~ /ms$/) print v + 0; else print v * 1000; exit}' "$work/wrk_remit-$s.txt")
  R[$s.wsecs]=$(wrk_secs "$work/wrk_remit-$s.txt")
  R[$s.remit_p50]=$(awk '$1 == "50%" {print $2}' "$work/wrk_remit-$s.txt")
  R[$s.remit_p99]=$(p99 "$work/wrk_remit-$s.txt")
  R[$s.remit_bad]=$(non2xx "$work/wrk_remit-$s.txt")
  nrem=${R[$s.remits]}
  R[$s.remit_rps]=$(calc "$nrem / ${R[$s.wsecs]}")
  R[$s.rows_rps]=$(calc "${R[$s.remit_rows]} / ${R[$s.wsecs]}")
  R[$s.retry_per]=$(calc "${R[$s.retries]} / ($nrem + (${nrem} == 0))")
  stop_server
  say "$s: hpf verify after the load"
  t0=$(now)
  # shellcheck disable=SC2046
  R[$s.verify_after]=$("$hpf" verify $(store_args "$s") 2>&1 || true)
  R[$s.verify_after_secs]=$(calc "$(now) - $t0")
  R[$s.postings_after]=$(store_sql "$s" "SELECT count(*) FROM posting")
}

# hpf-sim plays the SMS gateway: members log in with a one-time code sent through the outbox.
say "hpf-sim (the SMS gateway of members' login codes)"
"$work/hpf-sim" --listen 127.0.0.1:0 --data-dir "$work/sim" --ttl 7200 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q serving "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
sim_url=$(sed -n 's/^hpf-sim: serving \(https:[^ ]*\) cert .*/\1/p' "$work/sim.out")
[ -n "$sim_url" ] || {
  cat "$work/sim.err" >&2
  exit 1
}

for s in $STORES; do bench_store "$s"; done

# ---------------------------------------------------------------------------------------------
# Results

anchor_of() { # STORE -> "label|value"
  case $1 in
    sqlite) echo "SQLite durable single-row commits (WAL, synchronous=FULL, 2,000 autocommit INSERTs)|$sq_commit" ;;
    postgres) echo "pgbench TPC-B -s $PGB_SCALE -c $PGB_CLIENTS -j 2 -T $PGB_SECS|$pgb_tps" ;;
  esac
}
bulk_of() { case $1 in sqlite) echo "$sq_bulk" ;; postgres) echo "$pg_bulk" ;; esac }
name_of() { case $1 in sqlite) echo SQLite ;; postgres) echo "PostgreSQL 15" ;; esac }

elapsed=$(($(date +%s) - t_start))
{
  echo "# HPF bench results ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $rev; bench/run.sh took ${elapsed} s)"
  echo
  echo "## Anchors (this run)"
  echo
  echo "| Anchor | Figure |"
  echo "|---|---|"
  echo "| SQLite, 1 M rows in one transaction (WAL), median of 3 | $(thou "$sq_bulk") rows/s |"
  echo "| SQLite durable single-row commits (WAL, synchronous=FULL), median of 3 | $(thou "$sq_commit") commits/s |"
  if [ -n "$pg_bulk" ]; then
    echo "| PostgreSQL, 1 M rows in one INSERT ... SELECT generate_series, median of 3 | $(thou "$pg_bulk") rows/s |"
    echo "| pgbench TPC-B -s $PGB_SCALE -c $PGB_CLIENTS -j 2 -T $PGB_SECS (fsync on, synchronous_commit on) | $(fmt0 "$pgb_tps") tps, latency $pgb_lat ms |"
  fi
  for s in $STORES; do
    IFS='|' read -r alabel aval < <(anchor_of "$s")
    b=$(bulk_of "$s")
    echo
    echo "## $(name_of "$s")"
    echo
    echo "| What | Figure | Baseline (same run) | Ratio |"
    echo "|---|---|---|---|"
    demo_rows_s=$(calc "${R[$s.rows]} / ${R[$s.demo_secs]}")
    echo "| \`hpf demo --employers $EMPLOYERS --members $MEMBERS --months $MONTHS\` | $(fmt1 "${R[$s.demo_secs]}") s (median of $(wc -l <"$work/demo_runs-$s"): ${R[$s.demo_all]}); $(thou "${R[$s.rows]}") rows ($(thou "${R[$s.postings]}") postings): $(thou "$demo_rows_s") rows/s. Last run: accounts opened in $(fmt1 "${R[$s.open_secs]}") s, months posted in $(fmt1 "${R[$s.post_secs]}") s ($(thou "$(calc "${R[$s.postings]} / ${R[$s.post_secs]}")") member postings/s, one connection) | 1 M rows in one transaction: $(thou "$b") rows/s | $(fmt3 "$(calc "$demo_rows_s / $b")") |"
    v_rows_s=$(calc "${R[$s.rows]} / ${R[$s.verify_secs]}")
    scan_s=$(calc "${R[$s.postings]} / ${R[$s.scan_secs]}")
    echo "| \`hpf verify\` on that database | $(fmt1 "${R[$s.verify_secs]}") s (median of $VERIFY_RUNS): $(thou "$v_rows_s") rows/s | one aggregate scan of posting through the CLI: $(fmt1 "${R[$s.scan_secs]}") s, $(thou "$scan_s") rows/s | $(fmt3 "$(calc "$v_rows_s / $scan_s")") |"
    rr=${R[$s.remit_rps]}
    echo "| Remittances over HTTPS under maker-checker, wrk -t2 -c$WCONNS -d${WDURATION}s, one employer-month each, two requests (submit, approve) | $(fmt1 "$rr") remittances/s, $(thou "${R[$s.rows_rps]}") member postings/s ($(thou "${R[$s.remits]}") remittances, $(fmt1 "$(calc "${R[$s.remit_rows]} / (${R[$s.remits]} + (${R[$s.remits]} == 0))")") members each); per request p50 ${R[$s.remit_p50]}, p99 ${R[$s.remit_p99]}; retries ${R[$s.retries]} ($(fmt3 "${R[$s.retry_per]}") per remittance)$([ -n "${R[$s.remit_bad]}" ] && echo ", non-2xx ${R[$s.remit_bad]}") | $alabel: $(fmt0 "$aval")/s | $(fmt3 "$(calc "$rr / $aval")") (postings: $(fmt3 "$(calc "${R[$s.rows_rps]} / $aval")")) |"
    if [ "$s" = postgres ]; then
      echo "| same, against the other store's anchor | | SQLite single-row commits: $(fmt0 "$sq_commit")/s | $(fmt3 "$(calc "$rr / $sq_commit")") |"
    elif [ -n "$pgb_tps" ]; then
      echo "| same, against the other store's anchor | | pgbench TPC-B: $(fmt0 "$pgb_tps") tps | $(fmt3 "$(calc "$rr / $pgb_tps")") |"
    fi
    echo "| HTTPS GET /api/v1/members/{grzh}, the member's own session, wrk -t2 -c64 -d${DURATION}s | ${R[$s.api_rps]} req/s, p99 ${R[$s.api_p99]}$([ -n "${R[$s.api_bad]}" ] && echo ", non-2xx ${R[$s.api_bad]}") | static /index.html, same server: ${R[$s.static_rps]} req/s, p99 ${R[$s.static_p99]} | $(fmt3 "$(calc "${R[$s.api_rps]} / ${R[$s.static_rps]}")") |"
    echo "| same, an operator's session: each read traced in the audit chain first (member.read) | ${R[$s.traced_rps]} req/s, p99 ${R[$s.traced_p99]}$([ -n "${R[$s.traced_bad]}" ] && echo ", non-2xx ${R[$s.traced_bad]}") | the member's own reads above: ${R[$s.api_rps]} req/s | $(fmt3 "$(calc "${R[$s.traced_rps]} / ${R[$s.api_rps]}")") |"
    au=$(calc "${R[$s.append_ns]} / (${R[$s.appends]} + (${R[$s.appends]} == 0)) / 1000")
    echo "| Audit append per business action, during the remittance load (payload with the postings digest, chain head, entry insert; from /metrics) | $(fmt0 "$au") µs per entry ($(thou "${R[$s.appends]}") entries, $(fmt1 "$(calc "${R[$s.appends]} / (${R[$s.remits]} + (${R[$s.remits]} == 0))")") per remittance) | mean request (a submit or an approval), wrk: ${R[$s.remit_avg]} ms | $(fmt3 "$(calc "$au / 1000 / (${R[$s.remit_avg]} + 0.000001)")") |"
    for j in 1 auto; do
      line=${R[$s.audit_$j]}
      # "... R rows, B MB hashed in T s: X rows/s, Y MB/s = Q of raw SM3 at Z MB/s)"
      read -r a_rows a_mbps a_ratio a_raw < <(sed -n 's/.*; \([0-9]*\) rows, [0-9.]* MB hashed in [0-9.]* s: \([0-9]*\) rows\/s, \([0-9.]*\) MB\/s = \([0-9.]*\) of raw SM3 at \([0-9.]*\) MB\/s.*/\2 \3 \4 \5/p' <<<"$line")
      if [ -n "$a_rows" ]; then
        echo "| \`hpf audit verify\` $([ "$j" = 1 ] && echo "--jobs 1" || echo "(automatic: $(nproc) parts when large enough)") | $(thou "$a_rows") rows/s, $(fmt1 "$a_mbps") MB/s hashed | raw SM3, one core, same process: $(fmt1 "$a_raw") MB/s | $a_ratio |"
      else
        echo "| \`hpf audit verify\` $j | failed: $line | | |"
      fi
    done
    echo "| Database size after the demo | $(fmt1 "$(calc "${R[$s.bytes]} / 1048576")") MiB ($(fmt0 "$(calc "${R[$s.bytes]} / $MEMBERS")") bytes per member) | | |"
    echo
    echo "- after the demo: ${R[$s.verify_out]}"
    echo "- after the remittance load ($(fmt1 "${R[$s.verify_after_secs]}") s, $(thou "${R[$s.postings_after]}") postings): ${R[$s.verify_after]}"
    [ "$s" = postgres ] && echo "- ANALYZE + CHECKPOINT after the demo (not in the demo time): $(fmt1 "${R[$s.analyze]}") s"
  done
  echo
  echo "Commands: \`make bench\` (this script: bench/run.sh $build). Knobs: BENCH_* (see the script's header)."
} >"$out/results.md"
cat "$out/results.md"

#!/usr/bin/env bash
# The fund core at city scale (issue 5): one month's 汇缴 for every member of every employer
# (`hpf job remit`), the annual interest settlement (`hpf job interest`) and `hpf verify` over
# the result, each timed with its peak memory, on SQLite and PostgreSQL side by side, next to
# a raw bulk insert of the same number of rows measured in the same run. Writes
# bench/out/fund.md and prints it; progress on stderr. Usage:
#
#   bench/fund.sh [BUILD_DIR]       (default build; `make bench` builds it first)
#
# Knobs (environment):
#   FUND_MEMBERS=1000000 FUND_EMPLOYERS=20000   the population (hpf demo, accounts only)
#   FUND_STORES="sqlite postgres"               which stores
#   FUND_PG_MEMBERS / FUND_PG_EMPLOYERS          PostgreSQL's population (default the same)
#
# Everything listens on 127.0.0.1; the throwaway PostgreSQL cluster is stopped by a trap.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
MEMBERS=${FUND_MEMBERS:-1000000}
EMPLOYERS=${FUND_EMPLOYERS:-20000}
PG_MEMBERS=${FUND_PG_MEMBERS:-$MEMBERS}
PG_EMPLOYERS=${FUND_PG_EMPLOYERS:-$EMPLOYERS}
STORES=${FUND_STORES:-sqlite postgres}
PGBIN=/usr/lib/postgresql/15/bin

work=$(mktemp -d /tmp/hpf-fund.XXXXXX)
out=bench/out
mkdir -p "$out"
hpf="$work/hpf"
cp "$BUILD_DIR/hpf" "$hpf" # a rebuild during the run does not change what is measured
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src sql || commit="$commit + uncommitted changes"
pgdir=''
cleanup() {
  [ -n "$pgdir" ] && scripts/pgtest.sh stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$work" "$pgdir"
}
trap cleanup EXIT

t_start=$(date +%s)
say() { echo "fund: [$(($(date +%s) - t_start)) s] $*" >&2; }
now() { date +%s.%N; }
calc() { echo "$*" | bc -l; }
fmt1() { printf '%.1f' "$1"; }
fmt2() { printf '%.2f' "$1"; }
thou() { printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

declare -A R

# Run one hpf command under /usr/bin/time: R[KEY.secs], R[KEY.mb] (peak resident set, MiB);
# its stdout goes to $work/KEY.out, stderr (progress) to $work/KEY.err.
timed() { # KEY CMD...
  local key=$1
  shift
  /usr/bin/time -f '%e %M' -o "$work/$key.time" "$@" >"$work/$key.out" 2>"$work/$key.err" || {
    say "$key failed:"
    tail -5 "$work/$key.err" >&2
    exit 1
  }
  read -r secs kb <"$work/$key.time"
  R[$key.secs]=$secs
  R[$key.mb]=$(calc "$kb / 1024")
}

fund_store() { # STORE MEMBERS EMPLOYERS
  local s=$1 m=$2 e=$3 args sql
  case $s in
    sqlite)
      args=(--data-dir "$work/sqlite")
      sql() { sqlite3 "$work/sqlite/hpf.db" "$1"; }
      ;;
    postgres)
      scripts/pgtest.sh createdb "$pgdir" hpf_fund
      args=(--data-dir "$work/postgres" --db "$(scripts/pgtest.sh url "$pgdir" hpf_fund)")
      sql() { scripts/pgtest.sh psql "$pgdir" -At -d hpf_fund -c "$1"; }
      ;;
  esac
  mkdir -p "$work/$s"
  # Accounts open in May; June is the month posted, settled on 1 July.
  say "$s: hpf demo --employers $e --members $m --months 0 (accounts only)"
  timed "$s.open" env HPF_BUSINESS_DATE=2026-06-05 "$hpf" demo "${args[@]}" --employers "$e" \
    --members "$m" --months 0 --seed 11
  [ "$s" = postgres ] && sql "ANALYZE" >/dev/null
  say "$s: hpf job remit --month 2026-06"
  timed "$s.remit" env HPF_BUSINESS_DATE=2026-06-15 "$hpf" job remit "${args[@]}" --month 2026-06
  R[$s.postings]=$(sql "SELECT count(*) FROM posting WHERE kind = '01'")
  # Rows the remittance wrote: postings, remittances, vouchers, voucher lines, audit entries.
  R[$s.rows]=$(sql "SELECT (SELECT count(*) FROM posting) + (SELECT count(*) FROM remittance)
    + (SELECT count(*) FROM voucher) + (SELECT count(*) FROM voucher_line)
    + (SELECT count(*) FROM audit_log WHERE kind = 'remittance.posted')")
  # The schema's own floor: the month's postings written again through the real posting table
  # (its indexes, keys and checks) and every posted member's balance row updated, as two
  # set-based statements in one transaction, rolled back (no commit flush). What the month costs
  # above this is the per-member work of the business: reads, checks, the interest fold, the
  # audit digest, statements one chunk at a time.
  say "$s: the schema floor (set-based, rolled back)"
  local t0 t1
  t0=$(now)
  sql "BEGIN;
    INSERT INTO posting (member_id, biz_date, kind, period, amount, unit_amount, indiv_amount,
      balance_after, voucher_id, remittance_id)
      SELECT member_id, '2026-06-16', kind, period, amount, unit_amount, indiv_amount,
        balance_after + amount, voucher_id, remittance_id FROM posting WHERE kind = '01';
    UPDATE member_balance SET balance = balance + 1, paid_through = 202606
      WHERE member_id IN (SELECT member_id FROM posting WHERE kind = '01');
    ROLLBACK;" >/dev/null
  t1=$(now)
  R[$s.floor_secs]=$(calc "$t1 - $t0")
  [ "$s" = postgres ] && sql "ANALYZE" >/dev/null
  say "$s: hpf job interest --year 2026"
  timed "$s.interest" env HPF_BUSINESS_DATE=2026-07-01 "$hpf" job interest "${args[@]}" --year 2026
  R[$s.settled]=$(sql "SELECT count(*) FROM posting WHERE kind = '09'")
  say "$s: hpf verify"
  timed "$s.verify" env HPF_BUSINESS_DATE=2026-07-01 "$hpf" verify "${args[@]}"
  R[$s.verify_out]=$(head -1 "$work/$s.verify.out")

  # The anchor: a raw bulk insert of as many rows, in one transaction, same store.
  local n=${R[$s.rows]}
  case $s in
    sqlite)
      rm -f "$work/raw.db"*
      t0=$(now)
      sqlite3 "$work/raw.db" "PRAGMA journal_mode=WAL; CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER, c TEXT);
        BEGIN; WITH RECURSIVE q(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM q WHERE x < $n)
        INSERT INTO t SELECT x, x * 3, 'row' FROM q; COMMIT;" >/dev/null
      t1=$(now)
      rm -f "$work/raw.db"*
      ;;
    postgres)
      scripts/pgtest.sh createdb "$pgdir" raw
      scripts/pgtest.sh psql "$pgdir" -At -d raw -c "CREATE TABLE t(a BIGINT PRIMARY KEY, b BIGINT, c TEXT)"
      t0=$(now)
      scripts/pgtest.sh psql "$pgdir" -At -d raw -c "INSERT INTO t SELECT x, x * 3, 'row' FROM generate_series(1, $n) x" >/dev/null
      t1=$(now)
      scripts/pgtest.sh dropdb "$pgdir" raw
      ;;
  esac
  R[$s.raw_secs]=$(calc "$t1 - $t0")
}

for s in $STORES; do
  case $s in
    sqlite) fund_store sqlite "$MEMBERS" "$EMPLOYERS" ;;
    postgres)
      if [ ! -x "$PGBIN/postgres" ]; then
        say "no PostgreSQL 15 in $PGBIN: skipped"
        continue
      fi
      pgdir=$(mktemp -d /tmp/hpf-fund-pg.XXXXXX)
      scripts/pgtest.sh start "$pgdir" >/dev/null
      fund_store postgres "$PG_MEMBERS" "$PG_EMPLOYERS"
      ;;
  esac
done

{
  echo "## Fund core at scale ($(date -u +%Y-%m-%d), commit $commit, $(nproc) cores)"
  echo
  echo "\`bench/fund.sh\`: \`hpf demo --months 0\` opens the accounts, then \`hpf job remit --month 2026-06\`,"
  echo "\`hpf job interest --year 2026\` (as of 2026-07-01) and \`hpf verify\`, each under \`/usr/bin/time\`."
  echo
  for s in $STORES; do
    [ -n "${R[$s.remit.secs]:-}" ] || continue
    name=$([ "$s" = sqlite ] && echo SQLite || echo "PostgreSQL 15")
    m=$([ "$s" = sqlite ] && echo "$MEMBERS" || echo "$PG_MEMBERS")
    e=$([ "$s" = sqlite ] && echo "$EMPLOYERS" || echo "$PG_EMPLOYERS")
    echo "### $name: $(thou "$m") members, $(thou "$e") employers"
    echo
    echo "| What | Time | Peak memory | Target | Baseline (same run) | Ratio |"
    echo "|---|---|---|---|---|---|"
    echo "| opening the accounts (setup, \`hpf demo\`) | $(fmt1 "${R[$s.open.secs]}") s | $(fmt1 "${R[$s.open.mb]}") MiB | | | |"
    echo "| one month's 汇缴, $(thou "${R[$s.postings]}") members: \`hpf job remit\` | $(fmt1 "${R[$s.remit.secs]}") s ($(thou "$(calc "${R[$s.postings]} / ${R[$s.remit.secs]}")") members/s) | $(fmt1 "${R[$s.remit.mb]}") MiB | ≤ 15 s, ≤ 5 x raw, ≤ 300 MB | raw insert of the $(thou "${R[$s.rows]}") rows it wrote, one transaction: $(fmt2 "${R[$s.raw_secs]}") s | $(fmt1 "$(calc "${R[$s.remit.secs]} / ${R[$s.raw_secs]}")") x |"
    echo "| the month's writes alone, set-based through the same schema (rolled back) | $(fmt2 "${R[$s.floor_secs]}") s | | | raw insert: $(fmt2 "${R[$s.raw_secs]}") s | $(fmt1 "$(calc "${R[$s.floor_secs]} / ${R[$s.raw_secs]}")") x raw; the month is $(fmt1 "$(calc "${R[$s.remit.secs]} / ${R[$s.floor_secs]}")") x this |"
    echo "| annual interest, $(thou "${R[$s.settled]}") accounts: \`hpf job interest\` | $(fmt1 "${R[$s.interest.secs]}") s ($(thou "$(calc "${R[$s.settled]} / ${R[$s.interest.secs]}")") accounts/s) | $(fmt1 "${R[$s.interest.mb]}") MiB | ≤ 10 s, ≤ 300 MB | | |"
    echo "| \`hpf verify\` over it | $(fmt1 "${R[$s.verify.secs]}") s | $(fmt1 "${R[$s.verify.mb]}") MiB | ≤ 10 s, ≤ 300 MB | | |"
    echo
    echo "- verify said: ${R[$s.verify_out]}"
    echo
  done
} | tee "$out/fund.md"

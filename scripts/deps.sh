#!/usr/bin/env bash
# Install every Debian and npm package HPF needs. Idempotent; quiet when all are present.
# Usage: scripts/deps.sh [run|test|bench]   (default: run)
set -euo pipefail
what=${1:-run}
cd "$(dirname "$0")/.."

debs=(build-essential pkg-config meson ninja-build openssl ca-certificates
      libmicrohttpd-dev libgnutls28-dev libjansson-dev libsqlite3-dev libssl-dev libargon2-dev
      libcurl4-openssl-dev libpq-dev nodejs npm)
case "$what" in
  # postgresql: the throwaway test cluster (scripts/pgtest.sh) and pgbench (from postgresql-15)
  # zbar-tools: zbarimg reads back the authenticator QR code the admin pages draw (tests/e2e)
  test)  debs+=(libcriterion-dev clang libclang-rt-14-dev chromium fonts-noto-cjk curl sqlite3 postgresql
               zbar-tools) ;;
  bench) debs+=(wrk curl sqlite3 bc postgresql) ;;
  run)   ;;
  *) echo "usage: $0 [run|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${debs[@]}"; do
  # node and npm may come from elsewhere (the machine image); accept any working binary
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "deps: need root to install packages" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Front-end packages (web/ for the pages; tests/ for the API and browser test tools).
npm_ci() {
  local dir=$1
  [ -f "$dir/package.json" ] || return 0
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}
npm_ci web
if [ "$what" = test ]; then npm_ci tests; fi

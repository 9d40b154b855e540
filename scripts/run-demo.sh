#!/usr/bin/env bash
# make run: on first run create the data directory with a demo population (the certificate is
# made by `hpf serve`), then serve over HTTPS in the foreground until Ctrl-C.
# Usage: scripts/run-demo.sh HPF_BIN DATA_DIR LISTEN
set -euo pipefail
hpf=$1 data=$2 listen=$3
mkdir -p "$data"
chmod 700 "$data"
logins="$data/demo-logins.txt"
if [ ! -f "$data/hpf.db" ]; then
  echo "hpf: first run: creating $data with a demo population (about a minute)..."
  "$hpf" demo --data-dir "$data" --employers "${DEMO_EMPLOYERS:-40}" \
    --members "${DEMO_MEMBERS:-2000}" --months "${DEMO_MONTHS:-12}" --seed 2022 \
    > "$logins.tmp" 2> "$data/demo.log"
  mv "$logins.tmp" "$logins"
fi
port=${listen##*:}
cat <<MSG

  HPF is starting at  https://127.0.0.1:${port}/
  (self-signed certificate: your browser will ask you to accept it once)

  Demo logins (role, username, password):
$(awk '{printf "    %-9s %-20s %s\n", $2, $3, $4}' "$logins" 2>/dev/null || echo "    (see $logins)")

  Health: curl -k https://127.0.0.1:${port}/healthz      Stop: Ctrl-C
MSG
exec "$hpf" serve --data-dir "$data" --listen "$listen" --web-dir web/dist

#!/usr/bin/env bash
# make run: on first run create the data directory with a demo population (the certificate is
# made by `hpf serve`), start hpf-sim (the SMS gateway and notary on loopback, certificate in
# DATA_DIR/sim), then serve over HTTPS in the foreground until Ctrl-C; the sim stops with it.
# Usage: scripts/run-demo.sh HPF_BIN DATA_DIR LISTEN   (SIM_LISTEN: the sim, 127.0.0.1:8444)
set -euo pipefail
hpf=$1 data=$2 listen=$3
sim_listen=${SIM_LISTEN:-127.0.0.1:8444}
sim_bin="$(dirname "$hpf")/hpf-sim"
mkdir -p "$data"
chmod 700 "$data"

# The peers first, so that one-time codes sent at the first login already have somewhere to go.
sim_pid=
stop_sim() {
  if [ -n "$sim_pid" ]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
}
trap stop_sim EXIT
rm -f "$data/sim.out"
"$sim_bin" --listen "$sim_listen" --data-dir "$data/sim" > "$data/sim.out" 2> "$data/sim.log" &
sim_pid=$!
for _ in $(seq 100); do
  grep -q '^hpf-sim: serving' "$data/sim.out" 2>/dev/null && break
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "hpf: hpf-sim did not start on $sim_listen (is it in use?):" >&2
    tail -n 3 "$data/sim.log" >&2
    sim_pid=
    exit 1
  fi
  sleep 0.1
done
sim_url=https://$sim_listen
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

  Demo logins (role, username, password, authenticator secret):
$(awk '{printf "    %-9s %-20s %-16s %s\n", $2, $3, $4, $5}' "$logins" 2>/dev/null || echo "    (see $logins)")

  Operators and agents also type a 6-digit authenticator code (TOTP): add the secret to an
  authenticator app, or print the current code with  build/hpf totp SECRET
  Members receive their code by SMS: open the SMS inbox below.

  SMS inbox (one-time codes sent by HPF):  ${sim_url}/sms/inbox
  (served by hpf-sim, which plays the SMS gateway and the notary; same kind of certificate)

  Health: curl -k https://127.0.0.1:${port}/healthz      Stop: Ctrl-C
MSG
# In the foreground (no exec), so that the EXIT trap stops the sim after the server.
"$hpf" serve --data-dir "$data" --listen "$listen" --web-dir web/dist \
  --peers "$sim_url" --peers-ca "$data/sim/cert.pem"

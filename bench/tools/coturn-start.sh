#!/usr/bin/env bash
# (Copied from shared/tools; the project keeps its own copy so the benchmark runs from a clean clone.)
# Start a throwaway coturn (Debian `turnserver`) on 127.0.0.1 in the background: user test:test, realm example.org,
# UDP/TCP 3478, TLS/DTLS 5349 (self-signed cert), relay ports 49152-65535, loopback peers allowed; prints the PID.
# Usage: coturn-start.sh [workdir=/tmp/peers/coturn]   (env: PORT=3478 TLS_PORT=5349 THREADS=<cpus> EXTRA="--flags")
# Stop:  kill "$(cat <workdir>/turnserver.pid)"        Needs: apt-get install -y coturn openssl
set -euo pipefail
DIR=${1:-/tmp/peers/coturn}
PORT=${PORT:-3478}
TLS_PORT=${TLS_PORT:-5349}
mkdir -p "$DIR"
command -v turnserver >/dev/null || { echo "turnserver missing: apt-get install -y coturn" >&2; exit 1; }

if [[ -f "$DIR/turnserver.pid" ]] && kill -0 "$(cat "$DIR/turnserver.pid")" 2>/dev/null; then
  echo "already running" >&2; cat "$DIR/turnserver.pid"; exit 0
fi

if [[ ! -s "$DIR/cert.pem" || ! -s "$DIR/key.pem" ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$DIR/key.pem" -out "$DIR/cert.pem" >/dev/null 2>&1
fi

cat > "$DIR/turnserver.conf" <<EOF
listening-ip=127.0.0.1
relay-ip=127.0.0.1
listening-port=$PORT
tls-listening-port=$TLS_PORT
min-port=49152
max-port=65535
lt-cred-mech
fingerprint
user=test:test
realm=example.org
allow-loopback-peers
no-cli
no-rfc5780
userdb=$DIR/turndb
cert=$DIR/cert.pem
pkey=$DIR/key.pem
log-file=$DIR/turnserver.log
simple-log
no-stdout-log
pidfile=$DIR/turnserver.pid
EOF
[[ -n "${THREADS:-}" ]] && echo "relay-threads=$THREADS" >> "$DIR/turnserver.conf"

# shellcheck disable=SC2086
setsid turnserver -c "$DIR/turnserver.conf" ${EXTRA:-} </dev/null >"$DIR/turnserver.stdout" 2>&1 &
PID=$!
echo "$PID" > "$DIR/turnserver.pid"
for _ in $(seq 1 50); do   # wait up to 5 s for the UDP listener
  ss -Hlun "sport = :$PORT" 2>/dev/null | grep -q 127.0.0.1 && break
  kill -0 "$PID" 2>/dev/null || { echo "turnserver died; see $DIR/turnserver.log" >&2; tail -20 "$DIR/turnserver.log" >&2; exit 1; }
  sleep 0.1
done
echo "$PID"

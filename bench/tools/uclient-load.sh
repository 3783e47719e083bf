#!/usr/bin/env bash
# (Copied from shared/tools; the project keeps its own copy so the benchmark runs from a clean clone.)
# Time-bounded TURN load test with coturn's turnutils_uclient (+ turnutils_peer UDP echo peer, auto-started on 127.0.0.1).
# Prints one line: 'pps=... mbps=... lost=... rtt_ms=...' (+ details) computed from uclient's per-second counters.
#
# Usage: uclient-load.sh HOST PORT USER PASS [sessions=10] [size=100] [msgs_per_session=1000]
# Env:   MODE=peer|c2c     peer: client->TURN->turnutils_peer(echo)->TURN->client (default); c2c: uclient -y, relay<->relay
#        PEER=127.0.0.1:3480  echo peer used in MODE=peer (started here if nothing listens there, stopped by PID after)
#        INTERVAL_MS=0     uclient -z: per-session send interval (0 = blast; 20 = RTP-like 50 pkt/s per session)
#        TRANSPORT=udp|tcp|tls|dtls   client<->server leg (-t / -S); use the TLS port (5349) for tls/dtls
#        SEND_IND=0        1 = use Send/Data indications (-s) instead of ChannelData
#        RTCP=0            1 = uclient's default RTP+RTCP session pairs (without -c); 0 adds -c
#        TIMEOUT=120       hard wall-clock bound for the uclient run (seconds)
#        SERVER_PID=       if set, also report CPU seconds the server process used during the run
#        RAW=file          keep uclient's raw output there (default: mktemp, deleted)
#        EXTRA="..."       extra uclient flags
# Numbers: pps  = echoed messages/s received back by the clients, steady-state window (first second with traffic ..
#                 last second before sending finished). Each message crosses the TURN server twice
#                 (2 datagrams in + 2 out per message), so server forwarding rate = 2*pps.
#          peak_pps = best 1-s interval of received messages.
#          mbps = pps*size*8/1e6 (application payload, one direction). lost = sent-received over the whole run.
#          rtt_ms = uclient's 'Average round trip delay' (ms resolution; in c2c mode it is one-way delay).
# Note:  uclient -m counts allocations (sessions); it rounds up to even (peer mode with RTCP) or x4 (c2c with RTCP),
#        and each session starts at a random 1-6 s offset, then a ~10 s drain wait if anything was lost.
set -uo pipefail
if [[ $# -lt 4 ]]; then sed -n '5,27p' "$0"; exit 2; fi
HOST=$1 PORT=$2 USER_=$3 PASS=$4
SESS=${5:-10} SIZE=${6:-100} MSGS=${7:-1000}
MODE=${MODE:-peer} PEER=${PEER:-127.0.0.1:3480} INTERVAL_MS=${INTERVAL_MS:-0}
TRANSPORT=${TRANSPORT:-udp} SEND_IND=${SEND_IND:-0} RTCP=${RTCP:-0} TIMEOUT=${TIMEOUT:-120}
command -v turnutils_uclient >/dev/null || { echo "need coturn: apt-get install -y coturn" >&2; exit 1; }

args=(-u "$USER_" -w "$PASS" -p "$PORT" -m "$SESS" -l "$SIZE" -n "$MSGS" -z "$INTERVAL_MS")
[[ $RTCP == 1 ]] || args+=(-c)
[[ $SEND_IND == 1 ]] && args+=(-s)
case $TRANSPORT in
  udp) ;; tcp) args+=(-t) ;; tls) args+=(-t -S) ;; dtls) args+=(-S) ;;
  *) echo "bad TRANSPORT=$TRANSPORT" >&2; exit 2 ;;
esac
PEER_PID=
if [[ $MODE == c2c ]]; then
  args+=(-y)
else
  PHOST=${PEER%:*} PPORT=${PEER##*:}
  args+=(-e "$PHOST" -r "$PPORT")
  if ! ss -Hlun "sport = :$PPORT" | grep -q .; then
    turnutils_peer -L "$PHOST" -p "$PPORT" </dev/null >/dev/null 2>&1 &
    PEER_PID=$!
    sleep 0.3
  fi
fi
# shellcheck disable=SC2206
args+=(${EXTRA:-} "$HOST")

OUT=${RAW:-$(mktemp /tmp/uclient.XXXXXX)}
cpu() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
[[ -n ${SERVER_PID:-} ]] && c0=$(cpu "$SERVER_PID")
t0=$(date +%s.%N)
timeout --kill-after=5 "$TIMEOUT" turnutils_uclient "${args[@]}" >"$OUT" 2>&1
rc=$?
t1=$(date +%s.%N)
[[ -n ${SERVER_PID:-} ]] && c1=$(cpu "$SERVER_PID")
[[ -n $PEER_PID ]] && { kill "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null; }

awk -v size="$SIZE" -v rc="$rc" -v wall="$(echo "$t1 - $t0" | bc)" \
    -v srvcpu="$( [[ -n ${SERVER_PID:-} ]] && echo "scale=2; ($c1-$c0)/$(getconf CLK_TCK)" | bc || echo NA)" '
  /start_mclient: msz=/ {
    t=$1+0; s=$0; r=$0
    sub(/.*tot_send_msgs=/,"",s); sub(/,.*/,"",s)
    sub(/.*tot_recv_msgs=/,"",r); sub(/,.*/,"",r)
    n++; T[n]=t; S[n]=s+0; R[n]=r+0; next }
  /start_mclient: tot_send_msgs=/ { s=$0; r=$0; sub(/.*tot_send_msgs=/,"",s); sub(/,.*/,"",s)
    sub(/.*tot_recv_msgs=/,"",r); fs=s+0; fr=r+0; next }
  /Total transmit time is/ { tt=$NF+0 }
  /Average round trip delay/ { rtt=$0; sub(/.*delay /,"",rtt); sub(/ ms.*/,"",rtt) }
  END {
    if (fs == "") { fs = (n ? S[n] : 0); fr = (n ? R[n] : 0) }
    a=0; b=0
    for (i=1;i<=n;i++) if (S[i]>0) { a=i; break }
    for (i=a;i>0 && i<=n;i++) if (S[i]<fs) b=i      # last sample still sending
    if (a>0 && b<=a) { for (i=a;i<=n;i++) if (S[i]>=fs) { b=i; break } }   # short run: include the last partial second
    pps=0; if (a>0 && b>a && T[b]>T[a]) pps=(R[b]-R[a])/(T[b]-T[a])
    peak=0; for (i=2;i<=n;i++) if (T[i]>T[i-1]) { d=(R[i]-R[i-1])/(T[i]-T[i-1]); if (d>peak) peak=d }
    lost=fs-fr; lp=(fs>0)?100*lost/fs:0
    printf "pps=%.0f mbps=%.2f lost=%d (%.3f%%) rtt_ms=%s | peak_pps=%.0f sent=%d recv=%d window_s=%d uclient_transmit_s=%s wall_s=%.1f server_cpu_s=%s rc=%d\n",
      pps, pps*size*8/1e6, lost, lp, (rtt==""?"NA":rtt), peak, fs, fr, (b>a?T[b]-T[a]:0), (tt==""?"NA":tt), wall, srvcpu, rc
  }' "$OUT"
[[ -z ${RAW:-} ]] && rm -f "$OUT"
exit 0

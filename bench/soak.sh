#!/usr/bin/env bash
# Soak (issue 21): a release server on PostgreSQL with its outbox worker and a real SMTP server
# (aiosmtpd), filed into without pause by wrk (8 connections) for DUR seconds, then given up to DRAIN
# seconds to send everything. Prints, every 5 s: seconds, resident memory (MB), e-mails received by
# the SMTP server, notifications still waiting. Fails (exit 1) when a filing was not 2xx, or when
# resident memory at the end exceeds 1.2x its largest value in the first half of the filing.
# Profile with WRAP="heaptrack -o /tmp/hk.heaptrack".
#   DUR=600 DRAIN=300 bash bench/soak.sh      (.ci/run: DUR=60 DRAIN=120)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BIN:-$ROOT/target/release/hikeshi}
DUR=${DUR:-180}; DRAIN=${DRAIN:-300}; DB=hk_soak
W=$(mktemp -d)
trap 'kill ${PID:-} ${SRV:-} ${SINK:-} ${MON:-} 2>/dev/null || true' EXIT
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
SMTP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 "$ROOT/bench/smtp_sink.py" "$SMTP" "$W/sink.log" & SINK=$!
sleep 1
env HIKESHI_DATABASE_URL=postgres://postgres@127.0.0.1/$DB HIKESHI_BIND=127.0.0.1:$PORT HIKESHI_PUBLIC_URL=http://127.0.0.1:$PORT \
  HIKESHI_MAIL_URL=smtp://127.0.0.1:$SMTP HIKESHI_RATE_LIMIT_PER_MINUTE=0 HIKESHI_LOG_FORMAT=json RUST_LOG=warn \
  HIKESHI_AUDIT_KEY=soak-audit-key-0123456789abcdefghijklmnop \
  ${WRAP:-} "$BIN" serve --demo > "$W/out.log" 2> "$W/err.log" & SRV=$!
for _ in $(seq 60); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done
PID=$(ss -ltnp "sport = :$PORT" | grep -o "pid=[0-9]*" | head -1 | cut -d= -f2)
PW=$(grep "reporter@tokyo-chuo" "$W/out.log" | head -1 | awk '{print $3}')
TOKEN=$(curl -s "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"reporter@tokyo-chuo.example\",\"password\":\"$PW\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
rss() { awk '/VmRSS/{print int($2/1024)}' "/proc/$PID/status"; }
waiting() { psql -h 127.0.0.1 -U postgres -d $DB -qAtc "select count(*) from notifications where status in ('pending','failed')"; }
echo "t rss_mb sent pending"
start=$SECONDS
( while :; do
    echo "$((SECONDS - start)) $(rss) $(wc -l < "$W/sink.log") $(waiting)" | tee -a "$W/series"; sleep 5; done ) & MON=$!
BENCH_MODE=file BENCH_TOKEN=$TOKEN BENCH_PREFIX=soak wrk -t2 -c8 -d${DUR}s --timeout 30s -s "$ROOT/bench/wrk.lua" \
  "http://127.0.0.1:$PORT/api/v1/incidents" > "$W/wrk.txt" 2>&1
# The drain: until nothing waits (or DRAIN seconds), memory still sampled.
end=$((SECONDS + DRAIN))
while [ "$(waiting)" != 0 ] && [ $SECONDS -lt $end ]; do sleep 5; done
sleep 6
kill $MON 2>/dev/null || true; wait $MON 2>/dev/null || true
left=$(waiting)
kill "$PID" 2>/dev/null || true; wait $SRV 2>/dev/null || true
echo "dir $W"
grep -E "requests in|Requests/sec" "$W/wrk.txt" || true
python3 - "$W/series" "$W/wrk.txt" "$DUR" "$left" <<'EOF'
import json, sys
series = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
wrk, dur, left = open(sys.argv[2]).read(), int(sys.argv[3]), int(sys.argv[4])
line = [l for l in wrk.splitlines() if l.startswith("BENCH_JSON ")]
r = json.loads(line[-1][len("BENCH_JSON "):]) if line else {"requests": 0, "non2xx": 1, "socket_errors": 0}
first = [m for t, m, _, _ in series if t <= dur / 2]
peak_first, end = max(first), series[-1][1]
filed = r["requests"]
print(f"filings {filed} ({filed / dur:.0f}/s), non-2xx {r['non2xx']}, socket errors {r['socket_errors']}; "
      f"RSS first half max {peak_first} MB, overall max {max(m for _, m, _, _ in series)} MB, end {end} MB; "
      f"waiting at the end {left}")
bad = []
if r["non2xx"] or r["socket_errors"] or not filed:
    bad.append("some filings were not 2xx")
if end > 1.2 * peak_first:
    bad.append(f"memory at the end ({end} MB) exceeds 1.2x the first half's largest ({peak_first} MB)")
if bad:
    sys.exit("soak FAILED: " + "; ".join(bad))
print("soak OK")
EOF

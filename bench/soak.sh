#!/usr/bin/env bash
# Soak (issue 21): a release server on PostgreSQL with its outbox worker and a real SMTP server
# (aiosmtpd), filed into without pause by wrk (8 connections) for DUR seconds, then left DRAIN
# seconds to send. Prints, every 5 s: seconds, resident memory (MB), e-mails received by the SMTP
# server, notifications still waiting. Profile with WRAP="heaptrack -o /tmp/hk.heaptrack".
#   DUR=600 DRAIN=60 bash bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BIN:-$ROOT/target/release/hikeshi}
DUR=${DUR:-180}; DRAIN=${DRAIN:-90}; DB=hk_soak
W=$(mktemp -d)
trap 'kill ${PID:-} ${SRV:-} ${SINK:-} 2>/dev/null || true' EXIT
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
SMTP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 $ROOT/bench/smtp_sink.py $SMTP $W/sink.log & SINK=$!
sleep 1
env HIKESHI_DATABASE_URL=postgres://postgres@127.0.0.1/$DB HIKESHI_BIND=127.0.0.1:$PORT HIKESHI_PUBLIC_URL=http://127.0.0.1:$PORT \
  HIKESHI_MAIL_URL=smtp://127.0.0.1:$SMTP HIKESHI_RATE_LIMIT_PER_MINUTE=0 HIKESHI_LOG_FORMAT=json RUST_LOG=warn \
  HIKESHI_AUDIT_KEY=soak-audit-key-0123456789abcdefghijklmnop MALLOC_MMAP_THRESHOLD_=131072 ${WRAP:-} $BIN serve --demo > $W/out.log 2> $W/err.log & SRV=$!
for _ in $(seq 60); do curl -fs http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.5; done
PID=$(ss -ltnp "sport = :$PORT" | grep -o "pid=[0-9]*" | head -1 | cut -d= -f2)
PW=$(grep "reporter@tokyo-chuo" $W/out.log | head -1 | awk '{print $3}')
TOKEN=$(curl -s http://127.0.0.1:$PORT/api/v1/auth/login -H 'content-type: application/json' -d "{\"email\":\"reporter@tokyo-chuo.example\",\"password\":\"$PW\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
rss() { awk '/VmRSS/{print int($2/1024)}' /proc/$PID/status; }
echo "t rss_mb sent pending"
( for i in $(seq 0 5 $((DUR+DRAIN))); do
    p=$(psql -h 127.0.0.1 -U postgres -d $DB -qAtc "select count(*) from notifications where status in ('pending','failed')")
    echo "$i $(rss) $(wc -l < $W/sink.log) $p"; sleep 5; done ) & MON=$!
BENCH_MODE=file BENCH_TOKEN=$TOKEN BENCH_PREFIX=soak wrk -t2 -c8 -d${DUR}s -s $ROOT/bench/wrk.lua http://127.0.0.1:$PORT/api/v1/incidents > $W/wrk.txt 2>&1
wait $MON
grep -E "Requests/sec|Non-2xx|requests in" $W/wrk.txt || true
kill $PID $SRV $SINK 2>/dev/null || true; wait $SRV 2>/dev/null || true
echo "dir $W"

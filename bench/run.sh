#!/usr/bin/env bash
# The benchmark suite (issue 8): bench/run.sh [--tiny] [--scale] [--no-wait]
#   --tiny     smoke run: 200 incidents (2,000 for the "big" statistics), 3-second runs, one round
#   --scale    (issue 21) filing, list, detail and time to notify at 0, 1,000, 10,000 and 100,000
#              incidents, and the outbox sender's rate with 1,000 and 40,000 e-mails waiting (SMTP and
#              file transports); with --tiny: 0, 200 and 2,000 incidents. Writes results/scale.{json,md}
#   --no-wait  do not wait for the machine to be quiet (full runs wait up to 40 minutes, before
#              building and again before measuring)
#   --reuse-seed  (development) measure again on the databases of the previous run
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth), pgbench, wrk and python3-aiosmtpd.
# Prints the table and writes it to bench/results/latest.json and latest.md (--tiny: latest-tiny.*).
set -euo pipefail
cd "$(dirname "$0")/.."

tiny=false wait=true
for a in "$@"; do
  case "$a" in
    --tiny) tiny=true ;;
    --scale) ;;
    --no-wait) wait=false ;;
    --reuse-seed) ;;
    *) echo "usage: bench/run.sh [--tiny] [--scale] [--no-wait] [--reuse-seed]" >&2; exit 2 ;;
  esac
done

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v pgbench >/dev/null || need+=(postgresql-client)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || need+=(python3-aiosmtpd)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Other heavy work on this 2-core machine would be measured too: wait for quiet (full runs only).
busy() {
  pgrep -f 'schemathesis|chromium|rustc|cargo|playwright' | while read -r pid; do
    [ "$pid" = "$$" ] && continue
    # This shell's ancestors (e.g. `cargo run` or CI around us) do not count, nor tool wrappers.
    case " $(ps -o ppid= -p $$ | tr -d ' ') $PPID " in *" $pid "*) continue ;; esac
    comm=$(ps -o comm= -p "$pid" 2>/dev/null || true)
    case "$comm" in schemathesis|st|chromium*|chrome*|rustc|cargo|playwright*|node|python*) echo "$pid $comm" ;; esac
  done
}
if ! $tiny && $wait; then
  for i in $(seq 1 40); do
    b=$(busy)
    [ -z "$b" ] && break
    echo "machine busy ($(echo "$b" | tr '\n' ' ')); waiting 60 s ($i/40)" >&2
    sleep 60
  done
fi

cargo build --release --locked --bin hikeshi --example bench_seed
mkdir -p bench/results
args=()
$tiny && args+=(--tiny)
$wait || args+=(--no-wait)
for a in "$@"; do case "$a" in --reuse-seed|--scale) args+=("$a") ;; esac; done
exec /usr/bin/python3 bench/bench.py "${args[@]}"

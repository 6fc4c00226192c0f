#!/usr/bin/env bash
# The API contract, fuzzed: schemathesis (PyPI) against a live release server on SQLite, once per
# role with that role's token, every check on. Fails on any 5xx, any response that violates
# openapi.yaml, any undocumented status, and every other schemathesis check.
#   ci/schemathesis.sh            (ST_MAX_EXAMPLES=50 by default; ST_WORKERS=1)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${ST_MAX_EXAMPLES:-50}
WORKERS=${ST_WORKERS:-1} # Hypothesis on CPython 3.11 can trip over its own AST parsing with threads
ROLES=(reporter duty_officer responder liaison admin) # admin last: it can change the 2FA policy
read -r -a ROLES <<<"${ST_ROLES:-${ROLES[*]}}"

log() { printf '\n--- schemathesis: %s ---\n' "$*"; }

if ! command -v st >/dev/null 2>&1; then
  log "installing schemathesis"
  python3 -m pip install -q schemathesis
fi
st --version

BIN=${HIKESHI_BIN:-}
if [ -z "$BIN" ]; then
  log "cargo build --release"
  cargo build --release
  BIN="$ROOT/target/release/hikeshi"
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

log "starting $BIN serve --demo on $base"
(
  cd "$work"
  exec env HIKESHI_BIND="127.0.0.1:$port" HIKESHI_PUBLIC_URL="$base" \
    HIKESHI_DATABASE_URL="sqlite://$work/hikeshi.db" HIKESHI_MAIL_URL="file://$work/outbox" \
    HIKESHI_AUTH__LOGIN_PER_MINUTE=1000000 HIKESHI_RATE_LIMIT_PER_MINUTE=1000000 \
    HIKESHI_WORKER__DELIVER_WEBHOOKS=false \
    HIKESHI_AUTH__ACCESS_TOKEN_SECONDS=3600 HIKESHI_LOG_FORMAT=json RUST_LOG=warn \
    "$BIN" serve --demo >"$work/server.out" 2>"$work/server.err"
) &
server_pid=$!
for _ in $(seq 1 60); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err"; exit 1; }
  sleep 0.5
done
curl -fsS "$base/readyz" >/dev/null

# The demo prints each account once: "  <role> <email> <password>   (<organisation>)".
token_for() {
  local role=$1 email password
  read -r email password < <(awk -v r="$role" '$1 == r { print $2, $3; exit }' "$work/server.out")
  [ -n "$email" ] || { echo "no demo account for $role" >&2; return 1; }
  curl -fsS "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

failed=0
for role in "${ROLES[@]}"; do
  token=$(token_for "$role")
  log "role $role: st run --checks all --max-examples $N"
  set +e
  # From the scratch directory: schemathesis keeps a cache in the working directory.
  (cd "$work" && st --config-file "$ROOT/ci/schemathesis.toml" run "$base/openapi.json" --url "$base" --checks all --max-examples "$N" --workers "$WORKERS" \
    --header "Authorization: Bearer $token" --generation-database none --no-color \
    --report ndjson --report-ndjson-path "$work/$role.ndjson") 2>&1 | tee "$work/$role.log"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || failed=1
done

log "server errors logged"
grep '"level":"ERROR"' "$work/server.err" | head -n 5 || true

python3 - "$work" "${ROLES[@]}" <<'PY'
import json, re, sys
work, roles = sys.argv[1], sys.argv[2:]
total_ops, total_requests, total_failures = 0, 0, 0
for role in roles:
    requests = 0
    with open(f"{work}/{role}.ndjson") as f:
        for line in f:
            for data in json.loads(line).values():
                if isinstance(data, dict) and isinstance((data.get("recorder") or {}).get("interactions"), dict):
                    requests += len(data["recorder"]["interactions"])
    log = open(f"{work}/{role}.log").read()
    ops = int((re.search(r"Tested: (\d+)", log) or [0, 0])[1])
    # The closing line: "=== 1 failure, 1 error, 4 warnings in 29.16s ===" (or "... passed ...").
    closing = [l for l in log.splitlines() if re.match(r"^=+ .* in [0-9.]+s =+$", l)][-1:] or ["=== no result ==="]
    failures = sum(int(n) for n in re.findall(r"(\d+) (?:failures?|errors?)\b", closing[0]))
    if "no result" in closing[0]:
        failures += 1
    print(f"schemathesis {role}: operations={ops} requests={requests} failures={failures}")
    total_ops = max(total_ops, ops)
    total_requests += requests
    total_failures += failures
print(f"schemathesis SUMMARY: operations={total_ops} requests={total_requests} failures={total_failures} roles={len(roles)}")
PY

[ "$failed" -eq 0 ] || { echo "schemathesis found failures (see above)"; exit 1; }
echo "schemathesis: OK"

#!/usr/bin/env bash
# The web interface, end to end: installs Debian's chromium (and a Japanese font so that the
# screenshots are readable), the pinned npm packages (playwright-core, axe-core) with `npm ci`,
# builds the release binary and runs web/e2e/run.mjs against it. Screenshots: target/screenshots/.
#   web/e2e/ci.sh            (HIKESHI_BIN=... to test another binary)
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
for pkg in chromium fonts-ipafont-gothic; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
/usr/bin/chromium --version
node --version

(cd web/e2e && npm ci --no-audit --no-fund --loglevel=error)

# The inbox the server reads (a throw-away Dovecot), so replies are tested coming back.
if [ -x /usr/sbin/dovecot ]; then
  imap_dir=$(mktemp -d)
  imap_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  setsid bash ci/dovecot.sh "$imap_dir" "$imap_port" e2e@inbox.example e2e-secret >/dev/null 2>&1 &
  imap_pid=$!
  trap 'kill -- -"$imap_pid" 2>/dev/null || true; rm -rf "$imap_dir"' EXIT
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/"$imap_port") 2>/dev/null && break; sleep 0.2; done
  export HIKESHI_E2E_IMAP_PORT=$imap_port HIKESHI_E2E_IMAP_USER=e2e@inbox.example HIKESHI_E2E_IMAP_PASSWORD=e2e-secret
fi

if [ -z "${HIKESHI_BIN:-}" ]; then
  cargo build --release
  export HIKESHI_BIN="$PWD/target/release/hikeshi"
fi
node web/e2e/run.mjs

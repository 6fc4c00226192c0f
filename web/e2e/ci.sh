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

if [ -z "${HIKESHI_BIN:-}" ]; then
  cargo build --release
  export HIKESHI_BIN="$PWD/target/release/hikeshi"
fi
node web/e2e/run.mjs

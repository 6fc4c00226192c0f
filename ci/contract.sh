#!/usr/bin/env bash
# The contract as its users' tools read it (a stage of .ci/run):
#   1. openapi-spec-validator: openapi.yaml is a valid OpenAPI 3.1 document;
#   2. Spectral's spectral:oas ruleset: no error (warnings are printed, not fatal);
#   3. openapi-python-client generates a client with no warning and one module per operation.
# Python tools from ci/requirements.txt; Spectral from npm into a scratch directory.
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC=openapi.yaml
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "--- openapi-spec-validator"
openapi-spec-validator "$SPEC"

echo "--- spectral lint (spectral:oas)"
npm install --silent --no-audit --no-fund --prefix "$WORK/npm" @stoplight/spectral-cli@6.16.3 >/dev/null
printf 'extends: ["spectral:oas"]\n' >"$WORK/ruleset.yaml"
"$WORK/npm/node_modules/.bin/spectral" lint "$SPEC" --ruleset "$WORK/ruleset.yaml" --fail-severity error

echo "--- openapi-python-client"
(cd "$WORK" && openapi-python-client generate --path "$OLDPWD/$SPEC" --output-path "$WORK/client" --overwrite) >"$WORK/opc.log" 2>&1 || {
  cat "$WORK/opc.log"
  exit 1
}
cat "$WORK/opc.log"
if grep -qiE "warning|error|skipp|unable" "$WORK/opc.log"; then
  echo "openapi-python-client warned: every operation must generate cleanly" >&2
  exit 1
fi
python3 - "$SPEC" "$WORK/client" <<'PY'
import os, sys, yaml
spec, client = sys.argv[1], sys.argv[2]
doc = yaml.safe_load(open(spec, encoding="utf-8"))  # PyYAML reads YAML 1.1, as many generators do
ids = [o["operationId"] for item in doc["paths"].values() for m, o in item.items()
       if m in ("get", "put", "post", "patch", "delete")]
made = {f[:-3] for root, _, files in os.walk(client) if os.sep + "api" in root
        for f in files if f.endswith(".py") and f != "__init__.py"}
missing = [i for i in ids if i not in made]
print(f"operations {len(ids)}, generated {len(ids) - len(missing)}")
if missing:
    sys.exit(f"no client code for: {missing}")
PY
echo "contract OK"

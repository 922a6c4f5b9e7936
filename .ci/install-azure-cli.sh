#!/usr/bin/env bash
# Installs Azure's CLI from Debian's own package (azure-cli, 2.45 on bookworm) for the az CLI integration test
# (test/integration/emulator/azureCli.test.ts), then prints `az version`. Idempotent: an installed az is left as it is.
set -euo pipefail

if ! command -v az >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  echo "Installing azure-cli from Debian packages"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends azure-cli >/dev/null
fi

# `az version` reads only local files; give it a throw-away profile so the user's own is never touched.
config_dir="$(mktemp -d)"
trap 'rm -rf "$config_dir"' EXIT
AZURE_CONFIG_DIR="$config_dir" AZURE_CORE_COLLECT_TELEMETRY=false az version --output json

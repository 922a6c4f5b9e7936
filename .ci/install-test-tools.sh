#!/usr/bin/env bash
# Installs what the tests use besides npm packages, each from its own registry, and prints its version:
# Debian's Chromium (the dashboard's browser test), Debian's azure-cli (the az CLI test against the emulator) and
# the pinned Bicep CLI from NuGet (the infrastructure check and tests). Idempotent: what is installed is kept.
# Used by .ci/run, and by a newcomer before `npm ci && npm test` (README).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Chromium from Debian packages (browser test)"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
chromium --version 2>/dev/null || true

# Azure's CLI (Debian azure-cli 2.45) for test/integration/emulator/azureCli.test.ts
bash .ci/install-azure-cli.sh

# The Bicep CLI, pinned, from NuGet (into .tools/bicep): the infra check and the infra tests compile with it.
bash .ci/install-bicep.sh

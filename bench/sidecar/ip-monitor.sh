#!/usr/bin/env bash
# The sidecar that `reconcile` replaces (docs/design.md, "The problem"), written as users run it next to each
# VNet container group: every INTERVAL_SECONDS, read the group's private IP, read the Key Vault secret callers use
# to find it, and write the secret only when the IP differs. Azure may change a VNet group's IP after maintenance
# or a restart ("Configure a virtual network for Azure Container Instances", container-instances-vnet), hence the
# polling. The benchmark part `sidecar` (bench/parts/sidecar.ts) runs it with ONCE=1 and measures each az process.
#
#   RESOURCE_GROUP=rg-apps GROUP_NAME=web-blue VAULT_NAME=kv-apps SECRET_NAME=web-ip bash ip-monitor.sh
#
# Environment: RESOURCE_GROUP, GROUP_NAME, VAULT_NAME, SECRET_NAME (required); INTERVAL_SECONDS (default 60);
# ONCE=1 for one iteration (its exit status is the iteration's); VAULT_URL (default https://$VAULT_NAME.vault.azure.net,
# the emulator's vault is https://$VAULT_NAME.vault.localhost:<port>). az must be logged in already (in a container
# group: `az login --identity` once at start).
#
# Key Vault through `az rest`, not `az keyvault secret show/set`: Debian's azure-cli 2.45 cannot load its keyvault
# data-plane commands at all ("No module named 'azure.keyvault.v7_0'": the package lacks the vendored SDK), and
# `--vault-name` would need the cloud's keyvaultDns suffix, which `az cloud register` from a local ARM endpoint
# leaves empty. `az rest` makes the REST calls those commands make, one az process per call as before: Get Secret
# (GET {vault}/secrets/{name}) and Set Secret (PUT {vault}/secrets/{name} with {"value": ...}) of Key Vault's REST
# API 7.4 (learn.microsoft.com/rest/api/keyvault/secrets/get-secret and .../set-secret), with a token for Key Vault's
# audience (--resource https://vault.azure.net).
set -euo pipefail

: "${RESOURCE_GROUP:?set RESOURCE_GROUP}"
: "${GROUP_NAME:?set GROUP_NAME}"
: "${VAULT_NAME:?set VAULT_NAME}"
: "${SECRET_NAME:?set SECRET_NAME}"
INTERVAL_SECONDS="${INTERVAL_SECONDS:-60}"
VAULT_URL="${VAULT_URL:-https://${VAULT_NAME}.vault.azure.net}"
SECRET_URL="${VAULT_URL%/}/secrets/${SECRET_NAME}?api-version=7.4"
KEY_VAULT_AUDIENCE="https://vault.azure.net"

log() { echo "$(date -u +%FT%TZ) ${GROUP_NAME}: $*" >&2; }

# One iteration. Failures are checked explicitly (not left to set -e), because the loop below calls it in a
# `||` list, where bash ignores set -e.
check_once() {
  local ip current
  ip="$(az container show --resource-group "$RESOURCE_GROUP" --name "$GROUP_NAME" \
    --query ipAddress.ip --output tsv)" || { log "cannot read the group"; return 1; }
  if [[ -z "$ip" ]]; then
    # Stopped or being repaired: no IP to publish, and a blank secret would break callers more than a stale one.
    log "no IP address now; secret left as it is"
    return 0
  fi
  # A read that fails (first of all: the secret does not exist yet) counts as empty, so the write follows.
  current="$(az rest --method get --url "$SECRET_URL" --resource "$KEY_VAULT_AUDIENCE" \
    --query value --output tsv 2>/dev/null)" || current=""
  if [[ "$current" == "$ip" ]]; then
    log "IP ${ip} unchanged"
    return 0
  fi
  az rest --method put --url "$SECRET_URL" --resource "$KEY_VAULT_AUDIENCE" \
    --body "{\"value\": \"${ip}\"}" --output none \
    || { log "cannot write secret ${SECRET_NAME}"; return 1; }
  log "secret ${SECRET_NAME}: '${current}' -> ${ip}"
}

if [[ "${ONCE:-0}" == "1" ]]; then
  check_once
  exit
fi
while true; do
  check_once || log "iteration failed; next in ${INTERVAL_SECONDS}s"
  sleep "$INTERVAL_SECONDS"
done

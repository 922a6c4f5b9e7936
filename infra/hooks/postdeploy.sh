#!/bin/sh
# azd postdeploy hook: the second provision, which only makes sense once the first one and the code deployment are
# done. It turns on two things and provisions again:
# - ASSIGN_CUSTOM_ROLES: the custom roles (operator, subnet/identity join, watcher, registry reader) were defined by
#   the first provision; assigning a definition in the deployment that creates it can fail with
#   RoleDefinitionDoesNotExist while it replicates (Azure/azure-cli#20727), minutes later it does not.
# - DEPLOY_EVENT_SUBSCRIPTION: Event Grid validates an AzureFunction endpoint when the subscription is created, so it
#   needs onImagePushed deployed.
# Later runs of `azd up` provision with both already true, which keeps the subject filters in sync with
# infra/apps.json. The retry loop covers the host indexing a fresh deployment and any late role replication.
set -eu

if [ "$(azd env get-value DEPLOY_EVENT_SUBSCRIPTION 2>/dev/null || true)" = "true" ] &&
  [ "$(azd env get-value ASSIGN_CUSTOM_ROLES 2>/dev/null || true)" = "true" ]; then
  echo "Custom role assignments and the Event Grid subscription are managed by azd provision (second phase already on)."
  exit 0
fi

azd env set ASSIGN_CUSTOM_ROLES true
azd env set DEPLOY_EVENT_SUBSCRIPTION true

attempt=1
until azd provision --no-prompt; do
  if [ "$attempt" -ge 4 ]; then
    echo "The second provision failed; run 'azd provision' again (RoleDefinitionDoesNotExist and a missing onImagePushed both clear within minutes)." >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  echo "Retrying in 30 s (attempt $attempt of 4)..."
  sleep 30
done

#!/bin/sh
# azd postdeploy hook: create the Event Grid subscription to onImagePushed once the function exists.
# Event Grid validates an AzureFunction endpoint when the subscription is created, so the first `azd provision`
# (before any code is deployed) runs with DEPLOY_EVENT_SUBSCRIPTION=false; this hook flips it and provisions again.
# Later runs of `azd up` provision with it already true, which keeps the subject filters in sync with
# infra/apps.json.
set -eu

if [ "$(azd env get-value DEPLOY_EVENT_SUBSCRIPTION 2>/dev/null || true)" = "true" ]; then
  echo "Event Grid subscription is managed by azd provision (DEPLOY_EVENT_SUBSCRIPTION=true)."
  exit 0
fi

azd env set DEPLOY_EVENT_SUBSCRIPTION true

# The host indexes functions shortly after a deployment; retry while Event Grid cannot see onImagePushed yet.
attempt=1
until azd provision --no-prompt; do
  if [ "$attempt" -ge 4 ]; then
    echo "Creating the Event Grid subscription failed; run 'azd provision' again once onImagePushed is listed." >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  echo "Retrying in 30 s (attempt $attempt of 4)..."
  sleep 30
done

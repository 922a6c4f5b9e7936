# azd postdeploy hook (Windows): see postdeploy.sh for the reasoning.
$ErrorActionPreference = 'Stop'

$current = azd env get-value DEPLOY_EVENT_SUBSCRIPTION 2>$null
if ($LASTEXITCODE -eq 0 -and $current -eq 'true') {
  Write-Host 'Event Grid subscription is managed by azd provision (DEPLOY_EVENT_SUBSCRIPTION=true).'
  exit 0
}

azd env set DEPLOY_EVENT_SUBSCRIPTION true

for ($attempt = 1; $attempt -le 4; $attempt++) {
  azd provision --no-prompt
  if ($LASTEXITCODE -eq 0) { exit 0 }
  if ($attempt -lt 4) {
    Write-Host "Retrying in 30 s (attempt $($attempt + 1) of 4)..."
    Start-Sleep -Seconds 30
  }
}
Write-Error "Creating the Event Grid subscription failed; run 'azd provision' again once onImagePushed is listed."
exit 1

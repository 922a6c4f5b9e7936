# azd postdeploy hook (Windows): see postdeploy.sh for the reasoning (custom role assignments and the Event Grid
# subscription are created by a second provision).
$ErrorActionPreference = 'Stop'

$events = azd env get-value DEPLOY_EVENT_SUBSCRIPTION 2>$null
$roles = azd env get-value ASSIGN_CUSTOM_ROLES 2>$null
if ($events -eq 'true' -and $roles -eq 'true') {
  Write-Host 'Custom role assignments and the Event Grid subscription are managed by azd provision (second phase already on).'
  exit 0
}

azd env set ASSIGN_CUSTOM_ROLES true
azd env set DEPLOY_EVENT_SUBSCRIPTION true

for ($attempt = 1; $attempt -le 4; $attempt++) {
  azd provision --no-prompt
  if ($LASTEXITCODE -eq 0) { exit 0 }
  if ($attempt -lt 4) {
    Write-Host "Retrying in 30 s (attempt $($attempt + 1) of 4)..."
    Start-Sleep -Seconds 30
  }
}
Write-Error "The second provision failed; run 'azd provision' again (RoleDefinitionDoesNotExist and a missing onImagePushed both clear within minutes)."
exit 1

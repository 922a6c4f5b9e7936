// Builds APPS_CONFIG from infra/apps.json: fills in the deployment's ids unless an app sets them itself. No
// resources; a module so that the lambdas below only see parameters (ARM does not allow reference() in lambdas,
// and module outputs compile to reference()). Unknown top-level keys such as "reconcile" pass through unchanged;
// src/config validates the result when the app starts.

@description('Content of infra/apps.json: { apps: [...], watch: {...} }.')
param appsFile object

@description('Default registry resource id (the watched registry).')
param registryResourceId string

@description('Default resource group for the container groups.')
param resourceGroupName string

@description('Default location for the container groups.')
param location string

@description('Default subnet for the container groups (the ACI subnet).')
param subnetId string

@description('Default identity the container groups pull images with.')
param imagePullIdentityId string

@description('Default Key Vault URL for the IP secrets (no trailing slash).')
param vaultUrl string

@description('Default Private DNS zone of the apps\' names (an app with "dns" and the watched groups tagged ip-dns).')
param dnsZoneId string

var apps = map(
  appsFile.apps,
  app =>
    union(app, {
      registry: app.?registry ?? { resourceId: registryResourceId }
      resourceGroup: app.?resourceGroup ?? resourceGroupName
      location: app.?location ?? location
      subnetId: app.?subnetId ?? subnetId
      template: union(
        {
          osType: 'Linux'
          imagePullIdentity: imagePullIdentityId
        },
        app.template
      )
      secret: union({ vaultUrl: vaultUrl }, app.secret)
    }, contains(app, 'dns') ? { dns: union({ zoneId: dnsZoneId }, app.dns) } : {})
)

output value object = union(appsFile, {
  apps: apps
  watch: {
    // Every app's resource group is scanned anyway; these are the extra ones.
    resourceGroups: appsFile.?watch.?resourceGroups ?? []
    vaultUrl: appsFile.?watch.?vaultUrl ?? vaultUrl
    groups: appsFile.?watch.?groups ?? []
    dns: union({ zoneId: dnsZoneId }, appsFile.?watch.?dns ?? {})
  }
})

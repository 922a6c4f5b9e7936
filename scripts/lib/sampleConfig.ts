/**
 * The sample configuration `npm start` runs the app with: one blue/green app `web` (CONTEXT.md's example, with
 * local vault URLs and fast timings, and the DNS name `web.apps.internal` in the zone the emulator seeds) and one
 * watched group `rg-legacy/legacy-worker`, plus the app settings that
 * point the app at the local stack. Values depend on the ports of the running stack, so they are generated at
 * start and handed to the host in its environment; `local.settings.sample.json` holds the same configuration
 * with `${stack.X}` / `${vault:NAME}` placeholders (test/unit/host/hostSampleSettings.test.ts keeps the two equal).
 */

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export const SAMPLE_RECONCILE_SCHEDULE = '*/5 * * * * *';
export const SAMPLE_DB_PASSWORD_SECRET = { vault: 'kv-apps', name: 'web-db-password' };
/**
 * The group the sample's `watch.groups` names: a fresh emulator does not have it, so `npm start` creates it
 * (Running, on a subnet of its own, a public image) and the sample's watched group gets its secret on the first tick.
 */
export const SAMPLE_LEGACY_GROUP = {
  resourceGroup: 'rg-legacy',
  name: 'legacy-worker',
  image: 'mcr.microsoft.com/azuredocs/aci-helloworld:latest',
  port: 8080,
  vnet: 'vnet-legacy',
  subnet: 'workers',
};

/**
 * The Private DNS zone the emulator seeds (emulator/src/privateDns/privateDnsStore.ts), linked to vnet-apps. The sample
 * keeps the record's TTL short and counts no caller cache on top: the local callers (the demo's, the tests') honour
 * the TTL and cache nothing else, so the drain stays the sample's 5 s. In Azure the default cache is App Service's 30 s.
 */
export const SAMPLE_DNS = {
  resourceGroup: 'rg-network',
  zone: 'apps.internal',
  ttlSeconds: 5,
  callerCacheSeconds: 0,
};

export interface StorageEndpoints {
  blobEndpoint?: string;
  queueEndpoint?: string;
  tableEndpoint: string;
}

/** `http://127.0.0.1:{port}` → `http://127.0.0.1:{port}/devstoreaccount1`. */
export function azuriteEndpoint(serviceUrl: string): string {
  return `${serviceUrl.replace(/\/+$/, '')}/${AZURITE_ACCOUNT}`;
}

export function azuriteConnectionString(endpoints: StorageEndpoints): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${AZURITE_ACCOUNT}`,
    `AccountKey=${AZURITE_KEY}`,
    ...(endpoints.blobEndpoint ? [`BlobEndpoint=${endpoints.blobEndpoint}`] : []),
    ...(endpoints.queueEndpoint ? [`QueueEndpoint=${endpoints.queueEndpoint}`] : []),
    `TableEndpoint=${endpoints.tableEndpoint}`,
  ].join(';');
}

export interface SampleTarget {
  subscriptionId: string;
  /** `https://{vault}.vault.localhost:{port}` (the emulator's `keyVaultUrlTemplate`). */
  keyVaultUrlTemplate: string;
}

/**
 * Two apps: `web` (automatic promotion, checked for 20 s after each switch, its previous group kept 10 minutes
 * for a fast rollback) and `api` (manual promotion: a new version waits in `api-ip-preview` for `acibg promote api`,
 * then is checked too).
 */
export function sampleAppsConfig(target: SampleTarget): Record<string, unknown> {
  const sub = `/subscriptions/${target.subscriptionId}`;
  const kvApps = target.keyVaultUrlTemplate.replace('{vault}', 'kv-apps');
  const registry = {
    resourceId: `${sub}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso`,
  };
  const subnetId = `${sub}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/aci`;
  const imagePullIdentity = `${sub}/resourceGroups/rg-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull`;
  const health = {
    port: 8080,
    path: '/healthz',
    expectedStatus: [200, 299],
    consecutiveSuccesses: 3,
    intervalSeconds: 1,
    timeoutSeconds: 60,
  };
  const verify = { intervalSeconds: 1, durationSeconds: 20, failureThreshold: 3 };
  const zoneId = `${sub}/resourceGroups/${SAMPLE_DNS.resourceGroup}/providers/Microsoft.Network/privateDnsZones/${SAMPLE_DNS.zone}`;
  return {
    apps: [
      {
        name: 'web',
        registry: {
          resourceId: `${sub}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/contoso`,
        },
        repository: 'web',
        tagPolicy: { type: 'semver', range: '>=1.0.0', allowDowngrade: false },
        resourceGroup: 'rg-apps',
        location: 'westeurope',
        subnetId: `${sub}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/aci`,
        adoptGroup: null,
        template: {
          osType: 'Linux',
          imagePullIdentity: `${sub}/resourceGroups/rg-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull`,
          containers: [
            {
              name: 'web',
              cpu: 0.5,
              memoryInGB: 1,
              ports: [8080],
              env: { LOG_LEVEL: 'info' },
              secureEnvFromKeyVault: {
                DB_PASSWORD: { vaultUrl: kvApps, secretName: SAMPLE_DB_PASSWORD_SECRET.name },
              },
            },
          ],
        },
        health: {
          port: 8080,
          path: '/healthz',
          expectedStatus: [200, 299],
          consecutiveSuccesses: 3,
          intervalSeconds: 1,
          timeoutSeconds: 60,
        },
        secret: { vaultUrl: kvApps, name: 'web-ip' },
        dns: { zoneId, ttlSeconds: SAMPLE_DNS.ttlSeconds, callerCacheSeconds: SAMPLE_DNS.callerCacheSeconds },
        drainSeconds: 5,
        keepFailed: false,
        provisioningTimeoutSeconds: 120,
        verify,
        rollbackWindowSeconds: 600,
      },
      {
        name: 'api',
        registry,
        repository: 'api',
        tagPolicy: { type: 'semver', range: '>=1.0.0', allowDowngrade: false },
        resourceGroup: 'rg-apps',
        location: 'westeurope',
        subnetId,
        template: {
          osType: 'Linux',
          imagePullIdentity,
          containers: [{ name: 'api', cpu: 0.5, memoryInGB: 1, ports: [8080] }],
        },
        health,
        secret: { vaultUrl: kvApps, name: 'api-ip' },
        drainSeconds: 5,
        provisioningTimeoutSeconds: 120,
        promotion: { mode: 'manual' },
        verify,
      },
    ],
    watch: {
      resourceGroups: ['rg-apps'],
      vaultUrl: kvApps,
      groups: [{ resourceGroup: 'rg-legacy', name: 'legacy-worker', secretName: 'legacy-worker-ip' }],
      // Groups in rg-apps tagged ip-dns=<name> get <name>.apps.internal.
      dns: { zoneId, ttlSeconds: SAMPLE_DNS.ttlSeconds },
    },
  };
}

export interface LocalStackEndpoints extends SampleTarget {
  armEndpoint: string;
  identityEndpoint: string;
  identityHeader: string;
  caCertPath: string;
  storageConnectionString: string;
  /** The emulator's `registryEndpointTemplate` (registries' data plane); without it the app uses Azure's. */
  registryEndpointTemplate?: string;
}

/**
 * App settings that make the app talk to the local stack. Only endpoints, credentials and the CA differ from
 * Azure (docs/design.md, "Emulator fidelity").
 */
export function localStackAppSettings(
  stack: LocalStackEndpoints,
  options: { appsConfig?: unknown; reconcileSchedule?: string } = {},
): Record<string, string> {
  return {
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AZURE_SUBSCRIPTION_ID: stack.subscriptionId,
    ARM_ENDPOINT: stack.armEndpoint,
    IDENTITY_ENDPOINT: stack.identityEndpoint,
    IDENTITY_HEADER: stack.identityHeader,
    NODE_EXTRA_CA_CERTS: stack.caCertPath,
    ...(stack.registryEndpointTemplate ? { ACR_ENDPOINT_TEMPLATE: stack.registryEndpointTemplate } : {}),
    AzureWebJobsStorage: stack.storageConnectionString,
    APPS_CONFIG: JSON.stringify(options.appsConfig ?? sampleAppsConfig(stack)),
    RECONCILE_SCHEDULE: options.reconcileSchedule ?? SAMPLE_RECONCILE_SCHEDULE,
  };
}

/**
 * Wiring: the only place that reads settings into clients. It builds the SDK clients and adapters once per
 * process, lazily on the first invocation (never at import time, so the host can load the functions even when
 * a setting is wrong), and hands each invocation `DomainDeps` with that invocation's logger.
 *
 * A settings error is kept and returned to every binding that asks (status answers it as a 500 with the
 * setting's name); per-app config errors are not errors here at all: APPS_CONFIG parsing keeps the valid apps
 * and status lists the refused ones.
 *
 * Seams for tests: `composeRuntime(settings, adapters, clock)` wires any port implementations the way production
 * does; `setRuntimeForTesting` swaps the runtime the bindings use.
 */
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { PrivateDnsManagementClient } from '@azure/arm-privatedns';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { TableClient } from '@azure/data-tables';
import { EventGridPublisherClient } from '@azure/eventgrid';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { CachedContainerGroups, CachedDnsRecords, CachedSecrets } from './adapters/cachedListings.js';
import { CachedRegistries } from './adapters/cachedRegistries.js';
import { jitteredRetryPolicy } from './adapters/jitteredRetryPolicy.js';
import { asyncThrottleMeter } from './adapters/throttleMeter.js';
import { SecretMirror } from './domain/secretMirror.js';
import { ContainerGroupsAdapter } from './adapters/containerGroups.js';
import { HttpHealthProbe } from './adapters/healthProbe.js';
import { EventGridNotifier } from './adapters/notifier.js';
import { PrivateDnsAdapter } from './adapters/privateDns.js';
import { RegistriesAdapter } from './adapters/registries.js';
import { RegistryDataPlaneAdapter } from './adapters/registryDataPlane.js';
import { TableRolloutStore } from './adapters/rolloutStore.js';
import { SecretsAdapter } from './adapters/secrets.js';
import { getSettings, type Settings } from './config/settings.js';
import type { DomainDeps } from './domain/deps.js';
import { systemClock, type Clock, type Logger } from './domain/ports.js';

/** The settings the bindings themselves use. */
export type BindingSettings = Pick<
  Settings,
  | 'rolloutEventBudgetSeconds'
  | 'operatorActionBudgetSeconds'
  | 'easyAuthEnabled'
  | 'actionsRequireSignIn'
  | 'reconcileBudgetSeconds'
  | 'reconcileRolloutSliceSeconds'
  | 'statusCacheSeconds'
  | 'reconcileSchedule'
>;

export interface AppRuntime {
  settings: BindingSettings;
  /** Dependencies for rollouts and reconcile (live reads). */
  deps(logger: Logger): DomainDeps;
  /** Dependencies for the status API: the same, with live listings cached for STATUS_CACHE_SECONDS. */
  statusDeps(logger: Logger): DomainDeps;
}

/** Per SDK call; shorter than Event Grid's 30 s delivery timeout so one hung call cannot use it all. */
const REQUEST_TIMEOUT_MS = 20_000;

/**
 * ARM and Key Vault clients retry through one policy: per call, exponential backoff with full jitter, 429s without
 * Retry-After included (jitteredRetryPolicy.ts). The SDKs' own retries are off, so a call is not retried twice
 * over (theirs would skip those 429s and retry 5xx on a schedule of their own).
 */
export function retryingClientOptions(policy: PipelinePolicy = jitteredRetryPolicy()) {
  return {
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy, position: 'perCall' as const }],
  };
}

function armCredential(settings: Settings): TokenCredential {
  return new DefaultAzureCredential(
    settings.azureClientId ? { managedIdentityClientId: settings.azureClientId } : {},
  );
}

/** Azurite (and only a connection string that says so) is plain http. */
function isHttpConnectionString(connectionString: string): boolean {
  return (
    /(^|;)\s*DefaultEndpointsProtocol\s*=\s*http\s*(;|$)/i.test(connectionString) ||
    /(^|;)\s*TableEndpoint\s*=\s*http:\/\//i.test(connectionString) ||
    /(^|;)\s*UseDevelopmentStorage\s*=\s*true/i.test(connectionString)
  );
}

export function createTableClient(settings: Settings, fallbackCredential: TokenCredential): TableClient {
  const s = settings.storage;
  if (s.kind === 'connectionString')
    return TableClient.fromConnectionString(s.connectionString, settings.rolloutTableName, {
      allowInsecureConnection: isHttpConnectionString(s.connectionString),
    });
  const clientId = s.clientId ?? settings.azureClientId;
  const credential =
    s.credential?.toLowerCase() === 'managedidentity'
      ? new ManagedIdentityCredential(clientId ? { clientId } : {})
      : s.clientId
        ? new DefaultAzureCredential({ managedIdentityClientId: s.clientId })
        : fallbackCredential;
  return new TableClient(s.tableServiceUri, settings.rolloutTableName, credential);
}

/** The ports the runtime is made of (real adapters in Azure; anything implementing the ports in tests). */
export type Adapters = Pick<
  DomainDeps,
  | 'containerGroups'
  | 'registries'
  | 'registryManifests'
  | 'secrets'
  | 'dnsRecords'
  | 'rolloutStore'
  | 'healthProbe'
  | 'notifier'
>;

/** What composing needs from settings. */
export type RuntimeSettings = BindingSettings & Pick<Settings, 'apps' | 'deployFreeze'>;

/** Build every SDK client and adapter from settings. */
export function createAdapters(settings: Settings): Adapters {
  const credential = armCredential(settings);
  const timeouts = { requestTimeoutMs: REQUEST_TIMEOUT_MS };
  const aci = new ContainerInstanceManagementClient(credential, settings.subscriptionId, {
    endpoint: settings.armEndpoint,
    credentialScopes: [settings.armScope],
    ...retryingClientOptions(),
  });
  const registries = new RegistriesAdapter(
    (subscriptionId) =>
      new ContainerRegistryManagementClient(credential, subscriptionId, {
        endpoint: settings.armEndpoint,
        credentials: { scopes: [settings.armScope] },
        ...retryingClientOptions(),
      }),
    { ...timeouts, armEndpoint: settings.armEndpoint },
  );
  const notifier = settings.notifyTopicEndpoint
    ? new EventGridNotifier(
        new EventGridPublisherClient(settings.notifyTopicEndpoint, 'CloudEvent', credential),
      )
    : undefined;
  return {
    containerGroups: new ContainerGroupsAdapter(aci, timeouts),
    registries,
    // Plain fetch: TLS trust is the process's (NODE_EXTRA_CA_CERTS locally), as for the SDK clients.
    registryManifests: new RegistryDataPlaneAdapter(credential, {
      endpointTemplate: settings.acrEndpointTemplate,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    }),
    secrets: new SecretsAdapter(
      (vaultUrl) => new SecretClient(vaultUrl, credential, retryingClientOptions()),
      timeouts,
    ),
    // A zone may live in another subscription than the groups (a shared DNS subscription): a client per subscription.
    dnsRecords: new PrivateDnsAdapter(
      (subscriptionId) =>
        new PrivateDnsManagementClient(credential, subscriptionId, {
          endpoint: settings.armEndpoint,
          credentialScopes: [settings.armScope],
          ...retryingClientOptions(),
        }),
      timeouts,
    ),
    rolloutStore: new TableRolloutStore(createTableClient(settings, credential), timeouts),
    healthProbe: new HttpHealthProbe(),
    ...(notifier ? { notifier } : {}),
  };
}

/**
 * Wire adapters into the runtime: live dependencies for rollouts and reconcile, and for status the same with
 * the live listings (groups, secrets, DNS records) cached for STATUS_CACHE_SECONDS.
 */
export function composeRuntime(
  settings: RuntimeSettings,
  adapters: Adapters,
  clock: Clock = systemClock,
): AppRuntime {
  const base: Omit<DomainDeps, 'logger'> = {
    config: settings.apps,
    ...adapters,
    // A push checks its login server against the registry: cached (cachedRegistries.ts says why).
    registries: new CachedRegistries(adapters.registries, clock),
    clock,
    throttleMeter: asyncThrottleMeter,
    // Kept for the life of the process: a warm instance's ticks skip the vault listings between audits.
    secretMirror: new SecretMirror(),
    ...(settings.deployFreeze ? { deployFreeze: settings.deployFreeze } : {}),
  };
  const ttlMs = settings.statusCacheSeconds * 1000;
  const statusBase: Omit<DomainDeps, 'logger'> =
    ttlMs > 0
      ? {
          ...base,
          containerGroups: new CachedContainerGroups(adapters.containerGroups, ttlMs, clock),
          secrets: new CachedSecrets(adapters.secrets, ttlMs, clock),
          dnsRecords: new CachedDnsRecords(adapters.dnsRecords, ttlMs, clock),
        }
      : base;
  return {
    settings: {
      rolloutEventBudgetSeconds: settings.rolloutEventBudgetSeconds,
      operatorActionBudgetSeconds: settings.operatorActionBudgetSeconds,
      easyAuthEnabled: settings.easyAuthEnabled,
      actionsRequireSignIn: settings.actionsRequireSignIn,
      reconcileBudgetSeconds: settings.reconcileBudgetSeconds,
      reconcileRolloutSliceSeconds: settings.reconcileRolloutSliceSeconds,
      statusCacheSeconds: settings.statusCacheSeconds,
      reconcileSchedule: settings.reconcileSchedule,
    },
    deps: (logger) => ({ ...base, logger }),
    statusDeps: (logger) => ({ ...statusBase, logger }),
  };
}

/** Build the runtime from settings (once per process). */
export function createRuntime(settings: Settings): AppRuntime {
  return composeRuntime(settings, createAdapters(settings));
}

type RuntimeSlot = { ok: true; runtime: AppRuntime } | { ok: false; error: Error };

let slot: RuntimeSlot | undefined;

/**
 * The process's runtime, built on first use. Throws the (kept) settings error on every call when the settings
 * are unusable: nothing is retried until the app restarts with new settings, as for any app setting change.
 */
export function getRuntime(): AppRuntime {
  if (!slot) {
    try {
      slot = { ok: true, runtime: createRuntime(getSettings()) };
    } catch (e) {
      slot = { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
    }
  }
  if (!slot.ok) throw slot.error;
  return slot.runtime;
}

/** Replace the runtime (tests); `undefined` goes back to building it from process.env on next use. */
export function setRuntimeForTesting(runtime: AppRuntime | undefined): void {
  slot = runtime ? { ok: true, runtime } : undefined;
}

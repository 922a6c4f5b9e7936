/** What every emulated service receives: options, persistent state, tokens, the event bus and shared lookups. */
import { EventEmitter } from 'node:events';
import type { Route } from './router.js';
import type { StateStore } from './stateStore.js';
import type { TokenService } from './tokens.js';

export interface EmulatorTimings {
  /** How long a container group stays in each of Pending and Creating before the outcome (ms). */
  provisioningStepMs: number;
  /** Retry-After (seconds) on LRO responses; the SDK polls at this interval. 0 still polls (SDK minimum applies). */
  lroRetryAfterSeconds: number;
  /** Event Grid redelivery schedule (ms between attempts); Azure's is 10 s, 30 s, 1 min, 5 min, ... */
  eventGridRetryScheduleMs: number[];
  /** How long Event Grid waits for a webhook's answer before counting a timeout (Azure: 30 s). */
  eventGridDeliveryTimeoutMs: number;
}

export interface EmulatorOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 7443. */
  port: number;
  stateDir: string;
  /** Where the CA lives; shared across instances so one NODE_EXTRA_CA_CERTS trusts them all. */
  caDir: string;
  subscriptionId: string;
  tenantId: string;
  /** Secret the managed-identity endpoint expects in X-IDENTITY-HEADER. */
  identityHeader: string;
  /** Default page sizes of listings; `privateDns`: zones, links and record sets without `$top` (Azure: 100); `tags`: ACR's tag listing without `n`. */
  pageSize: {
    containerGroups: number;
    secrets: number;
    registries: number;
    privateDns: number;
    tags: number;
  };
  /** UDP and TCP port of the DNS server on 127.0.0.1 (the emulated Private DNS zones); 0 picks a free one. */
  dnsPort: number;
  timings: EmulatorTimings;
  quiet: boolean;
}

export const DEFAULT_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000001';
export const DEFAULT_TENANT_ID = '00000000-0000-0000-0000-0000000000aa';
/** Object id of the managed identity the emulator's MSI endpoint hands out when no client_id is asked for. */
export const DEFAULT_PRINCIPAL_ID = '11111111-1111-1111-1111-111111111111';

export type ImageBehavior =
  /** `failPulls`: the first N pull attempts of each container fail as unauthorized, then it pulls (ACI retries). */
  | { mode: 'healthy'; startDelaySeconds?: number; failPulls?: number }
  | { mode: 'unhealthy'; status?: number; startDelaySeconds?: number }
  | { mode: 'crash'; exitCode?: number }
  /**
   * Answers 200 for `afterSeconds` after its container starts, then `status` (default 503) to every request: a
   * release that passes the health gate and fails later (the verify path). The clock is the container's start,
   * so a restart or host move (a new start) makes it healthy again for `afterSeconds`.
   */
  | { mode: 'degrade'; afterSeconds: number; status?: number }
  | { mode: 'pullFailure'; reason?: 'notFound' | 'unauthorized' };

export type ImageResolution =
  | {
      kind: 'found';
      loginServer: string;
      repository: string;
      digest: string;
      tags: string[];
      behavior: ImageBehavior;
    }
  | { kind: 'notFound' | 'unauthorized' | 'networkRestricted'; message: string };

/** Implemented by the registry service; ACI asks it what pulling an image would do. */
export interface RegistryLookup {
  resolveImage(image: string, pull: { identity?: string; username?: string }): ImageResolution;
}

export interface RegistryEvent {
  registryName: string;
  registryResourceId: string;
  loginServer: string;
  location: string;
  eventType: 'Microsoft.ContainerRegistry.ImagePushed' | 'Microsoft.ContainerRegistry.ImageDeleted';
  subject: string;
  data: Record<string, unknown>;
}

export interface EmulatorEvents {
  registryEvent: [RegistryEvent];
}

export class EmulatorBus extends EventEmitter<EmulatorEvents> {}

export interface EmulatorContext {
  readonly options: EmulatorOptions;
  /** https://127.0.0.1:{port}, known once listening. */
  url: string;
  port: number;
  readonly state: StateStore;
  readonly tokens: TokenService;
  readonly bus: EmulatorBus;
  registryLookup?: RegistryLookup;
  log(message: string): void;
  /** `https://{name}.vault.localhost:{port}`, without the port when it is 443 (as Key Vault's ids). */
  vaultUrl(name: string): string;
}

export interface EmulatorService {
  name: string;
  routes: Route[];
  /** Called once listening (restore running containers, resume deliveries...). */
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
  /** Forget everything (after the state store was reset). */
  reset?(): Promise<void> | void;
  /** Extra keys for stack.json. */
  describe?(): Record<string, unknown>;
  /** The resource groups this service's resources live in (in ARM a resource implies its group exists). */
  resourceGroups?(): ResourceGroupUse[];
}

/** A resource group named by a service's resource, with that resource's location. */
export interface ResourceGroupUse {
  name: string;
  location: string;
}

export type ServiceFactory = (ctx: EmulatorContext) => EmulatorService;

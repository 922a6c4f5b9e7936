/**
 * Registry facts that do not change, cached for a short while: the login server. A push's duplicate check needs
 * no ARM call at all (it is decided from stored state), but a push that may start a rollout must check the
 * event's login server against the configured registry; without a cache every such delivery made one
 * `Registries_Get` (issue 16: 2,000 deliveries, 2,005 ARM reads), and a throttled read failed the delivery.
 *
 * Why a TTL and not forever: the login server is fixed when a registry is created (`{name}.azurecr.io`, or the
 * cloud's suffix: https://learn.microsoft.com/azure/container-registry/container-registry-get-started-portal),
 * but a registry can be deleted and created again elsewhere; five minutes bounds how long an old answer is used.
 * `get` (network settings, role mode: the preflight's facts, which people change to fix a refused rollout) and the
 * private endpoint read stay live. Failures are not cached; concurrent callers share one in-flight read.
 */
import type { Clock, Registries, RegistryInfo } from '../domain/ports.js';

export const LOGIN_SERVER_TTL_MS = 5 * 60_000;

export class CachedRegistries implements Registries {
  private readonly loginServers = new Map<string, { at: number; value: Promise<string> }>();

  constructor(
    private readonly inner: Registries,
    private readonly clock: Clock,
    private readonly ttlMs = LOGIN_SERVER_TTL_MS,
  ) {}

  get(resourceId: string): Promise<RegistryInfo> {
    return this.inner.get(resourceId);
  }

  privateEndpointSubnet(privateEndpointId: string): Promise<string | undefined> {
    return this.inner.privateEndpointSubnet(privateEndpointId);
  }

  loginServer(resourceId: string): Promise<string> {
    const key = resourceId.toLowerCase();
    const now = this.clock.now();
    const hit = this.loginServers.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = this.inner.loginServer(resourceId);
    this.loginServers.set(key, { at: now, value });
    value.catch(() => {
      if (this.loginServers.get(key)?.value === value) this.loginServers.delete(key);
    });
    return value;
  }
}

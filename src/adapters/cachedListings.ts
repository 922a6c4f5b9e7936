/**
 * Short-lived caches of the live listings the status API reads (container groups per resource group, secret
 * properties per vault, A records per Private DNS zone), so a dashboard refreshing every second does not turn into ARM and Key Vault
 * traffic. Concurrent callers share one in-flight call; failures are not cached. Everything else delegates.
 */
import type { PrivateDnsZoneRef } from '../config/dnsConfig.js';
import type {
  ARecordSet,
  Clock,
  ContainerGroupView,
  ContainerGroups,
  DnsRecords,
  ListingObserver,
  SecretProperties,
  Secrets,
} from '../domain/ports.js';

class TtlCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = load();
    this.entries.set(key, { at: now, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }
}

export class CachedContainerGroups implements ContainerGroups {
  private readonly lists: TtlCache<ContainerGroupView[]>;

  constructor(
    private readonly inner: ContainerGroups,
    ttlMs: number,
    clock: Clock,
  ) {
    this.lists = new TtlCache(ttlMs, clock);
  }

  listByResourceGroup(resourceGroup: string): Promise<ContainerGroupView[]> {
    return this.lists.get(resourceGroup.toLowerCase(), () => this.inner.listByResourceGroup(resourceGroup));
  }
  get: ContainerGroups['get'] = (rg, name) => this.inner.get(rg, name);
  getDefinition: ContainerGroups['getDefinition'] = (rg, name) => this.inner.getDefinition(rg, name);
  beginCreate: ContainerGroups['beginCreate'] = (rg, spec) => this.inner.beginCreate(rg, spec);
  delete: ContainerGroups['delete'] = (rg, name) => this.inner.delete(rg, name);
  restart: ContainerGroups['restart'] = (rg, name) => this.inner.restart(rg, name);
}

export class CachedSecrets implements Secrets {
  private readonly lists: TtlCache<Map<string, SecretProperties>>;

  constructor(
    private readonly inner: Secrets,
    ttlMs: number,
    clock: Clock,
  ) {
    this.lists = new TtlCache(ttlMs, clock);
  }

  /** A caller served from the cache (or joining an in-flight call) met no throttling of its own. */
  listIpSecrets(vaultUrl: string, observer?: ListingObserver): Promise<Map<string, SecretProperties>> {
    return this.lists.get(vaultUrl.toLowerCase(), () => this.inner.listIpSecrets(vaultUrl, observer));
  }
  getValue: Secrets['getValue'] = (vaultUrl, name) => this.inner.getValue(vaultUrl, name);
  getSecret: Secrets['getSecret'] = (vaultUrl, name) => this.inner.getSecret(vaultUrl, name);
  getProperties: Secrets['getProperties'] = (vaultUrl, name) => this.inner.getProperties(vaultUrl, name);
  set: Secrets['set'] = (vaultUrl, name, value, tags) => this.inner.set(vaultUrl, name, value, tags);
}

export class CachedDnsRecords implements DnsRecords {
  private readonly lists: TtlCache<Map<string, ARecordSet>>;

  constructor(
    private readonly inner: DnsRecords,
    ttlMs: number,
    clock: Clock,
  ) {
    this.lists = new TtlCache(ttlMs, clock);
  }

  listARecordSets(zone: PrivateDnsZoneRef, observer?: ListingObserver): Promise<Map<string, ARecordSet>> {
    return this.lists.get(zone.id.toLowerCase(), () => this.inner.listARecordSets(zone, observer));
  }
  getARecordSet: DnsRecords['getARecordSet'] = (zone, name) => this.inner.getARecordSet(zone, name);
  putARecordSet: DnsRecords['putARecordSet'] = (zone, name, record, precondition) =>
    this.inner.putARecordSet(zone, name, record, precondition);
}

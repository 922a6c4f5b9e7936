/**
 * Which secret mirrors which group's IP: managed apps (secret = active group's IP) and watched groups (tag
 * `ip-secret=<name>` [+ `ip-secret-vault=<url>`] in the watched/app resource groups, plus `watch.groups`).
 * Shared by reconcile (to write) and status (to show inSync), so both agree.
 */
import { normaliseVaultUrl, type AppConfig, type AppsConfig } from '../config/appsConfig.js';
import {
  MANAGED_BY,
  SECRET_TAGS,
  WATCH_TAGS,
  type ActiveDeployment,
  type AppState,
  type ReconcileIssue,
} from './model.js';
import { mapLimit } from './concurrency.js';
import { errorMessage } from './errors.js';
import type { ContainerGroupView, SecretProperties } from './ports.js';

export type Listing<T> = { ok: true; value: T } | { ok: false; error: string };

/** Resource groups keyed by lower-case name. */
export type GroupListings = Map<string, Listing<ContainerGroupView[]>>;
/** Vault secret listings keyed by normalised vault URL, inner map keyed by lower-case secret name. */
export type SecretListings = Map<string, Listing<Map<string, SecretProperties>>>;

export interface SecretTarget {
  vaultUrl: string;
  secretName: string;
  kind: 'app' | 'watched';
  source: 'app' | 'tag' | 'config';
  app?: AppConfig;
  active?: ActiveDeployment;
  resourceGroup: string;
  groupName: string;
  /** undefined when the group was not in the (successful) listing. */
  group?: ContainerGroupView;
  /** false when the resource group could not be listed (nothing can be said about the group). */
  listed: boolean;
  desiredTags(ip: string): Record<string, string>;
}

export const rgKey = (rg: string) => rg.toLowerCase();
export const secretKey = (vaultUrl: string, name: string) => `${vaultUrl}|${name.toLowerCase()}`;

/** Every resource group reconcile lists: apps' ∪ watch.resourceGroups ∪ watch.groups'. */
export function resourceGroupsToList(config: AppsConfig): string[] {
  const out = new Map<string, string>();
  for (const rg of [
    ...config.apps.map((a) => a.resourceGroup),
    // An adopted group may live elsewhere; it is the app's active group until the first rollout.
    ...config.apps.flatMap((a) => (a.adoptGroup ? [a.adoptGroup.resourceGroup] : [])),
    ...config.watch.resourceGroups,
    ...config.watch.groups.map((g) => g.resourceGroup),
  ])
    if (!out.has(rgKey(rg))) out.set(rgKey(rg), rg);
  return [...out.values()];
}

/** Resource groups whose groups' `ip-secret` (and `ip-dns`) tags are honoured. */
export function tagScannedGroups(config: AppsConfig): Set<string> {
  return new Set([...config.apps.map((a) => a.resourceGroup), ...config.watch.resourceGroups].map(rgKey));
}

/** Vaults a tag may name: those in APPS_CONFIG (a tag must not steer writes to an arbitrary vault). */
export function allowedVaults(config: AppsConfig): Set<string> {
  return new Set([
    ...config.apps.map((a) => a.secret.vaultUrl),
    ...(config.watch.vaultUrl ? [config.watch.vaultUrl] : []),
    ...config.watch.groups.flatMap((g) => (g.vaultUrl ? [g.vaultUrl] : [])),
  ]);
}

/** A group as its resource group's listing shows it; `listed: false` when that listing failed. */
export function findListedGroup(
  listings: GroupListings,
  rg: string,
  name: string,
): { listed: boolean; group?: ContainerGroupView } {
  const l = listings.get(rgKey(rg));
  if (!l || !l.ok) return { listed: false };
  const group = l.value.find((g) => g.name === name);
  return group ? { listed: true, group } : { listed: true };
}

function watchedTags(rg: string, name: string) {
  return (ip: string) => ({
    [SECRET_TAGS.ip]: ip,
    [SECRET_TAGS.group]: name,
    [SECRET_TAGS.resourceGroup]: rg,
    [SECRET_TAGS.managedBy]: MANAGED_BY,
  });
}

/**
 * The secret a group tagged `ip-secret=<name>` (optionally `ip-secret-vault=<url>`) asks for, or why it cannot
 * have one; undefined for an untagged group. A tag may only name a vault that APPS_CONFIG names: a tag must not
 * steer writes to an arbitrary vault.
 */
function taggedTarget(
  g: ContainerGroupView,
  defaultVault: string | undefined,
  vaults: ReadonlySet<string>,
): SecretTarget | { problem: string } | undefined {
  const secretName = g.tags[WATCH_TAGS.secret];
  if (!secretName) return undefined;
  if (!/^[0-9a-zA-Z-]{1,127}$/.test(secretName))
    return { problem: `tag ${WATCH_TAGS.secret}="${secretName}" is not a valid secret name` };
  let vaultUrl = defaultVault;
  const tagVault = g.tags[WATCH_TAGS.vault];
  if (tagVault) {
    try {
      vaultUrl = normaliseVaultUrl(tagVault);
    } catch {
      return { problem: `tag ${WATCH_TAGS.vault}="${tagVault}" is not a URL` };
    }
    if (!vaults.has(vaultUrl))
      return {
        problem: `tag ${WATCH_TAGS.vault}=${vaultUrl} names a vault that is not in APPS_CONFIG; ignored`,
      };
  }
  if (!vaultUrl)
    return {
      problem: `tagged ${WATCH_TAGS.secret}=${secretName} but no vault: add tag ${WATCH_TAGS.vault} or set watch.vaultUrl`,
    };
  return {
    vaultUrl,
    secretName,
    kind: 'watched',
    source: 'tag',
    resourceGroup: g.resourceGroup,
    groupName: g.name,
    listed: true,
    group: g,
    desiredTags: watchedTags(g.resourceGroup, g.name),
  };
}

export function resolveSecretTargets(
  config: AppsConfig,
  states: ReadonlyMap<string, AppState>,
  listings: GroupListings,
): { targets: SecretTarget[]; problems: ReconcileIssue[] } {
  const problems: ReconcileIssue[] = [];
  const byKey = new Map<string, SecretTarget>();
  const conflicted = new Set<string>();
  const vaults = allowedVaults(config);

  for (const app of config.apps) {
    const active = states.get(app.name)?.active;
    if (!active) continue;
    const found = findListedGroup(listings, active.resourceGroup, active.group);
    byKey.set(secretKey(app.secret.vaultUrl, app.secret.name), {
      vaultUrl: app.secret.vaultUrl,
      secretName: app.secret.name,
      kind: 'app',
      source: 'app',
      app,
      active,
      resourceGroup: active.resourceGroup,
      groupName: active.group,
      ...found,
      desiredTags: (ip) => appSecretTags(app, active, ip),
    });
  }
  const appKeys = new Set(config.apps.map((a) => secretKey(a.secret.vaultUrl, a.secret.name)));

  const addWatched = (t: SecretTarget) => {
    const key = secretKey(t.vaultUrl, t.secretName);
    if (appKeys.has(key)) {
      problems.push({
        scope: 'watch',
        target: `${t.resourceGroup}/${t.groupName}`,
        message: `secret ${t.secretName} in ${t.vaultUrl} belongs to a managed app; not mirroring ${t.groupName} into it`,
      });
      return;
    }
    const existing = byKey.get(key);
    if (existing && !(existing.resourceGroup === t.resourceGroup && existing.groupName === t.groupName)) {
      conflicted.add(key);
      problems.push({
        scope: 'watch',
        target: `${t.resourceGroup}/${t.groupName}`,
        message: `secret ${t.secretName} in ${t.vaultUrl} is claimed by ${existing.resourceGroup}/${existing.groupName} and ${t.resourceGroup}/${t.groupName}; neither is written`,
      });
      return;
    }
    if (!existing) byKey.set(key, t);
  };

  // Config-listed groups first (they name their vault explicitly).
  for (const w of config.watch.groups) {
    const vaultUrl = w.vaultUrl ?? config.watch.vaultUrl;
    if (!vaultUrl) continue; // refused by config validation
    addWatched({
      vaultUrl,
      secretName: w.secretName,
      kind: 'watched',
      source: 'config',
      resourceGroup: w.resourceGroup,
      groupName: w.name,
      ...findListedGroup(listings, w.resourceGroup, w.name),
      desiredTags: watchedTags(w.resourceGroup, w.name),
    });
  }

  const scanned = tagScannedGroups(config);
  for (const [rg, listing] of listings) {
    if (!scanned.has(rg) || !listing.ok) continue;
    for (const g of listing.value) {
      const t = taggedTarget(g, config.watch.vaultUrl, vaults);
      if (!t) continue;
      if ('problem' in t)
        problems.push({ scope: 'watch', target: `${g.resourceGroup}/${g.name}`, message: t.problem });
      else addWatched(t);
    }
  }
  for (const key of conflicted) byKey.delete(key);
  return { targets: [...byKey.values()], problems };
}

/** Does the secret already hold what we would write? (Compares our tags only; `ip` mirrors the value.) */
export function secretInSync(props: SecretProperties | undefined, desired: Record<string, string>): boolean {
  if (!props) return false;
  return Object.entries(desired).every(([k, v]) => props.tags[k] === v);
}

/**
 * The IP a group's pointer (secret, DNS record) should hold, or why it is left as it is: never blank a pointer
 * because a group is missing, stopped or has no IP. `leftAlone` names the pointer in the problem.
 */
export function groupIp(
  where: string,
  group: ContainerGroupView | undefined,
  leftAlone: string,
): { ip: string } | { problem: string } {
  if (!group) return { problem: `${where} not found; ${leftAlone}` };
  if (group.provisioningState === 'Deleting') return { problem: `${where} is being deleted; ${leftAlone}` };
  if (group.state !== undefined && group.state !== 'Running')
    return { problem: `${where} is ${group.state}, not Running; ${leftAlone}` };
  if (!group.ip) return { problem: `${where} has no IP; ${leftAlone}` };
  return { ip: group.ip };
}

/** The IP we would write, or why we would not (never blank a secret). */
export function usableIp(t: SecretTarget): { ip: string } | { problem: string } {
  return groupIp(`${t.resourceGroup}/${t.groupName}`, t.group, `secret ${t.secretName} left unchanged`);
}

export function vaultsOf(targets: ReadonlyArray<SecretTarget>): string[] {
  return [...new Set(targets.map((t) => t.vaultUrl))];
}

export function secretProps(secrets: SecretListings, t: SecretTarget): Listing<SecretProperties | undefined> {
  const l = secrets.get(t.vaultUrl);
  if (!l) return { ok: false, error: 'vault not listed' };
  if (!l.ok) return l;
  return { ok: true, value: l.value.get(t.secretName.toLowerCase()) };
}

/** Index a vault listing by lower-case name (Key Vault names are case-insensitive). */
export function indexSecrets(m: Map<string, SecretProperties>): Map<string, SecretProperties> {
  return new Map([...m].map(([name, p]) => [name.toLowerCase(), p]));
}

/**
 * Listings (and the secret reads a stale tick makes) run at most this many at a time. A resource group's pages
 * come one after another (each needs the previous nextLink), so a tick's wall time is about
 * ⌈resource groups ÷ this⌉ × pages per resource group × ARM latency: 16 lists the benchmark's 10 resource groups
 * in one round (at 8, 20,000 groups took two rounds, ~4 s of latency alone: docs/benchmarks.md).
 * More at once does not spend more of ARM's read limit, which counts requests, not their overlap: a token bucket
 * of 250 per subscription and principal, refilled at 25 a second
 * (learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling). A tick's list
 * pages (≈ groups ÷ 100) fit in the bucket at any concurrency; 16 bounds the sockets and the burst that the
 * status API shares.
 */
export const READ_CONCURRENCY = 16;

/** One read per key (at most READ_CONCURRENCY at a time); a failure becomes that key's listing error. */
export async function readEach<T, V>(
  keys: readonly string[],
  keyOf: (k: string) => string,
  read: (k: string) => Promise<T>,
  shape: (value: T) => V,
  onError: (k: string, e: unknown) => void,
): Promise<Map<string, Listing<V>>> {
  const out = new Map<string, Listing<V>>();
  const results = await mapLimit(keys, READ_CONCURRENCY, read);
  results.forEach((r, i) => {
    const k = keys[i]!;
    if (r.ok) out.set(keyOf(k), { ok: true, value: shape(r.value) });
    else {
      out.set(keyOf(k), { ok: false, error: errorMessage(r.error) });
      onError(k, r.error);
    }
  });
  return out;
}

/**
 * One (paged) list per resource group, for reconcile and status alike; a failed list becomes that resource
 * group's listing error (targets in it are "not listed") and is reported through `onError`.
 */
export function readGroupListings(
  resourceGroups: readonly string[],
  list: (resourceGroup: string) => Promise<ContainerGroupView[]>,
  onError: (resourceGroup: string, e: unknown) => void,
): Promise<GroupListings> {
  return readEach(resourceGroups, rgKey, list, (v) => v, onError);
}

/** One listing of secret properties per vault (indexed by lower-case name); a failure is that vault's error. */
export function readSecretListings(
  vaults: readonly string[],
  list: (vaultUrl: string) => Promise<Map<string, SecretProperties>>,
  onError: (vaultUrl: string, e: unknown) => void,
): Promise<SecretListings> {
  return readEach(vaults, (v) => v, list, indexSecrets, onError);
}

/** Tags of an app's IP secret. Reconcile compares them too, so switch and reconcile agree. */
export function appSecretTags(app: AppConfig, active: ActiveDeployment, ip: string): Record<string, string> {
  return {
    [SECRET_TAGS.ip]: ip,
    [SECRET_TAGS.app]: app.name,
    [SECRET_TAGS.colour]: active.colour,
    [SECRET_TAGS.group]: active.group,
    [SECRET_TAGS.resourceGroup]: active.resourceGroup,
    ...(active.digest ? { [SECRET_TAGS.digest]: active.digest } : {}),
    [SECRET_TAGS.managedBy]: MANAGED_BY,
  };
}

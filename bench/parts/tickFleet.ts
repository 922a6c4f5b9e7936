/**
 * The fleet the tick benchmark reconciles: N running container groups round-robin over 10 resource groups, each
 * in a VNet subnet and tagged `ip-secret=svc-{k}-ip`, their secrets split over two vaults (odd k in the watched
 * vault, even k tagged `ip-secret-vault=<the second>`). A tag may only name a vault APPS_CONFIG names, so one
 * configured watched group (`anchor`, untagged) names the second vault, as a user's config would.
 */
import { mapLimit } from '../../src/domain/concurrency.js';
import type { Control } from '../lib/emulatorControl.js';

export interface Fleet {
  subscriptionId: string;
  resourceGroups: string[];
  vaults: [string, string];
  /** Groups per emulated /24 subnet (Azure's /24 holds 251). */
  perSubnet: number;
}

export function fleetOf(subscriptionId: string, keyVaultUrlTemplate: string): Fleet {
  return {
    subscriptionId,
    resourceGroups: Array.from({ length: 10 }, (_, i) => `rg-bench-${i + 1}`),
    vaults: [
      keyVaultUrlTemplate.replace('{vault}', 'kv-bench-1'),
      keyVaultUrlTemplate.replace('{vault}', 'kv-bench-2'),
    ],
    perSubnet: 240,
  };
}

/** APPS_CONFIG: no apps, the 10 resource groups watched, the first vault by default, the anchor naming the second. */
export function fleetAppsConfig(fleet: Fleet): unknown {
  return {
    apps: [],
    watch: {
      resourceGroups: fleet.resourceGroups,
      vaultUrl: fleet.vaults[0],
      groups: [
        {
          resourceGroup: fleet.resourceGroups[0],
          name: 'anchor',
          secretName: 'anchor-ip',
          vaultUrl: fleet.vaults[1],
        },
      ],
    },
  };
}

/** Group k (1-based) → its resource group, name, tags and subnet. */
export function groupAt(fleet: Fleet, k: number) {
  const subnet = `bench-${Math.floor((k - 1) / fleet.perSubnet)}`;
  return {
    resourceGroup: fleet.resourceGroups[(k - 1) % fleet.resourceGroups.length]!,
    name: `svc-${k}`,
    tags: { 'ip-secret': `svc-${k}-ip`, ...(k % 2 === 0 ? { 'ip-secret-vault': fleet.vaults[1] } : {}) },
    subnetId: `/subscriptions/${fleet.subscriptionId}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-bench/subnets/${subnet}`,
  };
}

async function seedOne(
  control: Control,
  body: {
    resourceGroup: string;
    namePrefix: string;
    startIndex: number;
    subnetId: string;
    tags?: Record<string, string>;
  },
): Promise<void> {
  // listen: false — the groups get IPs but open no sockets (nothing calls them here).
  const res = await control.call('POST', '/_emulator/containerGroups/seed', {
    ...body,
    count: 1,
    listen: false,
  });
  if (res.status !== 201)
    throw new Error(`seed ${body.resourceGroup}/${body.namePrefix}-${body.startIndex}: ${res.status}`);
}

/** Seeds groups `from..to` (one control call each: each carries its own tags); the vaults and the anchor first. */
export async function seedFleet(control: Control, fleet: Fleet, from: number, to: number): Promise<void> {
  if (from === 1) {
    for (const name of ['kv-bench-1', 'kv-bench-2']) {
      const res = await control.call('POST', '/_emulator/vaults', { name });
      if (res.status !== 201) throw new Error(`vault ${name}: ${res.status}`);
    }
    await seedOne(control, {
      resourceGroup: fleet.resourceGroups[0]!,
      namePrefix: 'anchor',
      startIndex: 0,
      subnetId: groupAt(fleet, 1).subnetId.replace(/bench-\d+$/, 'bench-anchor'),
    });
  }
  const ks = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  const results = await mapLimit(ks, 8, async (k) => {
    const g = groupAt(fleet, k);
    await seedOne(control, {
      resourceGroup: g.resourceGroup,
      namePrefix: 'svc',
      startIndex: k,
      subnetId: g.subnetId,
      tags: g.tags,
    });
  });
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) throw failed.error;
}

/**
 * Moves `share` of the first `size` groups to a new IP (the emulator's platform maintenance), as Azure does after
 * a host move: the next tick finds those secrets stale. Picks are spread evenly (every 1/share-th group).
 */
export async function moveGroups(
  control: Control,
  fleet: Fleet,
  size: number,
  share: number,
  round: number,
): Promise<number> {
  const step = Math.max(1, Math.round(1 / share));
  const ks = Array.from({ length: Math.floor(size / step) }, (_, i) => 1 + ((i * step + round) % size));
  const results = await mapLimit(ks, 8, async (k) => {
    const g = groupAt(fleet, k);
    const res = await control.call('POST', '/_emulator/maintenance', {
      resourceGroup: g.resourceGroup,
      name: g.name,
    });
    if (res.status !== 200) throw new Error(`maintenance ${g.name}: ${res.status}`);
  });
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) throw failed.error;
  return ks.length;
}

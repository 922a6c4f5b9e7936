/**
 * Issue 5 acceptance: Key Vault throttles every second call with a 429 that has no Retry-After (the SDK does not
 * retry those). The reconcile ticks (timer every 2 s) still bring every secret to its group's new IP, and the
 * status API's `lastReconcile` reports the throttling.
 *
 * The vault holds more secrets than one listing page (as a real vault does: other apps' secrets), so the tick's
 * listing of secret properties takes several pages, any of which can be throttled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/domain/concurrency.js';
import { startHarness, waitFor, type Harness, type LastReconcile } from './reconcileHarness.js';

const GROUPS = Array.from({ length: 6 }, (_, i) => `worker-${i + 1}`);
/** Key Vault's page of listPropertiesOfSecrets (the emulator's default, as Azure). */
const SECRET_PAGE_SIZE = 25;
const OTHER_SECRETS = 2 * SECRET_PAGE_SIZE;
const secretOf = (group: string) => `${group}-ip`;

interface VaultListing {
  value: Array<{ name: string; value?: string; versions: number; tags: Record<string, string> }>;
}

describe('reconcile under Key Vault throttling (429 without Retry-After on half of the calls)', () => {
  let h: Harness;

  /** Secret values as the vault holds them (control API: not subject to the injected faults). */
  const vaultValues = async () => {
    const res = await h.stack.emulator.control<VaultListing>(
      'GET',
      '/_emulator/vaults/kv-apps/secrets?values=true',
    );
    return new Map(res.body.value.map((s) => [s.name, s]));
  };
  const groupIps = async () =>
    new Map(
      await Promise.all(GROUPS.map(async (g) => [g, (await h.emulatorGroup('rg-apps', g))?.ip] as const)),
    );
  const inSync = async () => {
    const [values, ips] = await Promise.all([vaultValues(), groupIps()]);
    return GROUPS.every((g) => ips.get(g) && values.get(secretOf(g))?.value === ips.get(g));
  };

  beforeAll(async () => {
    h = await startHarness({ emulator: { pageSize: { secrets: SECRET_PAGE_SIZE } } });
    await mapLimit(
      Array.from({ length: OTHER_SECRETS }, (_, i) => `other-app-secret-${i}`),
      4,
      async (name) => h.vault.setSecret(name, 'not an IP'),
    );
    const seeded = await mapLimit(GROUPS, 3, async (name) => {
      const res = await h.stack.emulator.control('POST', '/_emulator/containerGroups/seed', {
        resourceGroup: 'rg-apps',
        count: 1,
        namePrefix: 'worker',
        startIndex: Number(name.split('-')[1]),
        subnetId: h.subnetId,
        tags: { 'ip-secret': secretOf(name) },
      });
      if (res.status !== 201) throw new Error(`seed ${name}: ${res.status}`);
    });
    expect(seeded.every((r) => r.ok)).toBe(true);
    await waitFor('the tagged groups to be mirrored', inSync, { timeoutMs: 30_000 });
    expect((await vaultValues()).size).toBeGreaterThan(2 * SECRET_PAGE_SIZE);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('converges and reports the throttling', async () => {
    const fault = await h.stack.emulator.control<{ id: string }>('POST', '/_emulator/faults', {
      kind: 'throttle',
      match: { service: 'keyvault' },
      share: 0.5,
    });
    expect(fault.status).toBe(201);
    const since = (await h.stack.emulator.requestCounts()).lastSeq;
    try {
      const moved = new Map<string, string>();
      for (const g of GROUPS.slice(0, 3)) moved.set(g, (await h.maintenance('rg-apps', g)).newIp);
      const movedAt = Date.now();

      const ticks = new Map<string, LastReconcile>();
      let latest: LastReconcile | undefined;
      await waitFor(
        'the ticks to mirror the new IPs despite throttling',
        async () => {
          const lr = (await h.status()).lastReconcile;
          if (lr && Date.parse(lr.at) > movedAt) ticks.set(lr.at, (latest = lr));
          return inSync();
        },
        { timeoutMs: 60_000, intervalMs: 150 },
      ).catch((e: Error) => {
        throw new Error(`${e.message}; the last tick reported errors ${JSON.stringify(latest?.errors)}`);
      });
      // Let the tick that wrote the last secret be recorded, so status can show it.
      await h.tickAfter(Date.now()).then((lr) => ticks.set(lr.at, lr));

      // Every secret holds its group's current IP (read through the SDK, retrying 429s like any caller).
      for (const g of GROUPS) {
        const ip = (await h.emulatorGroup('rg-apps', g))!.ip!;
        if (moved.has(g)) expect(ip).toBe(moved.get(g));
        expect((await h.readSecret(secretOf(g)))?.value).toBe(ip);
      }
      // The throttling really happened, to the app's calls too, and status reported it.
      const log = await h.stack.emulator.requestCounts(since);
      const statuses = (log as unknown as { statuses: Record<string, number> }).statuses;
      const throttledCalls = Object.entries(statuses)
        .filter(([k]) => k.endsWith(' 429'))
        .reduce((n, [, c]) => n + c, 0);
      expect(throttledCalls).toBeGreaterThan(0);
      expect(statuses['SetSecret 200']).toBeGreaterThanOrEqual(3);
      const reported = [...ticks.values()];
      expect(reported.length).toBeGreaterThan(0);
      expect(reported.some((lr) => lr.throttled > 0)).toBe(true);
      // Never blanked: no version of any secret is empty.
      const values = await vaultValues();
      for (const g of GROUPS) expect(values.get(secretOf(g))?.value).toMatch(/^127\./);
    } finally {
      await h.stack.emulator.control('DELETE', `/_emulator/faults/${fault.body.id}`);
    }
  });
});

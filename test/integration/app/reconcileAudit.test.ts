/**
 * Issue 15 acceptance on the local stack (the built app in the functions host, the emulator, Azurite): between
 * audits a tick makes no Key Vault call when nothing moved, and one read and one write for a group Azure moved; a
 * secret edited by hand (its group did not move) is repaired by the first tick after `reconcile.secretAuditSeconds`
 * (here 20 s), which lists the vault again. Every call is counted in the emulator's request log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../../src/domain/concurrency.js';
import type { ReconcileResult } from '../../../src/domain/model.js';
import { sleep } from '../../support/waiting.js';
import { NEVER_SCHEDULE } from '../support/stack.js';
import { startHarness, type Harness } from './reconcileHarness.js';

const AUDIT_SECONDS = 20;
const GROUPS = Array.from({ length: 4 }, (_, i) => `audited-${i + 1}`);
const secretOf = (group: string) => `${group}-ip`;

/** Key Vault calls in a request-log summary, by operation. */
function keyVaultCalls(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).filter(([op]) => /Secret/.test(op) && !op.startsWith('Emulator_')),
  );
}

describe('reconcile between audits: the secret mirror, and the audit that repairs a hand edit', () => {
  let h: Harness;
  /** One tick on demand, with the Key Vault calls it made. */
  const measuredTick = async (): Promise<{ result: ReconcileResult; kv: Record<string, number> }> => {
    const since = (await h.stack.emulator.requestCounts()).lastSeq;
    const result = await h.tickNow();
    const { counts } = await h.stack.emulator.requestCounts(since);
    return { result, kv: keyVaultCalls(counts) };
  };

  beforeAll(async () => {
    h = await startHarness({
      schedule: NEVER_SCHEDULE,
      configure: (c) => (c.reconcile = { ...c.reconcile, secretAuditSeconds: AUDIT_SECONDS }),
    });
    const seeded = await mapLimit(GROUPS, 2, async (name) => {
      const res = await h.stack.emulator.control('POST', '/_emulator/containerGroups/seed', {
        resourceGroup: 'rg-apps',
        count: 1,
        namePrefix: 'audited',
        startIndex: Number(name.split('-')[1]),
        subnetId: h.subnetId,
        tags: { 'ip-secret': secretOf(name) },
      });
      if (res.status !== 201) throw new Error(`seed ${name}: ${res.status}`);
    });
    expect(seeded.every((r) => r.ok)).toBe(true);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('lists once, then trusts what it wrote; a moved group costs one read and one write; a hand edit waits for the audit', async () => {
    // The host's first tick: the vault is listed, and every new secret written.
    const first = await measuredTick();
    expect(first.result.errors).toEqual([]);
    expect(first.result.counts.vaultsListed).toBe(1);
    expect(first.kv['GetSecrets']).toBeGreaterThan(0);
    const auditedAt = Date.now();
    for (const g of GROUPS)
      expect((await h.readSecret(secretOf(g)))?.value).toBe((await h.emulatorGroup('rg-apps', g))?.ip);

    // Nothing moved: no Key Vault call at all.
    const quiet = await measuredTick();
    expect(quiet.result.counts).toMatchObject({ vaultsListed: 0, secretReads: 0, writes: 0 });
    expect(quiet.kv).toEqual({});

    // Azure moved one group: one fresh read of its secret, one write, no listing.
    const { newIp } = await h.maintenance('rg-apps', 'audited-2');
    const moved = await measuredTick();
    expect(moved.result.counts).toMatchObject({ vaultsListed: 0, secretReads: 1, writes: 1 });
    expect(moved.kv).toEqual({ GetSecret: 1, SetSecret: 1 });
    expect((await h.readSecret(secretOf('audited-2')))?.value).toBe(newIp);

    // A hand edit of a group that did not move: the remembered view hides it until the audit...
    const tags = (await h.readSecret(secretOf('audited-3')))!.tags;
    await h.vault.setSecret(secretOf('audited-3'), '10.99.99.99', { tags: { ...tags, ip: '10.99.99.99' } });
    const hidden = await measuredTick();
    expect(hidden.kv).toEqual({});
    expect((await h.readSecret(secretOf('audited-3')))?.value).toBe('10.99.99.99');

    // ...and the first tick after the audit period lists the vault and repairs it.
    const due = auditedAt + AUDIT_SECONDS * 1000 - Date.now();
    if (due > 0) await sleep(due + 500);
    const audit = await measuredTick();
    expect(audit.result.counts.vaultsListed).toBe(1);
    expect(audit.kv['GetSecrets']).toBeGreaterThan(0);
    expect(audit.result.changed.map((c) => c.target)).toEqual([
      expect.stringMatching(/\/secrets\/audited-3-ip$/),
    ]);
    expect((await h.readSecret(secretOf('audited-3')))?.value).toBe(
      (await h.emulatorGroup('rg-apps', 'audited-3'))?.ip,
    );
  });
});

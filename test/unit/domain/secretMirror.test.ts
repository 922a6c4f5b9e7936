/**
 * The secret mirror (issue 15) through reconcile with fakes: between audits a tick lists no vault and reads only
 * the secrets whose group disagrees with what it remembers; a remembered view never causes a write by itself; a
 * hand edit is repaired by the first audit after `reconcile.secretAuditSeconds`, and a process without a mirror
 * (a cold start) lists everything.
 */
import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../src/domain/errors.js';
import type { ReconcileResult } from '../../../src/domain/model.js';
import { reconcile } from '../../../src/domain/reconcile.js';
import { SecretMirror } from '../../../src/domain/secretMirror.js';
import { IDENTITY_ID, VAULT, budget, makeConfig, makeWorld, webApp, type World } from '../support/fakes.js';

const AUDIT_SECONDS = 900;

function world(auditSeconds = AUDIT_SECONDS, apps: Array<Record<string, unknown>> = []): World {
  const w = makeWorld(
    makeConfig(apps, {
      watch: { resourceGroups: ['rg-shared'], vaultUrl: VAULT },
      reconcile: { secretAuditSeconds: auditSeconds },
    }),
  );
  w.deps.secretMirror = new SecretMirror();
  for (let i = 1; i <= 30; i++)
    w.groups.seed('rg-shared', `svc-${i}`, { tags: { 'ip-secret': `svc-${i}-ip` } });
  return w;
}

const tick = (w: World): Promise<ReconcileResult> => reconcile({ ...w.deps }, budget(w, 60));
const ipOf = (w: World, n: number) => w.groups.peek('rg-shared', `svc-${n}`)!.ip!;

function resetCalls(w: World): void {
  w.secrets.calls = { list: 0, get: 0, set: 0 };
}

/** First tick (lists the vault, writes all 30), then one minute later. */
async function synced(w: World): Promise<void> {
  const first = await tick(w);
  expect(first.counts).toMatchObject({ writes: 30, vaultsListed: 1 });
  resetCalls(w);
  w.clock.advance(60_000);
}

describe('secret mirror: a steady tick lists no vault', () => {
  it('nothing stale: no Key Vault call at all until the audit is due, then one listing', async () => {
    const w = world();
    await synced(w);
    for (let minute = 1; minute < AUDIT_SECONDS / 60; minute++) {
      const r = await tick(w);
      expect(r.changed).toEqual([]);
      expect(r.counts).toMatchObject({ vaults: 1, vaultsListed: 0, secretReads: 0, writes: 0 });
      w.clock.advance(60_000);
    }
    expect(w.secrets.calls).toEqual({ list: 0, get: 0, set: 0 });
    const audit = await tick(w);
    expect(audit.counts).toMatchObject({ vaultsListed: 1, secretReads: 0, writes: 0 });
    expect(w.secrets.calls).toEqual({ list: 1, get: 0, set: 0 });
  });

  it('a group Azure moved: that one secret is read afresh and written, nothing else', async () => {
    const w = world();
    await synced(w);
    const newIp = w.groups.maintenance('rg-shared', 'svc-7');
    const r = await tick(w);
    expect(w.secrets.value(VAULT, 'svc-7-ip')).toBe(newIp);
    expect(r.changed.map((c) => c.target)).toEqual([`${VAULT}/secrets/svc-7-ip`]);
    expect(r.counts).toMatchObject({ vaultsListed: 0, secretReads: 1, writes: 1 });
    expect(w.secrets.calls).toEqual({ list: 0, get: 1, set: 1 });

    // What it wrote is remembered: the next tick is quiet again.
    resetCalls(w);
    await tick(w);
    expect(w.secrets.calls).toEqual({ list: 0, get: 0, set: 0 });
  });

  it('a secret someone else already wrote (a rollout switching) is confirmed and not written again', async () => {
    const w = world();
    await synced(w);
    const newIp = w.groups.maintenance('rg-shared', 'svc-3');
    const tags = { ...w.secrets.secret(VAULT, 'svc-3-ip')!.tags, ip: newIp };
    await w.secrets.set(VAULT, 'svc-3-ip', newIp, tags);
    resetCalls(w);
    const r = await tick(w);
    expect(r.changed).toEqual([]);
    expect(w.secrets.calls).toEqual({ list: 0, get: 1, set: 0 });
    expect(w.secrets.secret(VAULT, 'svc-3-ip')!.versions).toBe(2);
  });

  it('a new group between audits: its missing secret is read (404), then created', async () => {
    const w = world();
    await synced(w);
    w.groups.seed('rg-shared', 'svc-new', { tags: { 'ip-secret': 'svc-new-ip' } });
    const r = await tick(w);
    expect(w.secrets.value(VAULT, 'svc-new-ip')).toBe(w.groups.peek('rg-shared', 'svc-new')!.ip);
    expect(r.counts).toMatchObject({ vaultsListed: 0, secretReads: 1, writes: 1 });
  });

  it('a failed fresh read writes nothing and is reported; the next tick does it', async () => {
    const w = world();
    await synced(w);
    const newIp = w.groups.maintenance('rg-shared', 'svc-9');
    const before = w.secrets.value(VAULT, 'svc-9-ip');
    w.secrets.fault = (op) =>
      op === 'get' ? new TransientError('Key Vault get: 503', { statusCode: 503 }) : undefined;
    const r = await tick(w);
    expect(w.secrets.value(VAULT, 'svc-9-ip')).toBe(before);
    expect(w.secrets.calls.set).toBe(0);
    expect(r.errors).toEqual([
      expect.objectContaining({ scope: 'secret', target: `${VAULT}/secrets/svc-9-ip`, retryable: true }),
    ]);
    w.secrets.fault = undefined;
    await tick(w);
    expect(w.secrets.value(VAULT, 'svc-9-ip')).toBe(newIp);
  });
});

describe('secret mirror: what only the audit repairs', () => {
  it('a hand-edited secret whose group did not move is repaired by the first tick after the audit period', async () => {
    const w = world();
    await synced(w);
    const tags = w.secrets.secret(VAULT, 'svc-5-ip')!.tags;
    await w.secrets.set(VAULT, 'svc-5-ip', '10.9.9.9', { ...tags, ip: '10.9.9.9' });
    const repairedAt: number[] = [];
    for (let minute = 1; minute <= AUDIT_SECONDS / 60; minute++) {
      await tick(w);
      if (w.secrets.value(VAULT, 'svc-5-ip') === ipOf(w, 5)) {
        repairedAt.push(minute);
        break;
      }
      w.clock.advance(60_000);
    }
    // Synced at t=0; the audit is due at t ≥ 900 s, which is the 15th tick after the first.
    expect(repairedAt).toEqual([AUDIT_SECONDS / 60]);
  });

  it('a deleted secret is recreated by the audit', async () => {
    const w = world();
    await synced(w);
    w.secrets.vaults.get(VAULT)!.delete('svc-2-ip');
    await tick(w);
    expect(w.secrets.value(VAULT, 'svc-2-ip')).toBeUndefined();
    w.clock.advance(AUDIT_SECONDS * 1000);
    await tick(w);
    expect(w.secrets.value(VAULT, 'svc-2-ip')).toBe(ipOf(w, 2));
  });

  it('secretAuditSeconds 0 lists the vault every tick (and so repairs a hand edit at once)', async () => {
    const w = world(0);
    await synced(w);
    const tags = w.secrets.secret(VAULT, 'svc-5-ip')!.tags;
    await w.secrets.set(VAULT, 'svc-5-ip', '10.9.9.9', { ...tags, ip: '10.9.9.9' });
    resetCalls(w);
    await tick(w);
    expect(w.secrets.value(VAULT, 'svc-5-ip')).toBe(ipOf(w, 5));
    expect(w.secrets.calls).toEqual({ list: 1, get: 0, set: 1 });
  });

  it('a process without a mirror (cold start) lists every vault every tick', async () => {
    const w = world();
    await synced(w);
    delete w.deps.secretMirror;
    await tick(w);
    await tick(w);
    expect(w.secrets.calls.list).toBe(2);
  });

  it('a failed audit keeps nothing stale from being trusted: the vault is listed again next tick', async () => {
    const w = world();
    w.secrets.fault = (op) =>
      op === 'list' ? new TransientError('Key Vault list: 503', { statusCode: 503 }) : undefined;
    const r = await tick(w);
    expect(r.errors.map((e) => e.scope)).toContain('vault');
    w.secrets.fault = undefined;
    resetCalls(w);
    w.clock.advance(60_000);
    const r2 = await tick(w);
    expect(r2.counts).toMatchObject({ vaultsListed: 1, writes: 30 });
  });
});

describe('secret mirror: vaults watched for new versions', () => {
  it('a vault an app with rolloutOnSecretChange reads from is listed every tick', async () => {
    const w = world(AUDIT_SECONDS, [
      webApp({
        rolloutOnSecretChange: true,
        template: {
          osType: 'Linux',
          imagePullIdentity: IDENTITY_ID,
          containers: [
            {
              name: 'web',
              cpu: 0.5,
              memoryInGB: 1,
              ports: [8080],
              secureEnvFromKeyVault: { DB_PASSWORD: { vaultUrl: VAULT, secretName: 'web-db-password' } },
            },
          ],
        },
      }),
    ]);
    const r = await tick(w);
    expect(r.errors).toEqual([]);
    resetCalls(w);
    await tick(w);
    await tick(w);
    expect(w.secrets.calls.list).toBe(2);
  });
});

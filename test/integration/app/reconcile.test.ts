/**
 * Issue 5 acceptance on the local stack (emulator + Azurite + the functions host running the built app), with the
 * `reconcile` timer on RECONCILE_SCHEDULE=*\/2 * * * * *. Everything goes through public surfaces: the emulator's
 * control API (push, maintenance), the ACI and Key Vault SDKs, `GET /api/status` and real TCP calls on the groups'
 * private IPs.
 *
 *  - maintenance on the active group: the first tick after it mirrors the new IP; a caller that re-reads recovers
 *  - a group tagged `ip-secret=legacy-ip` gets its secret created and kept in sync
 *  - never blank a secret: a stopped group leaves its secret alone and is reported
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callIp,
  rolloutFinished,
  startHarness,
  type Harness,
  type LastReconcile,
} from './reconcileHarness.js';
import { waitFor } from '../../support/waiting.js';

const LEGACY = { resourceGroup: 'rg-apps', name: 'legacy-api', secret: 'legacy-ip' };

function secretChange(lr: LastReconcile, secret: string) {
  return lr.changed.find((c) => c.kind === 'secret' && c.target.endsWith(`/secrets/${secret}`));
}

describe('reconcile timer: secrets follow IP changes', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    // A deployed app: the push reaches onImagePushed through Event Grid and the blue/green rollout completes.
    await h.push('1.0.0');
    const app = await rolloutFinished(h, 'web', '1.0.0');
    expect(app.rollout?.state).toBe('succeeded');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('maintenance on the active group: the first tick after it holds the new IP, and a caller that re-reads the secret recovers', async () => {
    const app = (await h.status()).apps.find((a) => a.name === 'web')!;
    expect(app.activeGroup).toBe('web-blue');
    const before = await h.readSecret('web-ip');
    expect(before?.value).toBe(app.ip);
    // A caller that resolved the secret once and cached it.
    const cachedIp = before!.value!;
    expect(await callIp(cachedIp)).toMatchObject({ ok: true, status: 200, body: { group: 'web-blue' } });

    const { oldIp, newIp } = await h.maintenance('rg-apps', 'web-blue');
    const movedAt = Date.now();
    expect(oldIp).toBe(cachedIp);
    expect(newIp).not.toBe(oldIp);
    // The cached IP is dead: the caller breaks until it re-reads the secret.
    expect(await callIp(cachedIp)).toMatchObject({ ok: false, error: 'ECONNREFUSED' });

    const tick = await h.tickAfter(movedAt);
    expect(tick.errors).toEqual([]);
    expect(secretChange(tick, 'web-ip')?.message).toContain(`${oldIp} → ${newIp}`);
    const after = await h.readSecret('web-ip');
    expect(after?.value).toBe(newIp);
    expect(after?.tags).toMatchObject({
      ip: newIp,
      app: 'web',
      group: 'web-blue',
      'managed-by': 'aci-bluegreen',
    });

    // The caller re-reads the secret and calls the new IP; the old one still refuses.
    const reread = (await h.readSecret('web-ip'))!.value!;
    expect(await callIp(reread)).toMatchObject({
      ok: true,
      status: 200,
      body: { group: 'web-blue', ip: newIp },
    });
    expect(await callIp(oldIp)).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    const web = (await h.status()).apps.find((a) => a.name === 'web')!;
    expect(web.ip).toBe(newIp);
    expect(web.secret).toMatchObject({ inSync: true, ip: newIp });
  });

  it('a group created with tag ip-secret=legacy-ip gets its secret created, then kept in sync after maintenance', async () => {
    expect(await h.readSecret(LEGACY.secret)).toBeUndefined();
    const created = await h.createGroup(LEGACY.resourceGroup, LEGACY.name, { 'ip-secret': LEGACY.secret });
    const createdAt = Date.now();
    const ip = created.ipAddress?.ip;
    expect(ip).toMatch(/^127\./);

    // The first tick that starts after the group exists creates the secret.
    const tick = await h.tickAfter(createdAt);
    expect(secretChange(tick, LEGACY.secret)?.message).toContain(`(new) → ${ip}`);
    const secret = await h.readSecret(LEGACY.secret);
    expect(secret?.value).toBe(ip);
    expect(secret?.tags).toMatchObject({
      ip,
      group: LEGACY.name,
      'resource-group': LEGACY.resourceGroup,
      'managed-by': 'aci-bluegreen',
    });
    expect(await callIp(secret!.value!)).toMatchObject({ ok: true, body: { group: LEGACY.name } });
    const watched = (await h.status()).watched.find((w) => w.name === LEGACY.name);
    expect(watched).toMatchObject({
      resourceGroup: LEGACY.resourceGroup,
      secret: LEGACY.secret,
      source: 'tag',
      ip,
      inSync: true,
    });

    // Nothing changed: later ticks leave the secret alone (no new version).
    await h.tickAfter(Date.now());
    expect((await h.readSecret(LEGACY.secret))?.version).toBe(secret?.version);

    const { oldIp, newIp } = await h.maintenance(LEGACY.resourceGroup, LEGACY.name);
    expect(oldIp).toBe(ip);
    const movedAt = Date.now();
    const next = await h.tickAfter(movedAt);
    expect(secretChange(next, LEGACY.secret)?.message).toContain(`${oldIp} → ${newIp}`);
    expect((await h.readSecret(LEGACY.secret))?.value).toBe(newIp);
    expect(await callIp(newIp)).toMatchObject({ ok: true, body: { group: LEGACY.name, ip: newIp } });
  });

  it('never blanks a secret: a stopped group leaves its secret alone and is reported, and a restart is mirrored', async () => {
    // Needs the tagged group of the previous test (created here if that test did not get that far).
    if (!(await h.emulatorGroup(LEGACY.resourceGroup, LEGACY.name)))
      await h.createGroup(LEGACY.resourceGroup, LEGACY.name, { 'ip-secret': LEGACY.secret });
    const synced = await waitFor('legacy-ip in sync', async () => {
      const g = await h.emulatorGroup(LEGACY.resourceGroup, LEGACY.name);
      const s = await h.readSecret(LEGACY.secret);
      return g?.ip && s?.value === g.ip ? s : undefined;
    });

    await h.aci.containerGroups.stop(LEGACY.resourceGroup, LEGACY.name);
    const stoppedAt = Date.now();
    const g = await h.aci.containerGroups.get(LEGACY.resourceGroup, LEGACY.name);
    expect(g.instanceView?.state).toBe('Stopped');

    // Two full ticks after the stop: neither writes the secret.
    const first = await h.tickAfter(stoppedAt);
    const second = await h.tickAfter(Date.parse(first.at));
    for (const tick of [first, second]) {
      expect(secretChange(tick, LEGACY.secret)).toBeUndefined();
      const warning = tick.warnings.find((w) => w.target === `${LEGACY.resourceGroup}/${LEGACY.name}`);
      expect(warning?.message).toContain(`secret ${LEGACY.secret} left unchanged`);
    }
    const kept = await h.readSecret(LEGACY.secret);
    expect(kept?.value).toBe(synced.value);
    expect(kept?.version).toBe(synced.version);
    const versions = [];
    for await (const v of h.vault.listPropertiesOfSecretVersions(LEGACY.secret)) versions.push(v);
    expect(versions.every((v) => v.tags?.['ip'])).toBe(true);

    const watched = (await h.status()).watched.find((w) => w.name === LEGACY.name);
    expect(watched?.inSync).toBe(false);
    expect(watched?.problem).toContain('left unchanged');

    // Started again (on a new IP): the next tick mirrors it.
    await h.aci.containerGroups.beginStartAndWait(LEGACY.resourceGroup, LEGACY.name, {
      updateIntervalInMs: 200,
    });
    const started = await h.aci.containerGroups.get(LEGACY.resourceGroup, LEGACY.name);
    const newIp = started.ipAddress?.ip;
    expect(newIp).toMatch(/^127\./);
    const tick = await h.tickAfter(Date.now());
    expect(secretChange(tick, LEGACY.secret)?.message).toContain(`→ ${newIp}`);
    expect((await h.readSecret(LEGACY.secret))?.value).toBe(newIp);
  });
});

/**
 * The `dashboard` HTTP binding with the real domain status builder over the in-memory fakes: the page shows
 * what `GET /api/status` would, with HTML headers, and never a secret value.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setRuntimeForTesting, type AppRuntime } from '../../../src/composition.js';
import { dashboard } from '../../../src/functions/dashboard.js';
import { digestOf, makeWorld, type World } from '../support/fakes.js';
import { deployInitial, push, settle } from '../support/scenario.js';

function useWorld(w: World): void {
  const runtime: AppRuntime = {
    settings: {
      rolloutEventBudgetSeconds: 20,
      operatorActionBudgetSeconds: 10,
      easyAuthEnabled: false,
      actionsRequireSignIn: false,
      reconcileBudgetSeconds: 240,
      reconcileRolloutSliceSeconds: 20,
      statusCacheSeconds: 0,
      reconcileSchedule: '0 * * * * *',
    },
    deps: (logger) => ({ ...w.deps, logger }),
    statusDeps: (logger) => ({ ...w.deps, logger }),
  };
  setRuntimeForTesting(runtime);
}

async function get(query = ''): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const request = new HttpRequest({ method: 'GET', url: `http://127.0.0.1:7071/api/dashboard${query}` });
  const res = await dashboard(request, new InvocationContext({ functionName: 'dashboard' }));
  return {
    status: res.status ?? 200,
    headers: Object.fromEntries(Object.entries((res.headers ?? {}) as Record<string, string>)),
    body: String(res.body),
  };
}

afterEach(() => {
  setRuntimeForTesting(undefined);
  vi.unstubAllEnvs();
});

describe('GET /api/dashboard', () => {
  it('renders the deployed app from the status document, as HTML with safe headers', async () => {
    const w = makeWorld();
    await deployInitial(w);
    useWorld(w);
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.body).toContain('<meta http-equiv="refresh" content="5">');
    expect(res.body).toMatch(/<tr data-testid="app-row" data-app="web">[\s\S]*?1\.0\.0[\s\S]*?<\/tr>/);
    expect(res.body).toContain(`data-digest="${digestOf(1)}"`);
    expect(res.body).toContain('Key Vault in sync');
    expect(res.body).toContain('data-outcome="succeeded" data-tag="1.0.0"');
    // makeWorld seeds this secure-environment secret; the page must never show it.
    expect(res.body).not.toContain('s3cr3t-db-password');
  });

  it('shows a rollout in progress, then its failure with the reason', async () => {
    const w = makeWorld();
    await deployInitial(w);
    w.groups.behaviourByDigest.set(digestOf(3), 'unhealthy');
    useWorld(w);
    await push(w, '1.2.0', 3, 1);
    const during = await get();
    expect(during.body).toContain('data-testid="rollout" data-state="inProgress"');
    expect(during.body).toContain('<strong data-testid="rollout-tag">1.2.0</strong>');
    await settle(w, { gapMs: 10_000 });
    const after = await get();
    expect(after.body).toContain('data-testid="rollout" data-state="failed"');
    expect(after.body).toContain('data-testid="rollout-reason">HealthCheckFailed</span>');
    expect(after.body).toContain('data-outcome="failed" data-tag="1.2.0"');
    // The old version keeps serving.
    expect(after.body).toMatch(/<td data-testid="app-tag">1\.0\.0<\/td>/);
  });

  it('takes ?refresh=N (0 turns the reload off; junk falls back to 5)', async () => {
    const w = makeWorld();
    useWorld(w);
    expect((await get('?refresh=0')).body).not.toContain('http-equiv="refresh"');
    expect((await get('?refresh=30')).body).toContain('<meta http-equiv="refresh" content="30">');
    expect((await get('?refresh=%3Cx%3E')).body).toContain('<meta http-equiv="refresh" content="5">');
    expect((await get('?refresh=999999')).body).toContain('<meta http-equiv="refresh" content="3600">');
  });

  it('shows read problems on the page instead of failing', async () => {
    const w = makeWorld();
    await deployInitial(w);
    w.store.list = () => Promise.reject(new Error('table <unavailable>'));
    useWorld(w);
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.body).toContain('data-testid="read-errors"');
    expect(res.body).toContain('rollout state: table &lt;unavailable&gt;');
  });

  it('answers 500 with an escaped page naming the bad setting when the app settings are unusable', async () => {
    vi.stubEnv('AZURE_SUBSCRIPTION_ID', '00000000-0000-0000-0000-000000000001');
    vi.stubEnv('APPS_CONFIG', '<not json>');
    setRuntimeForTesting(undefined);
    const res = await get();
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('APPS_CONFIG');
    expect(res.body).not.toContain('<not json>');
  });
});

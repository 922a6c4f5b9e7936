import { describe, expect, it } from 'vitest';
import {
  APP_SETTING_NAMES,
  SettingsError,
  loadSettings,
  scheduleIntervalSeconds,
} from '../../../src/config/settings.js';
import { webApp } from '../support/fakes.js';

const base = {
  AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001',
  APPS_CONFIG: JSON.stringify({ apps: [webApp()] }),
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

function error(env: Record<string, string>): SettingsError {
  try {
    loadSettings(env);
  } catch (e) {
    if (e instanceof SettingsError) return e;
    throw e;
  }
  throw new Error('expected a SettingsError');
}

describe('settings', () => {
  it('parses a minimal environment with defaults, frozen', () => {
    const s = loadSettings(base);
    expect(s).toMatchObject({
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      armEndpoint: 'https://management.azure.com',
      armScope: 'https://management.azure.com/.default',
      reconcileSchedule: '0 * * * * *',
      storage: { kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' },
      rolloutTableName: 'rollouts',
      rolloutEventBudgetSeconds: 20,
      reconcileBudgetSeconds: 240,
      reconcileRolloutSliceSeconds: 20,
      statusCacheSeconds: 5,
    });
    expect(s.apps.apps.map((a) => a.name)).toEqual(['web']);
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.apps.apps[0]!.health)).toBe(true);
    expect(s.azureClientId).toBeUndefined();
    expect(s.notifyTopicEndpoint).toBeUndefined();
  });

  it('supports identity-based storage', () => {
    const { AzureWebJobsStorage: _, ...rest } = base;
    expect(
      loadSettings({
        ...rest,
        AzureWebJobsStorage__tableServiceUri: 'https://st1.table.core.windows.net/',
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: 'abc',
      }).storage,
    ).toEqual({
      kind: 'identity',
      tableServiceUri: 'https://st1.table.core.windows.net',
      credential: 'managedidentity',
      clientId: 'abc',
    });
    expect(loadSettings({ ...rest, AzureWebJobsStorage__accountName: 'st1' }).storage).toEqual({
      kind: 'identity',
      tableServiceUri: 'https://st1.table.core.windows.net',
    });
    expect(error(rest).setting).toBe('AzureWebJobsStorage');
  });

  it.each([
    [{ AZURE_SUBSCRIPTION_ID: '' }, 'AZURE_SUBSCRIPTION_ID', 'is required'],
    [{ AZURE_SUBSCRIPTION_ID: 'sub-1' }, 'AZURE_SUBSCRIPTION_ID', 'is not a GUID'],
    [{ AZURE_CLIENT_ID: 'nope' }, 'AZURE_CLIENT_ID', 'is not a GUID'],
    [{ APPS_CONFIG: '' }, 'APPS_CONFIG', 'is required'],
    [{ APPS_CONFIG: '{"apps": 3}' }, 'APPS_CONFIG', 'apps: expected an array'],
    [{ ARM_ENDPOINT: 'http://127.0.0.1:8443' }, 'ARM_ENDPOINT', 'must be https'],
    [{ ARM_SCOPE: 'https://management.azure.com' }, 'ARM_SCOPE', '/.default'],
    [{ RECONCILE_SCHEDULE: '* * * * *' }, 'RECONCILE_SCHEDULE', '6-field NCRONTAB'],
    [{ ROLLOUT_EVENT_BUDGET_SECONDS: '45' }, 'ROLLOUT_EVENT_BUDGET_SECONDS', 'between 1 and 28'],
    [{ RECONCILE_BUDGET_SECONDS: 'soon' }, 'RECONCILE_BUDGET_SECONDS', 'must be a number'],
    [{ STATUS_CACHE_SECONDS: '-1' }, 'STATUS_CACHE_SECONDS', 'between 0 and 300'],
    [{ ROLLOUT_TABLE_NAME: 'roll-outs' }, 'ROLLOUT_TABLE_NAME', 'not a valid table name'],
    [{ NOTIFY_TOPIC_ENDPOINT: 'not a url' }, 'NOTIFY_TOPIC_ENDPOINT', 'is not a URL'],
  ])('%j fails naming %s', (override, setting, problem) => {
    const e = error({ ...base, ...override });
    expect(e.setting).toBe(setting);
    expect(e.message).toContain(`App setting ${setting}`);
    expect(e.message).toContain(problem);
  });

  it('accepts the local overrides', () => {
    const s = loadSettings({
      ...base,
      ARM_ENDPOINT: 'https://127.0.0.1:8443/',
      RECONCILE_SCHEDULE: '*/5 * * * * *',
      NOTIFY_TOPIC_ENDPOINT: 'https://topic.westeurope-1.eventgrid.azure.net/api/events',
    });
    expect(s.armEndpoint).toBe('https://127.0.0.1:8443');
    expect(s.reconcileSchedule).toBe('*/5 * * * * *');
    expect(s.notifyTopicEndpoint).toBe('https://topic.westeurope-1.eventgrid.azure.net/api/events');
  });

  it('bounds the reconcile rollout slice by half the schedule interval unless it is set', () => {
    const slice = (env: Record<string, string>) =>
      loadSettings({ ...base, ...env }).reconcileRolloutSliceSeconds;
    expect(slice({})).toBe(20);
    expect(slice({ RECONCILE_SCHEDULE: '*/5 * * * * *' })).toBe(2.5);
    expect(slice({ RECONCILE_SCHEDULE: '*/2 * * * * *' })).toBe(1);
    expect(slice({ RECONCILE_SCHEDULE: '* * * * * *' })).toBe(1);
    expect(slice({ RECONCILE_SCHEDULE: '0 */5 * * * *' })).toBe(20);
    expect(slice({ RECONCILE_BUDGET_SECONDS: '10' })).toBe(10);
    expect(slice({ RECONCILE_SCHEDULE: '*/2 * * * * *', RECONCILE_ROLLOUT_SLICE_SECONDS: '7' })).toBe(7);
    expect(() => slice({ RECONCILE_ROLLOUT_SLICE_SECONDS: '300' })).toThrow(
      /RECONCILE_ROLLOUT_SLICE_SECONDS: must be a number of seconds between 1 and 240/,
    );
    expect(scheduleIntervalSeconds('0 0 * * * *')).toBe(3_600);
  });

  it('keeps an invalid app entry out without failing the setting', () => {
    const s = loadSettings({
      ...base,
      APPS_CONFIG: JSON.stringify({
        apps: [webApp(), webApp({ name: 'api', repository: 'api', drainSeconds: 'long' })],
      }),
    });
    expect(s.apps.apps.map((a) => a.name)).toEqual(['web']);
    expect(s.apps.errors.map((e) => e.text)).toEqual(['apps[1] (api): drainSeconds: expected a number']);
  });

  it('lists every setting it reads, with the two required ones', () => {
    const names = APP_SETTING_NAMES.map((s) => s.name);
    for (const n of [
      'AZURE_SUBSCRIPTION_ID',
      'AZURE_CLIENT_ID',
      'ARM_ENDPOINT',
      'ARM_SCOPE',
      'APPS_CONFIG',
      'RECONCILE_SCHEDULE',
      'AzureWebJobsStorage',
      'AzureWebJobsStorage__tableServiceUri',
      'ROLLOUT_TABLE_NAME',
      'ROLLOUT_EVENT_BUDGET_SECONDS',
      'RECONCILE_BUDGET_SECONDS',
      'RECONCILE_ROLLOUT_SLICE_SECONDS',
      'STATUS_CACHE_SECONDS',
      'NOTIFY_TOPIC_ENDPOINT',
    ])
      expect(names).toContain(n);
    expect(APP_SETTING_NAMES.filter((s) => s.required).map((s) => s.name)).toEqual([
      'AZURE_SUBSCRIPTION_ID',
      'APPS_CONFIG',
    ]);
    expect(new Set(names).size).toBe(names.length);
    expect(APP_SETTING_NAMES.every((s) => s.description.length > 10)).toBe(true);
  });
});

/**
 * App settings: read from process.env once, parsed into a typed, frozen object. Anything wrong fails at start
 * with a SettingsError naming the setting. Everything else receives `Settings` as a parameter.
 */
import { Cron } from 'croner';
import { AppsConfigError, parseAppsConfig, type AppsConfig } from './appsConfig.js';

export interface AppSettingName {
  name: string;
  required: boolean;
  description: string;
}

/** The settings this app reads. The names are a contract with infra/ (Bicep) and the local host. */
export const APP_SETTING_NAMES: ReadonlyArray<AppSettingName> = Object.freeze([
  {
    name: 'AZURE_SUBSCRIPTION_ID',
    required: true,
    description: 'Subscription of the managed container groups.',
  },
  {
    name: 'AZURE_CLIENT_ID',
    required: false,
    description: 'Client id of the user-assigned managed identity DefaultAzureCredential should use.',
  },
  {
    name: 'ARM_ENDPOINT',
    required: false,
    description: 'Azure Resource Manager endpoint (default https://management.azure.com).',
  },
  {
    name: 'ARM_SCOPE',
    required: false,
    description: 'Token scope for ARM (default https://management.azure.com/.default).',
  },
  {
    name: 'ACR_ENDPOINT_TEMPLATE',
    required: false,
    description:
      "A registry's REST API (token exchange, manifests) by login server: {loginServer} and {registry} placeholders (default https://{loginServer}, Azure's; the local emulator's is https://{registry}.azurecr.localhost:{port}).",
  },
  {
    name: 'APPS_CONFIG',
    required: true,
    description: 'JSON: the apps to blue/green-deploy and the groups to watch.',
  },
  {
    name: 'RECONCILE_SCHEDULE',
    required: false,
    description: 'NCRONTAB (6 fields) of the reconcile timer (default every minute: 0 * * * * *).',
  },
  {
    name: 'AzureWebJobsStorage',
    required: false,
    description:
      'Storage connection string (local/Azurite). In Azure use the identity-based AzureWebJobsStorage__* settings.',
  },
  {
    name: 'AzureWebJobsStorage__tableServiceUri',
    required: false,
    description:
      'Table endpoint of the Functions storage account for rollout state (identity-based connection).',
  },
  {
    name: 'AzureWebJobsStorage__accountName',
    required: false,
    description: 'Storage account name; the table endpoint is derived when __tableServiceUri is not set.',
  },
  {
    name: 'AzureWebJobsStorage__credential',
    required: false,
    description: 'managedidentity for identity-based storage connections.',
  },
  {
    name: 'AzureWebJobsStorage__clientId',
    required: false,
    description: 'Client id of the user-assigned identity used for storage.',
  },
  {
    name: 'ROLLOUT_TABLE_NAME',
    required: false,
    description: 'Table holding rollout state and history (default rollouts).',
  },
  {
    name: 'ROLLOUT_EVENT_BUDGET_SECONDS',
    required: false,
    description:
      "Time an event-triggered run may advance a rollout (default 20; Event Grid's delivery timeout is 30 s).",
  },
  {
    name: 'OPERATOR_ACTION_BUDGET_SECONDS',
    required: false,
    description:
      'Longest an operator action (POST /api/apps/{app}/{action}) advances the rollout it touched before answering (default 10); it answers at the first wait, and the timer carries on from there.',
  },
  {
    name: 'OPERATOR_ACTIONS_REQUIRE_SIGN_IN',
    required: false,
    description:
      'true: operator actions also need a principal signed in through App Service authentication (Entra ID), not only their key (default false).',
  },
  {
    name: 'RECONCILE_BUDGET_SECONDS',
    required: false,
    description: 'Time one reconcile tick may spend (default 240).',
  },
  {
    name: 'RECONCILE_ROLLOUT_SLICE_SECONDS',
    required: false,
    description:
      'Time one reconcile tick may spend advancing unfinished rollouts, after every IP is synced (default 20, at most half the schedule interval).',
  },
  {
    name: 'STATUS_CACHE_SECONDS',
    required: false,
    description: 'How long the status API caches live listings (default 5).',
  },
  {
    name: 'DEPLOY_FREEZE',
    required: false,
    description:
      'true: no deploy starts for any app (pushes are queued; rollback and abort still work); an ISO time with a zone (2027-01-04T08:00:00Z): the freeze ends then; false or absent: no freeze.',
  },
  {
    name: 'NOTIFY_TOPIC_ENDPOINT',
    required: false,
    description:
      'Optional Event Grid topic endpoint receiving CloudEvents for rollout started/succeeded/failed.',
  },
]);

/** DEPLOY_FREEZE in force: no deploy starts until `until` (ISO), or until the setting is removed. */
export interface DeployFreeze {
  until?: string;
}

export type StorageSettings =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; tableServiceUri: string; credential?: string; clientId?: string };

export interface Settings {
  subscriptionId: string;
  azureClientId?: string;
  armEndpoint: string;
  armScope: string;
  /** Base URL of a registry's data plane, `https://{loginServer}` in Azure. */
  acrEndpointTemplate: string;
  apps: AppsConfig;
  reconcileSchedule: string;
  storage: StorageSettings;
  rolloutTableName: string;
  rolloutEventBudgetSeconds: number;
  /** Time an operator action may advance the rollout it touched before answering. */
  operatorActionBudgetSeconds: number;
  /**
   * App Service authentication (Easy Auth) fronts the app (`WEBSITE_AUTH_ENABLED=True`, set by the platform), so
   * `x-ms-client-principal-name` comes from it: App Service does not let external requests set that header.
   */
  easyAuthEnabled: boolean;
  /**
   * Operator actions need a signed-in principal as well as their key (Entra ID in front of them): App Service
   * authentication in `AllowAnonymous` mode validates the bearer token and names the caller.
   */
  actionsRequireSignIn: boolean;
  reconcileBudgetSeconds: number;
  /** The part of a tick that advances rollouts (level-triggered: the next tick resumes what is left). */
  reconcileRolloutSliceSeconds: number;
  statusCacheSeconds: number;
  notifyTopicEndpoint?: string;
  /** Set while DEPLOY_FREEZE holds every app's deploys. */
  deployFreeze?: DeployFreeze;
}

export class SettingsError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`App setting ${setting}: ${problem}`);
    this.name = 'SettingsError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function required(env: Env, name: string): string {
  const v = value(env, name);
  if (v === undefined) throw new SettingsError(name, 'is required');
  return v;
}

function guid(name: string, v: string): string {
  if (!GUID.test(v)) throw new SettingsError(name, `"${v}" is not a GUID`);
  return v.toLowerCase();
}

function httpsUrl(name: string, v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new SettingsError(name, `"${v}" is not a URL`);
  }
  if (u.protocol !== 'https:')
    throw new SettingsError(name, `must be https (Azure SDKs refuse tokens over http): ${v}`);
  return v.replace(/\/+$/, '');
}

function seconds(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new SettingsError(name, `must be a number of seconds between ${min} and ${max}, got "${raw}"`);
  return n;
}

/** A true/false setting (absent: false); anything else is refused rather than read as false. */
function flag(env: Env, name: string): boolean {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new SettingsError(name, `must be true or false, got "${raw}"`);
}

/** An ISO-8601 time that names its zone (Z or ±hh:mm): a bare local time would mean different things per host. */
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function deployFreeze(env: Env): DeployFreeze | undefined {
  const raw = value(env, 'DEPLOY_FREEZE');
  if (raw === undefined || raw.toLowerCase() === 'false') return undefined;
  if (raw.toLowerCase() === 'true') return {};
  if (ZONED_TIME.test(raw) && !Number.isNaN(Date.parse(raw)))
    return { until: new Date(Date.parse(raw)).toISOString() };
  throw new SettingsError(
    'DEPLOY_FREEZE',
    `must be true, false or an ISO time with a zone such as 2027-01-04T08:00:00Z, got "${raw}"`,
  );
}

const NCRONTAB_FIELD = /^[0-9*/,\-A-Za-z?]+$/;

function schedule(env: Env): string {
  const raw = value(env, 'RECONCILE_SCHEDULE') ?? '0 * * * * *';
  const fields = raw.split(/\s+/);
  if (fields.length !== 6 || !fields.every((f) => NCRONTAB_FIELD.test(f)))
    throw new SettingsError(
      'RECONCILE_SCHEDULE',
      `must be a 6-field NCRONTAB expression "{second} {minute} {hour} {day} {month} {day-of-week}", got "${raw}"`,
    );
  return raw;
}

/** Seconds between two consecutive occurrences of a 6-field NCRONTAB schedule (Infinity when there is none). */
export function scheduleIntervalSeconds(expression: string, from = new Date()): number {
  // NCrontab requires both day fields to match when both are restricted (classic cron ORs them).
  const cron = new Cron(expression, { timezone: 'UTC', mode: '6-part', domAndDow: true, paused: true });
  const [a, b] = cron.nextRuns(2, from);
  return a && b ? (b.getTime() - a.getTime()) / 1000 : Number.POSITIVE_INFINITY;
}

export const DEFAULT_ROLLOUT_SLICE_SECONDS = 20;

/**
 * A tick that outlasts the schedule's interval delays the next one (the timer runs one tick at a time), and with
 * it every IP fix. By default the rollout slice is 20 s, and at most half the interval (1 s on a 2 s schedule).
 */
function rolloutSlice(env: Env, reconcileSchedule: string, reconcileBudgetSeconds: number): number {
  const name = 'RECONCILE_ROLLOUT_SLICE_SECONDS';
  if (value(env, name) !== undefined) return seconds(env, name, 0, 1, reconcileBudgetSeconds);
  let interval: number;
  try {
    interval = scheduleIntervalSeconds(reconcileSchedule);
  } catch (e) {
    throw new SettingsError('RECONCILE_SCHEDULE', `"${reconcileSchedule}" is not valid: ${String(e)}`);
  }
  return Math.max(1, Math.min(DEFAULT_ROLLOUT_SLICE_SECONDS, reconcileBudgetSeconds, interval / 2));
}

function storage(env: Env): StorageSettings {
  const connectionString = value(env, 'AzureWebJobsStorage');
  if (connectionString) return { kind: 'connectionString', connectionString };
  const credential = value(env, 'AzureWebJobsStorage__credential');
  const clientId = value(env, 'AzureWebJobsStorage__clientId');
  const extra = { ...(credential ? { credential } : {}), ...(clientId ? { clientId } : {}) };
  const uri = value(env, 'AzureWebJobsStorage__tableServiceUri');
  if (uri)
    return {
      kind: 'identity',
      tableServiceUri: httpsUrl('AzureWebJobsStorage__tableServiceUri', uri),
      ...extra,
    };
  const account = value(env, 'AzureWebJobsStorage__accountName');
  if (account) {
    if (!/^[a-z0-9]{3,24}$/.test(account))
      throw new SettingsError(
        'AzureWebJobsStorage__accountName',
        `"${account}" is not a storage account name`,
      );
    return { kind: 'identity', tableServiceUri: `https://${account}.table.core.windows.net`, ...extra };
  }
  throw new SettingsError(
    'AzureWebJobsStorage',
    'is required: a connection string, or AzureWebJobsStorage__tableServiceUri (or __accountName) for an identity-based connection',
  );
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Parse settings from an environment (pure; tests pass their own). */
export function loadSettings(env: Env = process.env): Settings {
  const subscriptionId = guid('AZURE_SUBSCRIPTION_ID', required(env, 'AZURE_SUBSCRIPTION_ID'));
  const clientIdRaw = value(env, 'AZURE_CLIENT_ID');
  const azureClientId = clientIdRaw ? guid('AZURE_CLIENT_ID', clientIdRaw) : undefined;
  const armEndpoint = httpsUrl('ARM_ENDPOINT', value(env, 'ARM_ENDPOINT') ?? 'https://management.azure.com');
  const armScope = value(env, 'ARM_SCOPE') ?? 'https://management.azure.com/.default';
  if (!armScope.endsWith('/.default'))
    throw new SettingsError('ARM_SCOPE', `must end with /.default, got "${armScope}"`);

  const acrEndpointTemplate = httpsUrl(
    'ACR_ENDPOINT_TEMPLATE',
    value(env, 'ACR_ENDPOINT_TEMPLATE') ?? 'https://{loginServer}',
  );
  if (!/\{(loginServer|registry)\}/.test(acrEndpointTemplate))
    throw new SettingsError(
      'ACR_ENDPOINT_TEMPLATE',
      `must contain {loginServer} or {registry}, got "${acrEndpointTemplate}"`,
    );

  let apps: AppsConfig;
  try {
    apps = parseAppsConfig(required(env, 'APPS_CONFIG'));
  } catch (e) {
    if (e instanceof AppsConfigError) throw new SettingsError('APPS_CONFIG', e.message);
    throw e;
  }

  const rolloutTableName = value(env, 'ROLLOUT_TABLE_NAME') ?? 'rollouts';
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(rolloutTableName))
    throw new SettingsError(
      'ROLLOUT_TABLE_NAME',
      `"${rolloutTableName}" is not a valid table name (3-63 letters/digits)`,
    );
  const notify = value(env, 'NOTIFY_TOPIC_ENDPOINT');
  const reconcileSchedule = schedule(env);
  const reconcileBudgetSeconds = seconds(env, 'RECONCILE_BUDGET_SECONDS', 240, 1, 1_800);
  const freeze = deployFreeze(env);

  return deepFreeze({
    subscriptionId,
    ...(azureClientId ? { azureClientId } : {}),
    armEndpoint,
    armScope,
    acrEndpointTemplate,
    apps,
    reconcileSchedule,
    storage: storage(env),
    rolloutTableName,
    rolloutEventBudgetSeconds: seconds(env, 'ROLLOUT_EVENT_BUDGET_SECONDS', 20, 1, 28),
    operatorActionBudgetSeconds: seconds(env, 'OPERATOR_ACTION_BUDGET_SECONDS', 10, 1, 120),
    easyAuthEnabled: (value(env, 'WEBSITE_AUTH_ENABLED') ?? '').toLowerCase() === 'true',
    actionsRequireSignIn: flag(env, 'OPERATOR_ACTIONS_REQUIRE_SIGN_IN'),
    reconcileBudgetSeconds,
    reconcileRolloutSliceSeconds: rolloutSlice(env, reconcileSchedule, reconcileBudgetSeconds),
    statusCacheSeconds: seconds(env, 'STATUS_CACHE_SECONDS', 5, 0, 300),
    ...(notify ? { notifyTopicEndpoint: httpsUrl('NOTIFY_TOPIC_ENDPOINT', notify) } : {}),
    ...(freeze ? { deployFreeze: freeze } : {}),
  });
}

let cached: Settings | undefined;

/** The process's settings, read from process.env on first use. */
export function getSettings(): Settings {
  cached ??= loadSettings(process.env);
  return cached;
}

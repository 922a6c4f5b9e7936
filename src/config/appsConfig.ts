/**
 * APPS_CONFIG: which apps to blue/green-deploy and which groups to watch.
 *
 * Why an app setting (JSON) rather than a file: it is deployed with the Bicep/azd parameters, can differ per
 * environment without a rebuild, and a change restarts the app so the config is always read once at start.
 *
 * Each app entry is parsed on its own: an invalid entry is refused with a message naming the field
 * (`apps[1] (api): health.port: expected a number`) and kept in `errors` for the status page, while the
 * other apps load. Only an APPS_CONFIG that is not JSON or has no `apps` array fails the whole setting.
 */
import { z } from 'zod';
import { desiredStateFields } from './desiredStateConfig.js';
import { rolloutControlFields } from './rolloutControls.js';
import { appDnsSchema, appRecordName, fqdnOf, watchDnsSchema, type WatchDnsConfig } from './dnsConfig.js';
import { DEFAULT_TAG_POLICY, tagPolicySchema } from './tagPolicyConfig.js';
import {
  ACI_NAME,
  REGISTRY_ID,
  aciName,
  port,
  registryResourceId,
  resourceGroup,
  secretName,
  subnetId,
  vaultUrl,
} from './configFields.js';
import { adoptGroupSchema, normaliseAdoptGroup } from './adoptGroupConfig.js';
import { readinessProbeTarget, templateIssues, templateSchema } from './templateConfig.js';
import { vnetRefusals } from './vnetRules.js';

export { normaliseVaultUrl } from './configFields.js';
export type { ContainerTemplate, TemplateConfig } from './templateConfig.js';
export type { AdoptGroupConfig, KeyVaultReferences } from './adoptGroupConfig.js';
export type { TagPolicy, TagOrder } from './tagPolicyConfig.js';
export type { DeployWindow } from './desiredStateConfig.js';

// ---------------------------------------------------------------- validators

/** ACR repository names (may contain '/' namespaces). */
const REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/** Longest suffix we add to an app name (`-green`). */
export const COLOUR_SUFFIX_MAX = '-green'.length;
export const APP_NAME_MAX = 63 - COLOUR_SUFFIX_MAX;

/** The app name becomes the group names `{name}-blue` / `{name}-green`, which must satisfy ACI_NAME. */
const appName = z
  .string()
  .refine((s) => ACI_NAME.test(s), {
    message: "must be lowercase letters, digits or '-', not starting or ending with '-'",
  })
  .refine((s) => s.length <= APP_NAME_MAX, {
    message: `must be at most ${APP_NAME_MAX} characters so that '{name}-green' fits ACI's 63`,
  });

const healthSchema = z.strictObject({
  /** Default: the port of the pushed-image container's readinessProbe.httpGet (templateConfig.ts). */
  port: port.optional(),
  /** Default: that probe's path when the port came from it, else '/'. */
  path: z.string().startsWith('/', { message: "must start with '/'" }).optional(),
  /** Inclusive range of accepted statuses, or one status. */
  expectedStatus: z
    .union([
      z.number().int().min(100).max(599),
      z.tuple([z.number().int().min(100).max(599), z.number().int().min(100).max(599)]),
    ])
    .default([200, 299])
    .transform((v): [number, number] => (typeof v === 'number' ? [v, v] : v))
    .refine(([lo, hi]) => lo <= hi, { message: 'range must be [low, high]' }),
  consecutiveSuccesses: z.number().int().min(1).max(100).default(3),
  intervalSeconds: z.number().positive().max(300).default(2),
  timeoutSeconds: z.number().positive().max(3600).default(120),
  /** A container restarting this many times during the rollout fails it as "crashed". */
  maxRestarts: z.number().int().min(1).max(100).default(3),
});

const appFields = z.strictObject({
  name: appName,
  registry: z.strictObject({ resourceId: registryResourceId }),
  repository: z.string().refine((s) => REPOSITORY.test(s), {
    message: 'not a valid repository name (lowercase, e.g. web or team/web)',
  }),
  tagPolicy: tagPolicySchema.default(DEFAULT_TAG_POLICY),
  /** Allows downgrades (and re-deploying a digest from history on a fresh push). */
  force: z.boolean().default(false),
  resourceGroup,
  location: z.string().regex(/^[a-zA-Z0-9 ]{2,40}$/, { message: 'not a valid Azure location' }),
  subnetId,
  adoptGroup: adoptGroupSchema,
  /** Required, unless adoptGroup.copySpec takes the adopted group's spec as the template. */
  template: templateSchema.optional(),
  health: healthSchema,
  secret: z.strictObject({ vaultUrl, name: secretName }),
  drainSeconds: z.number().min(0).max(86_400).default(30),
  keepFailed: z.boolean().default(false),
  provisioningTimeoutSeconds: z.number().positive().max(7_200).default(600),
  /**
   * ACI retries a failing image pull; a pull that keeps failing this long (with no successful pull since) fails
   * the rollout. Covers, e.g., a new pull identity's AcrPull assignment propagating. 0 = fail at the first error.
   */
  pullFailureGraceSeconds: z.number().min(0).max(3_600).default(300),
  /** Reconcile restarts the active group when it is Stopped/Failed. */
  restartUnhealthy: z.boolean().default(false),
  /** A Private DNS A record that follows the active group (dnsConfig.ts). */
  dns: appDnsSchema.optional(),
  ...rolloutControlFields,
  ...desiredStateFields,
});

type AppFields = z.output<typeof appFields>;

/** The health gate's port and path: as configured, else the readiness probe's (templateConfig.ts). */
function healthTarget(app: AppFields): { port: number; path: string } | undefined {
  const probe = app.template ? readinessProbeTarget(app.template) : undefined;
  if (app.health.port === undefined) return probe;
  const path = app.health.path ?? (probe?.port === app.health.port ? probe.path : '/');
  return { port: app.health.port, path };
}

/** The template's presence (adoptGroup.copySpec), its consistency, what ACI refuses in a VNet, the health port. */
function appIssues(app: AppFields): Array<{ path: PropertyKey[]; message: string }> {
  const copySpec = typeof app.adoptGroup === 'object' && app.adoptGroup?.copySpec === true;
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  if (!copySpec && typeof app.adoptGroup === 'object' && app.adoptGroup?.keyVaultReferences)
    out.push({ path: ['adoptGroup', 'keyVaultReferences'], message: 'only with copySpec: true' });
  if (copySpec && app.template)
    out.push({
      path: ['template'],
      message:
        "not allowed with adoptGroup.copySpec: the adopted group's spec is the template (status shows it; move it here and drop copySpec)",
    });
  if (!app.template) {
    if (!copySpec) out.push({ path: ['template'], message: 'required (an object)' });
    else if (app.health.port === undefined)
      out.push({
        path: ['health', 'port'],
        message: 'required with adoptGroup.copySpec (the spec is read at run time)',
      });
    return out;
  }
  const t = app.template;
  for (const i of templateIssues(t)) out.push({ path: ['template', ...i.path], message: i.message });
  for (const r of vnetRefusals(t, app.location))
    out.push({ path: ['template', ...r.path], message: r.message });
  const target = healthTarget(app);
  const exposed = new Set(t.containers.flatMap((c) => c.ports));
  if (!target)
    out.push({
      path: ['health', 'port'],
      message:
        'required (a number), unless the container running the pushed image has a readinessProbe.httpGet',
    });
  else if (!exposed.has(target.port))
    out.push({
      path: ['health', 'port'],
      message: `port ${target.port} is not exposed by any container (ports: ${[...exposed].join(', ') || 'none'})`,
    });
  if (app.verify?.port !== undefined && !exposed.has(app.verify.port))
    out.push({
      path: ['verify', 'port'],
      message: `port ${app.verify.port} is not exposed by any container (ports: ${[...exposed].join(', ') || 'none'})`,
    });
  return out;
}

const appSchema = appFields
  .superRefine((app, ctx) => {
    for (const i of appIssues(app)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  })
  .transform((app) => {
    const target = healthTarget(app) ?? { port: app.health.port ?? 0, path: app.health.path ?? '/' };
    return {
      ...app,
      adoptGroup: normaliseAdoptGroup(app.adoptGroup, app.resourceGroup),
      health: { ...app.health, ...target },
    };
  });

const watchedGroupSchema = z.strictObject({
  resourceGroup,
  name: aciName('group name'),
  secretName,
  vaultUrl: vaultUrl.optional(),
});

const reconcileSchema = z.strictObject({
  /** Groups tagged as ours that no rollout refers to are deleted after this long (from their created-at tag). */
  orphanGraceSeconds: z.number().min(0).default(900),
  /** At most this many concurrent writes (secret sets, deletes) per tick. */
  writeConcurrency: z.number().int().min(1).max(32).default(4),
  /**
   * Every this many seconds a tick lists each app's repository tags and starts what a lost ImagePushed event
   * should have started (catch-up, domain/reconcile/catchUp.ts). 0 = off.
   */
  catchUpSeconds: z.number().min(0).max(86_400).default(600),
  /**
   * Between full listings of an IP vault a tick trusts what it last listed or wrote, and reads afresh only the
   * secrets whose group disagrees (domain/secretMirror.ts). The full listing, every this many seconds, repairs a
   * secret changed by hand. 0 = list every tick.
   */
  secretAuditSeconds: z.number().min(0).max(86_400).default(900),
});

// ---------------------------------------------------------------- types

export type HealthConfig = z.output<typeof appSchema>['health'];
export type WatchedGroupConfig = z.output<typeof watchedGroupSchema>;
export type ReconcileConfig = z.output<typeof reconcileSchema>;

export interface RegistryRef {
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export type AppConfig = Omit<z.output<typeof appSchema>, 'registry'> & { registry: RegistryRef };

export interface WatchConfig {
  resourceGroups: string[];
  vaultUrl?: string;
  groups: WatchedGroupConfig[];
  /** Zone and TTL for groups tagged `ip-dns=<name>`. */
  dns?: WatchDnsConfig;
}

export interface ConfigError {
  /** Where in APPS_CONFIG: `apps[1]`, `watch.groups[0]`, `watch`. */
  path: string;
  /** The app's (or watched group's) name when it could be read. */
  name?: string;
  /** Field inside that entry, e.g. `health.port`; empty for the entry itself. */
  field: string;
  message: string;
  /** `apps[1] (api): health.port: expected a number`. */
  text: string;
}

export interface AppsConfig {
  apps: AppConfig[];
  watch: WatchConfig;
  reconcile: ReconcileConfig;
  /** Entries refused (the rest loaded). Shown by status. */
  errors: ConfigError[];
  /** Names of refused apps, so events for them are answered "config error" rather than "unknown". */
  refusedApps: Array<{ name: string; registryResourceId?: string; repository?: string; errors: string[] }>;
}

/** APPS_CONFIG is unusable as a whole (not JSON, no apps array). */
export class AppsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppsConfigError';
  }
}

// ---------------------------------------------------------------- parsing

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

function issueMessage(issue: z.core.$ZodIssue, input: unknown): { field: string; message: string } {
  const path = issue.path;
  let message = issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      const missing = valueAt(input, path) === undefined;
      message = missing ? `required (${article(issue.expected)})` : `expected ${article(issue.expected)}`;
      break;
    }
    case 'unrecognized_keys':
      message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      break;
    case 'invalid_union':
      if ((issue as { note?: string }).note === 'No matching discriminator') {
        const options = (issue as { options?: unknown[] }).options ?? [];
        message = `expected one of ${options.map((o) => `"${String(o)}"`).join(', ')}`;
      }
      break;
    case 'invalid_key': {
      // A record key (an environment variable name) failed its own check: report that check's message.
      const inner = (issue as { issues?: { message?: string }[] }).issues?.[0]?.message;
      if (inner) message = inner;
      break;
    }
    case 'too_small':
    case 'too_big':
      message = message.replace(/^Too (small|big): /, '');
      break;
    default:
      break;
  }
  return { field: formatPath(path), message };
}

function formatIssues(
  scope: string,
  name: string | undefined,
  issues: z.core.$ZodIssue[],
  input: unknown,
): ConfigError[] {
  return issues.map((issue) => {
    const { field, message } = issueMessage(issue, input);
    const head = name ? `${scope} (${name})` : scope;
    return {
      path: scope,
      ...(name ? { name } : {}),
      field,
      message,
      text: `${head}: ${field ? `${field}: ` : ''}${message}`,
    };
  });
}

function parseRegistry(resourceId: string): RegistryRef {
  const m = REGISTRY_ID.exec(resourceId);
  if (!m) throw new Error('unreachable: registry id validated');
  return { resourceId, subscriptionId: m[1]!.toLowerCase(), resourceGroup: m[2]!, name: m[3]!.toLowerCase() };
}

function nameOf(entry: unknown): string | undefined {
  if (entry && typeof entry === 'object' && typeof (entry as { name?: unknown }).name === 'string')
    return (entry as { name: string }).name;
  return undefined;
}

const topSchema = z.looseObject({
  apps: z.array(z.unknown()),
  watch: z.unknown().optional(),
  reconcile: z.unknown().optional(),
});

/**
 * Each app entry on its own: a bad entry (or a second app with the same name, or the same registry and repository)
 * is refused with its errors, naming the field; the others load.
 */
function parseApps(
  entries: unknown[],
  errors: ConfigError[],
  refusedApps: AppsConfig['refusedApps'],
): AppConfig[] {
  const apps: AppConfig[] = [];
  const seenNames = new Map<string, number>();
  const seenRepos = new Map<string, { index: number; name: string }>();
  const seenDnsNames = new Map<string, { index: number; name: string }>();
  entries.forEach((entry, index) => {
    const scope = `apps[${index}]`;
    const name = nameOf(entry);
    const refuse = (errs: ConfigError[]) => {
      errors.push(...errs);
      const registryResourceId = valueAt(entry, ['registry', 'resourceId']);
      const repository = valueAt(entry, ['repository']);
      refusedApps.push({
        name: name ?? scope,
        ...(typeof registryResourceId === 'string' ? { registryResourceId } : {}),
        ...(typeof repository === 'string' ? { repository } : {}),
        errors: errs.map((e) => e.text),
      });
    };
    const parsed = appSchema.safeParse(entry);
    if (!parsed.success) {
      refuse(formatIssues(scope, name, parsed.error.issues, entry));
      return;
    }
    const app: AppConfig = { ...parsed.data, registry: parseRegistry(parsed.data.registry.resourceId) };
    const dupName = seenNames.get(app.name);
    if (dupName !== undefined) {
      refuse(
        formatIssues(
          scope,
          name,
          [custom(['name'], `duplicate app name "${app.name}" (also apps[${dupName}])`)],
          entry,
        ),
      );
      return;
    }
    const repoKey = `${app.registry.resourceId.toLowerCase()}|${app.repository}`;
    const dupRepo = seenRepos.get(repoKey);
    if (dupRepo) {
      refuse(
        formatIssues(
          scope,
          name,
          [
            custom(
              ['repository'],
              `registry ${app.registry.name} repository "${app.repository}" is already deployed by apps[${dupRepo.index}] (${dupRepo.name}); one app per registry and repository`,
            ),
          ],
          entry,
        ),
      );
      return;
    }
    const dnsClash = claimDnsName(app, index, seenDnsNames);
    if (dnsClash) {
      refuse(formatIssues(scope, name, [dnsClash], entry));
      return;
    }
    seenNames.set(app.name, index);
    seenRepos.set(repoKey, { index, name: app.name });
    apps.push(app);
  });

  return apps;
}

/** DNS (issue 17): one app per record name, or two apps would fight over it every tick. */
function claimDnsName(
  app: AppConfig,
  index: number,
  seen: Map<string, { index: number; name: string }>,
): z.core.$ZodIssue | undefined {
  if (!app.dns) return undefined;
  const record = fqdnOf(appRecordName(app)!, app.dns.zone);
  const first = seen.get(record);
  if (first)
    return custom(['dns'], `${record} is already the DNS name of apps[${first.index}] (${first.name})`);
  seen.set(record, { index, name: app.name });
  return undefined;
}

/** Parse APPS_CONFIG (a JSON string or an already-parsed value). Throws AppsConfigError only when unusable. */
export function parseAppsConfig(raw: string | unknown): AppsConfig {
  let input: unknown = raw;
  if (typeof raw === 'string') {
    try {
      input = JSON.parse(raw);
    } catch (e) {
      throw new AppsConfigError(`not valid JSON: ${(e as Error).message}`);
    }
  }
  const top = topSchema.safeParse(input);
  if (!top.success) {
    const issue = top.error.issues[0]!;
    const { field, message } = issueMessage(issue, input);
    throw new AppsConfigError(`${field || '(root)'}: ${message}; expected { "apps": [...], "watch": {...} }`);
  }
  const errors: ConfigError[] = [];
  const refusedApps: AppsConfig['refusedApps'] = [];
  const topKeys = Object.keys(top.data).filter(
    (k) => !['apps', 'watch', 'reconcile'].includes(k) && !k.startsWith('$'),
  );
  for (const k of topKeys)
    errors.push({
      path: k,
      field: '',
      message: 'unknown field (ignored)',
      text: `${k}: unknown field (ignored)`,
    });

  const apps = parseApps(top.data.apps, errors, refusedApps);

  const watch = parseWatch(top.data.watch, errors);
  let reconcile: ReconcileConfig = reconcileSchema.parse({});
  if (top.data.reconcile !== undefined) {
    const r = reconcileSchema.safeParse(top.data.reconcile);
    if (r.success) reconcile = r.data;
    else errors.push(...formatIssues('reconcile', undefined, r.error.issues, top.data.reconcile));
  }
  return { apps, watch, reconcile, errors, refusedApps };
}

function custom(path: PropertyKey[], message: string): z.core.$ZodIssue {
  return { code: 'custom', path, message, input: undefined } as z.core.$ZodIssue;
}

const watchTopSchema = z.strictObject({
  resourceGroups: z.array(resourceGroup).default([]),
  vaultUrl: vaultUrl.optional(),
  groups: z.array(z.unknown()).default([]),
  dns: watchDnsSchema.optional(),
});

function parseWatch(raw: unknown, errors: ConfigError[]): WatchConfig {
  const empty: WatchConfig = { resourceGroups: [], groups: [] };
  if (raw === undefined || raw === null) return empty;
  const top = watchTopSchema.safeParse(raw);
  if (!top.success) {
    errors.push(...formatIssues('watch', undefined, top.error.issues, raw));
    return empty;
  }
  const groups: WatchedGroupConfig[] = [];
  const seen = new Set<string>();
  top.data.groups.forEach((entry, i) => {
    const scope = `watch.groups[${i}]`;
    const name = nameOf(entry);
    const g = watchedGroupSchema.safeParse(entry);
    if (!g.success) {
      errors.push(...formatIssues(scope, name, g.error.issues, entry));
      return;
    }
    if (!g.data.vaultUrl && !top.data.vaultUrl) {
      errors.push(
        ...formatIssues(
          scope,
          name,
          [custom(['vaultUrl'], 'required when watch.vaultUrl is not set')],
          entry,
        ),
      );
      return;
    }
    const key = `${g.data.resourceGroup.toLowerCase()}/${g.data.name}`;
    if (seen.has(key)) {
      errors.push(...formatIssues(scope, name, [custom(['name'], `group ${key} is listed twice`)], entry));
      return;
    }
    seen.add(key);
    groups.push(g.data);
  });
  return {
    resourceGroups: top.data.resourceGroups,
    ...(top.data.vaultUrl ? { vaultUrl: top.data.vaultUrl } : {}),
    groups,
    ...(top.data.dns ? { dns: top.data.dns } : {}),
  };
}

/** Case-insensitive comparison for ARM resource ids. */
export function sameResourceId(a: string, b: string): boolean {
  return a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}

/**
 * Test support for the infrastructure tests: the Bicep CLI (scripts/lib/bicepCli.ts) and deployment snapshots.
 *
 * `bicep snapshot` evaluates a whole deployment offline — every module, condition, loop and name — for a parameter
 * file and a target subscription, and lists the resources it would create with their resolved ids, names and
 * properties; only values that exist at deployment time (a new identity's principalId, a registry's location) stay
 * as `[reference(...)]` expressions with their arguments resolved. The tests assert on those snapshots, so they check
 * what Azure would be asked to create, not the Bicep source.
 *
 * Without the CLI: outside CI the infra suites are skipped with a message saying how to install it; with CI=true
 * they fail with that message (CI never skips them).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { BICEP_MISSING_HELP, locateBicep } from '../../../scripts/lib/bicepCli.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const infraDir = path.join(repoRoot, 'infra');
export const bicep = locateBicep(repoRoot);

/** A describe() whose tests need the Bicep CLI. */
export function describeWithBicep(name: string, body: (bicepPath: string) => void): void {
  if (bicep) {
    describe(name, () => body(bicep));
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has the Bicep CLI (CI never skips the infrastructure check)', () => {
        throw new Error(BICEP_MISSING_HELP);
      });
    });
    return;
  }
  console.warn(`\n${name}: SKIPPED\n${BICEP_MISSING_HELP}\n`);
  describe.skip(name, () => body(''));
}

// ------------------------------------------------------------------------------------------ snapshots

export const SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000001';
export const TENANT_ID = '00000000-0000-0000-0000-0000000000aa';
export const LOCATION = 'westeurope';

export interface PredictedResource {
  id: string;
  type: string;
  name: string;
  apiVersion: string;
  location?: string;
  sku?: { name?: string; tier?: string };
  kind?: string;
  tags?: Record<string, string>;
  identity?: { type?: string; userAssignedIdentities?: Record<string, unknown> };
  properties?: Record<string, unknown>;
}

export interface Snapshot {
  predictedResources: PredictedResource[];
  outputs: Record<string, unknown>;
}

export interface Scenario {
  /** main.bicep parameters besides environmentName and location. */
  params?: Record<string, string | number | boolean>;
  /** Replaces infra/apps.json (the templates load it at compile time). */
  appsFile?: unknown;
}

export type SnapshotOutcome = { ok: true; snapshot: Snapshot } | { ok: false; error: string };

const run = promisify(execFile);

function bicepValue(value: string | number | boolean): string {
  return typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : String(value);
}

/**
 * Snapshots of main.bicep for each scenario, two bicep processes at a time. Each scenario gets its own copy of
 * infra/ (so it can carry its own apps.json) with a .bicepparam file next to main.bicep.
 */
export async function snapshotScenarios<K extends string>(
  bicepPath: string,
  scenarios: Record<K, Scenario>,
): Promise<Record<K, SnapshotOutcome>> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'infra-snapshots-'));
  const entries = Object.entries(scenarios) as Array<[K, Scenario]>;
  const results = {} as Record<K, SnapshotOutcome>;
  try {
    let next = 0;
    const worker = async () => {
      while (next < entries.length) {
        const [name, scenario] = entries[next++]!;
        results[name] = await snapshotOne(bicepPath, path.join(workDir, name), scenario);
      }
    };
    await Promise.all([worker(), worker()]);
    return results;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

async function snapshotOne(bicepPath: string, dir: string, scenario: Scenario): Promise<SnapshotOutcome> {
  fs.cpSync(infraDir, dir, { recursive: true });
  if (scenario.appsFile !== undefined)
    fs.writeFileSync(path.join(dir, 'apps.json'), JSON.stringify(scenario.appsFile, null, 2));
  const params = { environmentName: 'dev', location: LOCATION, ...scenario.params };
  const lines = [
    "using 'main.bicep'",
    ...Object.entries(params).map(([k, v]) => `param ${k} = ${bicepValue(v)}`),
  ];
  fs.writeFileSync(path.join(dir, 'scenario.bicepparam'), `${lines.join('\n')}\n`);
  const args = [
    'snapshot',
    'scenario.bicepparam',
    '--subscription-id',
    SUBSCRIPTION_ID,
    '--tenant-id',
    TENANT_ID,
    '--location',
    LOCATION,
    '--deployment-name',
    'main',
  ];
  try {
    await run(bicepPath, args, { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, error: `${failure.stdout ?? ''}${failure.stderr ?? ''}` || failure.message };
  }
  const snapshot = JSON.parse(fs.readFileSync(path.join(dir, 'scenario.snapshot.json'), 'utf8')) as Snapshot;
  return { ok: true, snapshot };
}

export function snapshotOf(outcome: SnapshotOutcome | undefined): Snapshot {
  if (!outcome) throw new Error('scenario was not snapshotted');
  if (!outcome.ok) throw new Error(`bicep snapshot failed: ${outcome.error}`);
  return outcome.snapshot;
}

export function resourcesOfType(snapshot: Snapshot, type: string): PredictedResource[] {
  return snapshot.predictedResources.filter((r) => r.type === type);
}

export function onlyResource(snapshot: Snapshot, type: string): PredictedResource {
  const found = resourcesOfType(snapshot, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

// ------------------------------------------------------------------------------------------ role assignments

export interface ResolvedRoleAssignment {
  /** The resource (or resource group) the assignment is on, fully resolved. */
  scope: string;
  /** Resource id of the user-assigned identity whose principal gets the role. */
  principalIdentity: string;
  /** Role definition id (GUID), or the deployment-time expression that picks it. */
  role: string;
  principalType: unknown;
}

const ASSIGNMENT_NAME = /^\[guid\('([^']+)', reference\('([^']+)', '[^']+'\)\.principalId, (.+)\)\]$/;

/**
 * Reads an assignment's scope, principal and role from its name, which the templates build as
 * guid(scope, principal, role), and checks that the id and the properties say the same.
 */
export function resolveRoleAssignment(resource: PredictedResource): ResolvedRoleAssignment {
  const match = ASSIGNMENT_NAME.exec(resource.name);
  if (!match) throw new Error(`role assignment name is not guid(scope, principal, role): ${resource.name}`);
  const [, scope, principalIdentity, roleExpression] = match;
  const literalRole = /^'([0-9a-f-]{36})'$/.exec(roleExpression!);
  const role = literalRole ? literalRole[1]! : roleExpression!;

  const extension =
    /^\[extensionResourceId\('([^']+)', 'Microsoft\.Authorization\/roleAssignments', guid\(/.exec(
      resource.id,
    );
  const groupScoped =
    /^\[resourceId\('([^']+)', '([^']+)', 'Microsoft\.Authorization\/roleAssignments', guid\(/.exec(
      resource.id,
    );
  const idScope = extension
    ? extension[1]
    : groupScoped
      ? `/subscriptions/${groupScoped[1]}/resourceGroups/${groupScoped[2]}`
      : undefined;
  if (idScope !== scope)
    throw new Error(`assignment id scope ${idScope} differs from its name's scope ${scope}`);

  const properties = resource.properties ?? {};
  if (properties.principalId !== `[reference('${principalIdentity}', '2023-01-31').principalId]`)
    throw new Error(`assignment principal ${String(properties.principalId)} differs from its name's`);
  const roleDefinitionId = String(properties.roleDefinitionId);
  if (literalRole && !roleDefinitionId.endsWith(`/providers/Microsoft.Authorization/roleDefinitions/${role}`))
    throw new Error(`assignment role ${roleDefinitionId} differs from its name's ${role}`);
  return {
    scope: scope!,
    principalIdentity: principalIdentity!,
    role,
    principalType: properties.principalType,
  };
}

/** Built-in role ids the templates may use, with their names (each occurrence in a template carries the name as a
 * trailing comment; the snapshot tests print assignments by these names). */
export const BUILT_IN_ROLES: Record<string, string> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': 'Key Vault Secrets Officer',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
  '7f951dda-4ed3-4680-a7ca-43fe172d538d': 'AcrPull',
  'b93aa761-3e63-49ed-ac28-beffa264f7ac': 'Container Registry Repository Reader',
  'd5a91429-5739-47e2-a06b-3470a27159e7': 'EventGrid Data Sender',
  'acdd72a7-3385-48ef-bd42-f606fba81ae7': 'Reader',
  'b12aa53e-6015-4669-85d0-8515ebb3ae7f': 'Private DNS Zone Contributor',
};

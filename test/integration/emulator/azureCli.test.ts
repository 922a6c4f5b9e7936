/**
 * Azure's own CLI against the emulator, as a user would point it at a private cloud: Debian's `azure-cli` 2.45
 * (`bash .ci/install-azure-cli.sh`) with its own config dir, a custom cloud registered from the emulator's ARM
 * endpoint (`az cloud register` reads ARM's /metadata/endpoints), the emulator's CA trusted through
 * REQUESTS_CA_BUNDLE and the managed identity through MSI_ENDPOINT. Every answer is checked against what the
 * emulator holds. No az → the test fails and says how to install it (never skipped), like the browser test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AZURE_CLI_INSTALL_HINT,
  azureCliEnvironment,
  probeAzureCli,
  runAz,
  type AzResult,
} from '../../../bench/lib/azureCli.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const RG = 'rg-apps';
const SUBNET = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-cli-it/subnets/aci`;
const CLOUD = 'LocalEmulator';
/**
 * az polls an operation once at once, then every 30 s (ACI's status answers carry no Retry-After), so a create or
 * delete that is still running at the first poll takes 30 s more.
 */
const LRO_TIMEOUT_MS = 180_000;

interface DebugGroup {
  resourceGroup: string;
  name: string;
  provisioningState: string;
  state: string;
  ip: string | null;
}

interface LogEntry {
  operation: string;
  method: string;
  path: string;
  status: number;
}

const cli = probeAzureCli();

describe(`Azure's CLI (az ${cli.ok ? cli.version : 'missing'}) against the emulator`, () => {
  let emulator: TestEmulator;
  let workDir: string;
  let env: NodeJS.ProcessEnv;

  /** Runs az with the test's isolated profile; never throws on a non-zero exit (the caller asserts). */
  const az = (...args: string[]): Promise<AzResult> => runAz(env, [...args, '--output', 'json']);

  /** The output of an az command that must succeed. */
  const azOk = async (...args: string[]): Promise<string> => {
    const result = await az(...args);
    if (result.code !== 0) throw new Error(`az ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  };
  const azJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await azOk(...args)) as T;

  const emulatorGroups = async () =>
    (await emulator.control<{ value: DebugGroup[] }>('GET', '/_emulator/containerGroups')).body.value;

  const requestsSince = async (seq: number) =>
    (await emulator.control<{ entries: LogEntry[] }>('GET', `/_emulator/requests?since=${seq}&entries=true`))
      .body.entries;

  beforeAll(async () => {
    if (!cli.ok)
      throw new Error(`Azure's CLI is needed for this test: ${cli.reason}; ${AZURE_CLI_INSTALL_HINT}.`);
    // Provisioning without delay usually ends before az's first poll, which saves the 30 s (LRO_TIMEOUT_MS).
    emulator = await startTestEmulator({ timings: { provisioningStepMs: 0, lroRetryAfterSeconds: 0 } });
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'az-cli-it-'));
    env = azureCliEnvironment({
      configDir: path.join(workDir, 'config'),
      caCertPath: String(emulator.stack['caCertPath']),
      msiEndpoint: String(emulator.stack['msiEndpoint']),
    });
  });

  afterAll(async () => {
    await emulator?.close();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('registers the emulator as a cloud from its ARM endpoint and logs in with the managed identity', async () => {
    await azOk('cloud', 'register', '--name', CLOUD, '--endpoint-resource-manager', emulator.url);
    await azOk('cloud', 'set', '--name', CLOUD);
    const cloud = await azJson<{ isActive: boolean; endpoints: Record<string, string> }>(
      'cloud',
      'show',
      '--name',
      CLOUD,
    );
    expect(cloud.isActive).toBe(true);
    expect(cloud.endpoints).toMatchObject({
      resourceManager: emulator.url,
      // Read from ARM's metadata endpoint: az asks for tokens for this audience.
      activeDirectoryResourceId: 'https://management.core.windows.net/',
    });

    const before = await emulator.requestCounts();
    const login = await azJson<Record<string, unknown>[]>('login', '--identity');
    expect(login).toEqual([
      expect.objectContaining({
        environmentName: CLOUD,
        id: SUB,
        tenantId: String(emulator.stack['tenantId']),
        name: 'Emulated subscription',
        state: 'Enabled',
        isDefault: true,
        user: { assignedIdentityInfo: 'MSI', name: 'systemAssignedIdentity', type: 'servicePrincipal' },
      }),
    ]);
    const counts = (await emulator.requestCounts(before.lastSeq)).counts;
    expect(counts['ManagedIdentity_GetToken']).toBeGreaterThanOrEqual(1);
    expect(counts['Subscriptions_List']).toBe(1);

    const account = await azJson<Record<string, unknown>>('account', 'show');
    expect(account).toMatchObject({ id: SUB, tenantId: String(emulator.stack['tenantId']), isDefault: true });
  });

  it('shows and lists container groups as the emulator holds them', async () => {
    const seeded = await emulator.control<{ created: { name: string; ip: string }[] }>(
      'POST',
      '/_emulator/containerGroups/seed',
      { resourceGroup: RG, count: 2, namePrefix: 'cli-seed', subnetIds: [SUBNET], port: 8080 },
    );
    expect(seeded.status).toBe(201);
    const held = (await emulatorGroups()).filter((g) => g.resourceGroup === RG);
    expect(held.map((g) => g.name).sort()).toEqual(['cli-seed-1', 'cli-seed-2']);

    const listed = await azJson<{ name: string; provisioningState: string; ipAddress: { ip: string } }[]>(
      'container',
      'list',
      '--resource-group',
      RG,
    );
    expect(listed.map((g) => [g.name, g.provisioningState, g.ipAddress.ip]).sort()).toEqual(
      held.map((g) => [g.name, g.provisioningState, g.ip]).sort(),
    );
    const everywhere = await azJson<{ name: string }[]>('container', 'list');
    expect(everywhere.map((g) => g.name).sort()).toEqual(['cli-seed-1', 'cli-seed-2']);

    const shown = await azJson<Record<string, unknown>>('container', 'show', '-g', RG, '-n', 'cli-seed-1');
    const first = held.find((g) => g.name === 'cli-seed-1')!;
    expect(shown).toMatchObject({
      id: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerInstance/containerGroups/cli-seed-1`,
      provisioningState: 'Succeeded',
      instanceView: { state: first.state },
      ipAddress: { ip: first.ip, type: 'Private' },
      subnetIds: [{ id: SUBNET }],
    });
  });

  it(
    'creates a group from a YAML file through the generic-resource path and runs it',
    async () => {
      const file = path.join(workDir, 'cli-file.yaml');
      fs.writeFileSync(
        file,
        [
          'apiVersion: 2021-10-01',
          'name: cli-file',
          'type: Microsoft.ContainerInstance/containerGroups',
          'tags:',
          '  source: yaml',
          'properties:',
          '  osType: Linux',
          '  restartPolicy: Always',
          '  containers:',
          '    - name: web',
          '      properties:',
          '        image: mcr.microsoft.com/azuredocs/aci-helloworld:latest',
          '        ports:',
          '          - port: 8080',
          '        resources:',
          '          requests:',
          '            cpu: 0.5',
          '            memoryInGB: 1',
          '  ipAddress:',
          '    type: Private',
          '    ports:',
          '      - port: 8080',
          '        protocol: TCP',
          '  subnetIds:',
          `    - id: ${SUBNET}`,
          '',
        ].join('\n'),
      );
      const before = await emulator.requestCounts();
      const created = await azJson<{
        name: string;
        location: string;
        tags: Record<string, string>;
        properties: { provisioningState: string; ipAddress: { ip: string } };
      }>('container', 'create', '--resource-group', RG, '--file', file);
      // The location comes from the resource group, which az reads first.
      expect(created).toMatchObject({
        name: 'cli-file',
        location: 'westeurope',
        tags: { source: 'yaml' },
        properties: { provisioningState: 'Succeeded' },
      });
      const held = (await emulatorGroups()).find((g) => g.name === 'cli-file');
      expect(held).toMatchObject({
        resourceGroup: RG,
        state: 'Running',
        ip: created.properties.ipAddress.ip,
      });
      const answer = (await (await fetch(`http://${held!.ip}:8080/`)).json()) as {
        group: string;
        image: string;
      };
      expect(answer).toMatchObject({
        group: 'cli-file',
        image: 'mcr.microsoft.com/azuredocs/aci-helloworld:latest',
      });

      const calls = await requestsSince(before.lastSeq);
      expect(calls.map((c) => c.operation)).toEqual(
        expect.arrayContaining(['ResourceGroups_Get', 'ContainerGroups_CreateOrUpdate']),
      );
      expect(calls.find((c) => c.operation === 'ContainerGroups_CreateOrUpdate')).toMatchObject({
        method: 'PUT',
        path: `/subscriptions/${SUB}/resourcegroups/${RG}/providers/Microsoft.ContainerInstance//containerGroups/cli-file`,
        status: 201,
      });
    },
    LRO_TIMEOUT_MS,
  );

  it(
    'deletes a group: az waits for the delete, then show answers ResourceNotFound',
    async () => {
      expect((await emulatorGroups()).map((g) => g.name)).toContain('cli-file');
      const deleted = await az('container', 'delete', '--resource-group', RG, '--name', 'cli-file', '--yes');
      expect(deleted.code).toBe(0);
      expect((await emulatorGroups()).map((g) => g.name)).not.toContain('cli-file');
      const gone = await az('container', 'show', '-g', RG, '-n', 'cli-file');
      expect(gone.code).not.toBe(0);
      expect(gone.stderr).toContain('ResourceNotFound');
    },
    LRO_TIMEOUT_MS,
  );

  it('answers az group exists/show from the resource groups the emulator knows', async () => {
    expect(JSON.parse((await az('group', 'exists', '--name', RG)).stdout)).toBe(true);
    expect(JSON.parse((await az('group', 'exists', '--name', 'rg-nowhere')).stdout)).toBe(false);
    const group = await azJson<Record<string, unknown>>('group', 'show', '--name', 'rg-network');
    expect(group).toMatchObject({ name: 'rg-network', location: 'westeurope' });
    const missing = await az('group', 'show', '--name', 'rg-nowhere');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('ResourceGroupNotFound');
  });
});

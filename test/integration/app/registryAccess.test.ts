/**
 * Issue 10 parts 1 and 4 on the local stack: rollouts from network-restricted registries. ACI pulls from a registry
 * with public access disabled when the registry allows trusted services and the group pulls with a user-assigned
 * identity; when Azure would refuse the pull, the rollout fails at its preflight (step `accepted`) with the cause
 * and the fix, before any container group is created. Driven through the emulator's control API (registries,
 * network settings, pushes, faults, request log), the host's Event Grid webhook and `GET /api/status/{app}`; the
 * private endpoint read is also checked at the adapter, with the real SDK pipeline.
 */
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { DefaultAzureCredential } from '@azure/identity';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistriesAdapter } from '../../../src/adapters/registries.js';
import { NotFoundError, TransientError } from '../../../src/domain/errors.js';
import { useManagedIdentity } from '../support/emulator.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { RG, SUB, fastApp, registryId, testSubnetId } from '../support/fastApp.js';
import { sleep } from '../../support/waiting.js';

const ARM_SCOPE = 'https://management.azure.com/.default';
const endpointId = (name: string) =>
  `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/privateEndpoints/${name}`;
// A subnet of its own, so no other test file's emulator (run in parallel) hands out the same 127.x addresses.
const ACI_SUBNET = testSubnetId('regaccess-it');
const ENDPOINT_SUBNET = testSubnetId('regaccess-it', 'snet-pe');
const CREATE = 'ContainerGroups_CreateOrUpdate';

/** Registries of this file: created at the start, each closed to the public (Premium, public access Disabled). */
const TRUSTED = 'trustedreg'; // trusted services allowed (the default), a private endpoint outside the ACI subnet
const NO_BYPASS = 'nobypassreg'; // trusted services denied

function app(name: string, registry: string, o: { pullIdentity?: boolean } = {}) {
  return (kvApps: string): Record<string, unknown> =>
    fastApp(name, {
      subnetId: ACI_SUBNET,
      vaultUrl: kvApps,
      registry,
      healthTimeoutSeconds: 10,
      provisioningTimeoutSeconds: 30,
      ...(o.pullIdentity === false ? { pullIdentity: false } : {}),
    });
}

const APPS = [
  app('trusted', TRUSTED),
  app('noident', TRUSTED, { pullIdentity: false }),
  app('nobypass', NO_BYPASS),
];

interface RolloutView {
  state: string;
  step: string;
  reason: string | null;
  error: string | null;
  digest: string;
  timeline: { step: string; message: string }[];
}
interface AppStatusView {
  activeGroup: string | null;
  digest: string | null;
  rollout: RolloutView | null;
}

describe('network-restricted registries (issue 10)', () => {
  let stack: TestStack;
  let restoreIdentity: (() => void) | undefined;

  beforeAll(async () => {
    stack = await startTestStack({
      appsConfig: ({ vaultUrl }) => ({
        apps: APPS.map((a) => a(vaultUrl('kv-apps'))),
        watch: { resourceGroups: [], groups: [] },
      }),
      env: { STATUS_CACHE_SECONDS: '0' },
      subscribe: false,
    });
    restoreIdentity = useManagedIdentity(stack.emulator);
    for (const name of [TRUSTED, NO_BYPASS]) {
      const created = await stack.emulator.control('POST', '/_emulator/registries', {
        name,
        resourceGroup: 'rg-platform',
        sku: 'Premium',
      });
      expect(created.status).toBe(201);
      const sub = await stack.emulator.control('POST', '/_emulator/eventgrid/subscriptions', {
        registryName: name,
        name: `functions-onimagepushed-${name}`,
        endpointUrl: `${stack.host.baseUrl}/runtime/webhooks/eventgrid?functionName=onImagePushed&code=${stack.host.systemKey}`,
        includedEventTypes: ['Microsoft.ContainerRegistry.ImagePushed'],
      });
      expect(sub.status).toBe(200);
    }
    const network = async (name: string, body: Record<string, unknown>) =>
      expect(
        (await stack.emulator.control('POST', `/_emulator/registries/${name}/network`, body)).status,
      ).toBe(200);
    await network(TRUSTED, {
      publicNetworkAccess: 'Disabled',
      privateEndpoints: [{ name: 'pe-trustedreg', resourceGroup: 'rg-network', subnetId: ENDPOINT_SUBNET }],
    });
    await network(NO_BYPASS, { publicNetworkAccess: 'Disabled', networkRuleBypassOptions: 'None' });
  }, 120_000);

  afterAll(async () => {
    restoreIdentity?.();
    await stack?.stop();
  });

  let logMark = 0;
  beforeEach(() => {
    logMark = stack?.hostLogs.length ?? 0;
  });
  afterEach(async (ctx) => {
    await stack?.emulator.control('DELETE', '/_emulator/faults');
    if (ctx.task.result?.state === 'fail' && stack)
      console.log(
        `host log during "${ctx.task.name}":\n${stack.hostLogs.slice(logMark).slice(-60).join('\n')}`,
      );
  });

  const push = async (registry: string, repository: string, tag: string): Promise<string> => {
    const res = await stack.emulator.control<{ digest: string }>(
      'POST',
      `/_emulator/registries/${registry}/push`,
      { repository, tag },
    );
    expect(res.status).toBe(200);
    return res.body.digest;
  };

  const status = async (name: string): Promise<AppStatusView> => {
    const res = await stack.call(`/api/status/${name}`);
    expect(res.status).toBe(200);
    return (await res.json()) as AppStatusView;
  };

  /** The app's rollout of `digest` once it has an outcome. */
  const outcome = async (name: string, digest: string): Promise<RolloutView> => {
    const deadline = Date.now() + 45_000;
    let seen = 'no rollout';
    for (;;) {
      const r = (await status(name)).rollout;
      if (r) seen = `${r.state} at ${r.step}`;
      if (r?.digest === digest && r.state !== 'inProgress') return r;
      if (Date.now() > deadline)
        throw new Error(`rollout of ${name} ${digest} did not finish (last: ${seen})`);
      await sleep(250);
    }
  };

  const mark = async (): Promise<number> => (await stack.emulator.requestCounts()).lastSeq;

  /** ACI creates of the app's groups since `since`, from the emulator's request log. */
  const createsOf = async (name: string, since: number): Promise<string[]> => {
    const res = await stack.emulator.control<{ entries: { path: string }[] }>(
      'GET',
      `/_emulator/requests?since=${since}&operation=${CREATE}`,
    );
    return res.body.entries
      .map((e) => e.path)
      .filter((p) => new RegExp(`/containerGroups/${name}-(blue|green)(\\?|$)`, 'i').test(p));
  };

  const groupsOf = async (name: string): Promise<string[]> => {
    const res = await stack.emulator.control<{ value: { name: string; resourceGroup: string }[] }>(
      'GET',
      '/_emulator/containerGroups',
    );
    return res.body.value
      .filter((g) => g.resourceGroup === RG && g.name.startsWith(`${name}-`))
      .map((g) => g.name);
  };

  it('public access disabled + trusted services + pull identity: deploys, and the timeline names the path', async () => {
    const since = await mark();
    const digest = await push(TRUSTED, 'trusted', '1.0.0');
    const r = await outcome('trusted', digest);
    expect(r).toMatchObject({ state: 'succeeded', reason: null });
    const preflight = r.timeline.filter((c) => c.step === 'accepted').map((c) => c.message);
    expect(preflight.at(-1)).toBe(
      'registry trustedreg is network-restricted (public network access is Disabled); ACI pulls through the ' +
        'trusted-services exception (networkRuleBypassOptions=AzureServices) with managed identity id-acr-pull; ' +
        'private endpoint pe-trustedreg is outside the ACI subnet aci; target trusted-blue',
    );
    expect(await createsOf('trusted', since)).toHaveLength(1);
    expect((await status('trusted')).activeGroup).toBe('trusted-blue');
    // The private endpoint was read through ARM, once.
    const counts = (await stack.emulator.requestCounts(since)).counts;
    expect(counts['PrivateEndpoints_Get']).toBe(1);
  }, 60_000);

  it('a private endpoint the function may not read, and an ABAC registry: notes in the timeline, still deploys', async () => {
    const fault = await stack.emulator.control('POST', '/_emulator/faults', {
      kind: 'error',
      match: { operation: 'PrivateEndpoints_Get' },
      status: 403,
      code: 'AuthorizationFailed',
    });
    expect(fault.status).toBeLessThan(300);
    const abac = await stack.emulator.control('POST', `/_emulator/registries/${TRUSTED}/network`, {
      roleAssignmentMode: 'AbacRepositoryPermissions',
    });
    expect(abac.status).toBe(200);
    try {
      const digest = await push(TRUSTED, 'trusted', '1.1.0');
      const r = await outcome('trusted', digest);
      expect(r.state).toBe('succeeded');
      const preflight = r.timeline.filter((c) => c.step === 'accepted').map((c) => c.message);
      expect(preflight).toEqual([
        expect.stringMatching(/^rollout of 1\.1\.0 .* started/),
        "registry trustedreg uses ABAC repository permissions (roleAssignmentMode=AbacRepositoryPermissions): pull identity id-acr-pull needs 'Container Registry Repository Reader' (or Writer/Contributor) on it; AcrPull is not honoured for repository access in this mode",
        expect.stringMatching(
          /^could not read private endpoint pe-trustedreg to check that it is outside the ACI subnet aci \(private endpoint get rg-network\/pe-trustedreg: 403 AuthorizationFailed: .*\); going on without that check\. Grant the function identity Microsoft\.Network\/privateEndpoints\/read on it to have it checked$/,
        ),
        expect.stringMatching(/with managed identity id-acr-pull; target trusted-green$/),
      ]);
      expect((await status('trusted')).activeGroup).toBe('trusted-green');
    } finally {
      await stack.emulator.control('POST', `/_emulator/registries/${TRUSTED}/network`, {
        roleAssignmentMode: 'LegacyRegistryPermissions',
      });
    }
  }, 60_000);

  it('trusted services denied (networkRuleBypassOptions None): fails at the preflight with cause and fix, no group created', async () => {
    const since = await mark();
    const digest = await push(NO_BYPASS, 'nobypass', '1.0.0');
    const r = await outcome('nobypass', digest);
    expect(r).toMatchObject({ state: 'failed', step: 'accepted', reason: 'RegistryNetworkRestricted' });
    expect(r.error).toBe(
      'registry nobypassreg is network-restricted (public network access is Disabled) and ACI cannot pull from it: ' +
        "nobypassreg denies trusted services (networkRuleBypassOptions=None). Fix: enable 'Allow trusted Microsoft " +
        "services to access this container registry' (az acr update --name nobypassreg --allow-trusted-services " +
        'true), or allow public network access.',
    );
    // Decided first: the timeline goes from the start straight to the failure, and ACI saw no create.
    expect(r.timeline.map((c) => c.step)).toEqual(['accepted', 'failed']);
    expect(await createsOf('nobypass', since)).toEqual([]);
    expect(await groupsOf('nobypass')).toEqual([]);
  }, 60_000);

  it('no pull identity: fails at the preflight with cause and fix, no group created', async () => {
    const since = await mark();
    const digest = await push(TRUSTED, 'noident', '1.0.0');
    const r = await outcome('noident', digest);
    expect(r).toMatchObject({ state: 'failed', step: 'accepted', reason: 'RegistryNetworkRestricted' });
    expect(r.error).toBe(
      'registry trustedreg is network-restricted (public network access is Disabled) and ACI cannot pull from it: ' +
        'no imagePullIdentity: only a managed identity can pass the registry firewall (ACI passes it as a trusted ' +
        'Azure service authenticated with a user-assigned identity; anonymous and password pulls are refused). ' +
        'Fix: set template.imagePullIdentity to a user-assigned identity that holds AcrPull on trustedreg.',
    );
    expect(r.timeline.map((c) => c.step)).toEqual(['accepted', 'failed']);
    expect(await createsOf('noident', since)).toEqual([]);
    expect(await groupsOf('noident')).toEqual([]);
  }, 60_000);

  it('the adapter reads a private endpoint’s subnet through ARM; 404 and 403 become domain errors', async () => {
    const adapter = new RegistriesAdapter(
      (subscriptionId) =>
        new ContainerRegistryManagementClient(new DefaultAzureCredential(), subscriptionId, {
          endpoint: stack.emulator.url,
          credentials: { scopes: [ARM_SCOPE] },
        }),
      { armEndpoint: stack.emulator.url },
    );
    const registry = await adapter.get(registryId(TRUSTED));
    expect(registry).toMatchObject({
      publicNetworkAccess: 'Disabled',
      networkRuleBypassOptions: 'AzureServices',
      roleAssignmentMode: 'LegacyRegistryPermissions',
      privateEndpointIds: [endpointId('pe-trustedreg')],
      sku: 'Premium',
    });
    expect(await adapter.privateEndpointSubnet(endpointId('pe-trustedreg'))).toBe(ENDPOINT_SUBNET);

    const missing = await adapter.privateEndpointSubnet(endpointId('pe-nosuch')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);

    await stack.emulator.control('POST', '/_emulator/faults', {
      kind: 'error',
      match: { operation: 'PrivateEndpoints_Get' },
      status: 403,
      code: 'AuthorizationFailed',
    });
    const forbidden = await adapter
      .privateEndpointSubnet(endpointId('pe-trustedreg'))
      .catch((e: unknown) => e);
    // Retryable in the classification table (role assignments propagate slowly); the preflight notes it either way.
    expect(forbidden).toBeInstanceOf(TransientError);
    expect(forbidden).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
  });
});

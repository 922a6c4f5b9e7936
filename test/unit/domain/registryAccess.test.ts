/**
 * The registry preflight (src/domain/registryAccess.ts): whether ACI can pull from the app's registry, decided from
 * what ARM shows before any group is created (issue 10 parts 1 and 4). The table first, then the reads it makes,
 * then a whole rollout through the fakes.
 */
import { describe, expect, it } from 'vitest';
import { TerminalError, TransientError } from '../../../src/domain/errors.js';
import { handleImagePushed } from '../../../src/domain/onImagePushed.js';
import type { RegistryInfo } from '../../../src/domain/ports.js';
import {
  checkRegistryAccess,
  decideRegistryAccess,
  type EndpointPlacement,
  type RegistryAccess,
  type RegistryAccessFacts,
} from '../../../src/domain/registryAccess.js';
import {
  ENDPOINT_SUBNET_ID,
  IDENTITY_ID,
  LOCKED_ENDPOINT_ID,
  LOCKED_ID,
  budget,
  digestOf,
  makeConfig,
  makeWorld,
  pushEvent,
  SUBNET_ID,
  webApp,
} from '../support/fakes.js';
import { settle } from '../support/scenario.js';

const REGISTRY_ID = LOCKED_ID.replace('/locked', '/acme');

/** A registry as ARM shows a fresh Premium one: public, firewall open, trusted services allowed, legacy roles. */
function registry(overrides: Partial<RegistryInfo> = {}): RegistryInfo {
  return {
    id: REGISTRY_ID,
    name: 'acme',
    loginServer: 'acme.azurecr.io',
    publicNetworkAccess: 'Enabled',
    networkRuleSetDefaultAction: 'Allow',
    networkRuleBypassOptions: 'AzureServices',
    roleAssignmentMode: 'LegacyRegistryPermissions',
    sku: 'Premium',
    anonymousPullEnabled: false,
    ...overrides,
  };
}

const PRIVATE = { publicNetworkAccess: 'Disabled', networkRuleSetDefaultAction: 'Deny' } as const;
const ACI_ENDPOINT: EndpointPlacement = { id: LOCKED_ENDPOINT_ID, subnetId: SUBNET_ID.toUpperCase() };
const OTHER_ENDPOINT: EndpointPlacement = { id: LOCKED_ENDPOINT_ID, subnetId: ENDPOINT_SUBNET_ID };

function decide(
  r: Partial<RegistryInfo>,
  o: { identity?: string | null; endpoints?: EndpointPlacement[] } = {},
): RegistryAccess {
  const facts: RegistryAccessFacts = {
    registry: registry(r),
    aciSubnetId: SUBNET_ID,
    endpoints: o.endpoints ?? [],
  };
  const identity = o.identity === undefined ? IDENTITY_ID : o.identity;
  if (identity) facts.pullIdentity = identity;
  return decideRegistryAccess(facts);
}

function failure(a: RegistryAccess): { reason: string; message: string } {
  if (a.ok) throw new Error(`expected a refusal, got: ${a.path}`);
  return { reason: a.reason, message: a.message };
}

function path(a: RegistryAccess): string {
  if (!a.ok) throw new Error(`expected a pull path, got ${a.reason}: ${a.message}`);
  return a.path;
}

const TRUSTED_PATH =
  'ACI pulls through the trusted-services exception (networkRuleBypassOptions=AzureServices) with managed identity id-acr-pull';
const NO_IDENTITY =
  'no imagePullIdentity: only a managed identity can pass the registry firewall (ACI passes it as a trusted Azure service authenticated with a user-assigned identity; anonymous and password pulls are refused). Fix: set template.imagePullIdentity to a user-assigned identity that holds AcrPull on acme';
const DENIES_TRUSTED =
  "acme denies trusted services (networkRuleBypassOptions=None). Fix: enable 'Allow trusted Microsoft services to access this container registry' (az acr update --name acme --allow-trusted-services true), or allow public network access";
const IN_ACI_SUBNET =
  "the registry's private endpoint pe-locked sits in the ACI subnet aci. Fix: move it to a subnet that is not delegated to Microsoft.ContainerInstance/containerGroups";

describe('registry preflight: the decision table', () => {
  describe('public registry', () => {
    it('with a pull identity: pulls over the public endpoint with it', () => {
      const a = decide({});
      expect(path(a)).toBe(
        'registry acme.azurecr.io allows public network access; ACI pulls with managed identity id-acr-pull',
      );
      expect(a.notes).toEqual([]);
    });

    it('without a pull identity and without anonymous pull: refused, naming the fix', () => {
      expect(failure(decide({}, { identity: null }))).toEqual({
        reason: 'PullIdentityMissing',
        message:
          'no imagePullIdentity and registry acme does not allow anonymous pull: ACI would pull from acme.azurecr.io without credentials and be refused (401 Unauthorized). Fix: set template.imagePullIdentity to a user-assigned identity that holds AcrPull on acme.',
      });
    });

    it('without a pull identity but with anonymous pull: pulls without credentials', () => {
      expect(path(decide({ anonymousPullEnabled: true }, { identity: null }))).toBe(
        'registry acme.azurecr.io allows public network access and anonymous pull; ACI pulls without credentials',
      );
    });

    it('trusted services denied on a public registry restrict nothing', () => {
      expect(path(decide({ networkRuleBypassOptions: 'None' }))).toMatch(/allows public network access/);
    });

    it('a firewall default of Deny restricts only a Premium registry (network rules are a Premium feature)', () => {
      const basic = decide(
        { sku: 'Basic', networkRuleSetDefaultAction: 'Deny', networkRuleBypassOptions: 'None' },
        { identity: null, endpoints: [] },
      );
      expect(failure(basic).reason).toBe('PullIdentityMissing');
      expect(failure(basic).message).not.toMatch(/network-restricted/);
      const premium = decide({ networkRuleSetDefaultAction: 'Deny', networkRuleBypassOptions: 'None' });
      expect(failure(premium).message).toBe(
        `registry acme is network-restricted (its firewall denies by default (networkRuleSet.defaultAction=Deny)) and ACI cannot pull from it: ${DENIES_TRUSTED}.`,
      );
    });
  });

  describe('network-restricted registry', () => {
    it.each([
      ['public access Disabled', { publicNetworkAccess: 'Disabled' }, 'public network access is Disabled'],
      [
        'firewall Deny',
        { networkRuleSetDefaultAction: 'Deny' },
        'its firewall denies by default (networkRuleSet.defaultAction=Deny)',
      ],
      [
        'both',
        PRIVATE,
        'public network access is Disabled; its firewall denies by default (networkRuleSet.defaultAction=Deny)',
      ],
    ])(
      '%s + trusted services + pull identity: pulls through the trusted-services exception',
      (_, r, what) => {
        expect(path(decide(r))).toBe(`registry acme is network-restricted (${what}); ${TRUSTED_PATH}`);
      },
    );

    it('says which private endpoints it checked are outside the ACI subnet', () => {
      expect(path(decide(PRIVATE, { endpoints: [OTHER_ENDPOINT] }))).toBe(
        `registry acme is network-restricted (public network access is Disabled; its firewall denies by default (networkRuleSet.defaultAction=Deny)); ${TRUSTED_PATH}; private endpoint pe-locked is outside the ACI subnet aci`,
      );
    });

    it('trusted services not shown by ARM (older api-version): the default, AzureServices, applies', () => {
      const { networkRuleBypassOptions: _, ...r } = registry(PRIVATE);
      const a = decideRegistryAccess({
        registry: r,
        aciSubnetId: SUBNET_ID,
        pullIdentity: IDENTITY_ID,
        endpoints: [],
      });
      expect(path(a)).toContain('networkRuleBypassOptions=AzureServices, the default');
    });

    it('trusted services denied: refused with the cause and the fix', () => {
      expect(failure(decide({ ...PRIVATE, networkRuleBypassOptions: 'None' }))).toEqual({
        reason: 'RegistryNetworkRestricted',
        message: `registry acme is network-restricted (public network access is Disabled; its firewall denies by default (networkRuleSet.defaultAction=Deny)) and ACI cannot pull from it: ${DENIES_TRUSTED}.`,
      });
    });

    it('no pull identity: refused, even when anonymous pull is on (it does not pass the firewall)', () => {
      for (const anonymousPullEnabled of [false, true]) {
        expect(failure(decide({ ...PRIVATE, anonymousPullEnabled }, { identity: null }))).toEqual({
          reason: 'RegistryNetworkRestricted',
          message: `registry acme is network-restricted (public network access is Disabled; its firewall denies by default (networkRuleSet.defaultAction=Deny)) and ACI cannot pull from it: ${NO_IDENTITY}.`,
        });
      }
    });

    it('private endpoint in the ACI subnet (ids compared case-insensitively): refused, move it', () => {
      expect(failure(decide(PRIVATE, { endpoints: [ACI_ENDPOINT] })).message).toBe(
        `registry acme is network-restricted (public network access is Disabled; its firewall denies by default (networkRuleSet.defaultAction=Deny)) and ACI cannot pull from it: ${IN_ACI_SUBNET}.`,
      );
    });

    it('every cause at once, in one message', () => {
      const f = failure(
        decide(
          { ...PRIVATE, networkRuleBypassOptions: 'None' },
          { identity: null, endpoints: [ACI_ENDPOINT] },
        ),
      );
      expect(f.reason).toBe('RegistryNetworkRestricted');
      expect(f.message).toBe(
        `registry acme is network-restricted (public network access is Disabled; its firewall denies by default (networkRuleSet.defaultAction=Deny)) and ACI cannot pull from it: ${NO_IDENTITY}; ${DENIES_TRUSTED}; ${IN_ACI_SUBNET}.`,
      );
    });

    it('a private endpoint that could not be read: a note naming why and what to grant, and the pull goes on', () => {
      const a = decide(PRIVATE, {
        endpoints: [{ id: LOCKED_ENDPOINT_ID, unreadable: '403 AuthorizationFailed: no read permission' }],
      });
      expect(path(a)).toBe(
        `registry acme is network-restricted (public network access is Disabled; its firewall denies by default (networkRuleSet.defaultAction=Deny)); ${TRUSTED_PATH}`,
      );
      expect(a.notes).toEqual([
        'could not read private endpoint pe-locked to check that it is outside the ACI subnet aci (403 AuthorizationFailed: no read permission); going on without that check. Grant the function identity Microsoft.Network/privateEndpoints/read on it to have it checked',
      ]);
    });
  });

  describe('registry roles (roleAssignmentMode)', () => {
    const abac = { roleAssignmentMode: 'AbacRepositoryPermissions' } as const;

    it('ABAC mode: a note names the role the pull identity needs instead of AcrPull', () => {
      for (const r of [abac, { ...abac, ...PRIVATE }]) {
        const a = decide(r);
        expect(a.ok).toBe(true);
        expect(a.notes).toEqual([
          "registry acme uses ABAC repository permissions (roleAssignmentMode=AbacRepositoryPermissions): pull identity id-acr-pull needs 'Container Registry Repository Reader' (or Writer/Contributor) on it; AcrPull is not honoured for repository access in this mode",
        ]);
      }
    });

    it('legacy mode: no note', () => {
      expect(decide({}).notes).toEqual([]);
      expect(decide(PRIVATE).notes).toEqual([]);
    });

    it('the fix for a missing identity names the role the mode needs, or both when ARM does not say', () => {
      expect(failure(decide(abac, { identity: null })).message).toContain(
        "a user-assigned identity that holds 'Container Registry Repository Reader' on acme",
      );
      expect(failure(decide({}, { identity: null })).message).toContain(
        'a user-assigned identity that holds AcrPull on acme',
      );
      const { roleAssignmentMode: _, ...unknownMode } = registry();
      const a = decideRegistryAccess({ registry: unknownMode, aciSubnetId: SUBNET_ID, endpoints: [] });
      expect(failure(a).message).toContain(
        "a user-assigned identity that holds AcrPull ('Container Registry Repository Reader' if the registry uses ABAC repository permissions) on acme",
      );
    });
  });
});

describe('registry preflight: what it reads', () => {
  const app = () => makeConfig([webApp({ registry: { resourceId: LOCKED_ID } })]).apps[0]!;

  it('reads the subnets of a restricted registry’s private endpoints, and nothing for a public registry', async () => {
    const w = makeWorld();
    const locked = await w.registries.get(LOCKED_ID);
    const a = await checkRegistryAccess(w.registries, app(), locked);
    expect(w.registries.endpointReads).toBe(1);
    expect(path(a)).toContain('private endpoint pe-locked is outside the ACI subnet aci');

    const open = await w.registries.get(LOCKED_ID);
    open.publicNetworkAccess = 'Enabled';
    open.networkRuleSetDefaultAction = 'Allow';
    await checkRegistryAccess(w.registries, app(), open);
    expect(w.registries.endpointReads).toBe(1);
  });

  it('an endpoint in the ACI subnet, as read through the port, refuses the pull', async () => {
    const w = makeWorld();
    w.registries.endpointSubnets.set(LOCKED_ENDPOINT_ID.toLowerCase(), SUBNET_ID);
    const a = await checkRegistryAccess(w.registries, app(), await w.registries.get(LOCKED_ID));
    expect(failure(a).message).toContain(
      "the registry's private endpoint pe-locked sits in the ACI subnet aci",
    );
  });

  it.each([
    [
      'forbidden',
      new TransientError(
        "private endpoint get rg-platform/pe-locked: 403 AuthorizationFailed: no 'Microsoft.Network/privateEndpoints/read'",
        { statusCode: 403, code: 'AuthorizationFailed' },
      ),
      "403 AuthorizationFailed: no 'Microsoft.Network/privateEndpoints/read'",
    ],
    [
      'gone',
      new TerminalError('private endpoint get rg-platform/pe-locked: 404 ResourceNotFound: gone', {
        statusCode: 404,
        code: 'ResourceNotFound',
      }),
      '404 ResourceNotFound: gone',
    ],
    [
      'busy',
      new TransientError('private endpoint get rg-platform/pe-locked: 503: busy', { statusCode: 503 }),
      '503: busy',
    ],
  ])(
    'an endpoint read that fails (%s) becomes a note; the decision still allows the pull',
    async (_, err, text) => {
      const w = makeWorld();
      w.registries.endpointSubnets.set(LOCKED_ENDPOINT_ID.toLowerCase(), err);
      const a = await checkRegistryAccess(w.registries, app(), await w.registries.get(LOCKED_ID));
      expect(a.ok).toBe(true);
      expect(a.notes).toHaveLength(1);
      expect(a.notes[0]).toContain('could not read private endpoint pe-locked');
      expect(a.notes[0]).toContain(text);
    },
  );
});

describe('registry preflight in a rollout', () => {
  const lockedPush = () =>
    pushEvent({ tag: '1.0.0', digest: digestOf(1), topic: LOCKED_ID, host: 'locked.azurecr.io' });

  it('a restricted registry with trusted services and a pull identity deploys; the timeline names the path', async () => {
    const w = makeWorld(makeConfig([webApp({ registry: { resourceId: LOCKED_ID } })]));
    w.registries.endpointSubnets.set(
      LOCKED_ENDPOINT_ID.toLowerCase(),
      new TransientError('private endpoint get rg-platform/pe-locked: 403 AuthorizationFailed: denied', {
        statusCode: 403,
        code: 'AuthorizationFailed',
      }),
    );
    await handleImagePushed(lockedPush(), w.deps, budget(w, 20));
    await settle(w);
    const s = w.store.state('web')!;
    expect(s.rollout!.state).toBe('succeeded');
    expect(s.active).toMatchObject({ group: 'web-blue' });
    const accepted = s.rollout!.timeline.filter((c) => c.step === 'accepted').map((c) => c.message);
    expect(accepted).toEqual([
      expect.stringMatching(/^rollout of 1\.0\.0 .* started/),
      expect.stringContaining('could not read private endpoint pe-locked'),
      expect.stringContaining(`${TRUSTED_PATH}; target web-blue`),
    ]);
  });

  it('refused at the preflight: failed at step accepted, nothing created', async () => {
    const w = makeWorld(makeConfig([webApp({ registry: { resourceId: LOCKED_ID } })]));
    w.registries.registries.get(LOCKED_ID.toLowerCase())!.networkRuleBypassOptions = 'None';
    await handleImagePushed(lockedPush(), w.deps, budget(w, 20));
    await settle(w);
    const r = w.store.state('web')!.rollout!;
    expect(r).toMatchObject({ state: 'failed', step: 'accepted' });
    expect(r.error).toMatchObject({ step: 'accepted', reason: 'RegistryNetworkRestricted' });
    expect(r.timeline.map((c) => c.step)).toEqual(['accepted', 'failed']);
    expect(w.groups.calls.create).toBe(0);
    expect(w.groups.names()).toEqual([]);
  });
});

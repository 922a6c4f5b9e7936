/**
 * What `azd provision` would ask Azure to create, read from `bicep snapshot` of infra/main.bicep (see infraBicep.ts):
 * the resource set, every role assignment with its resolved scope, principal and role, the app settings against
 * src/config, the network (NAT gateway always on) and the registry in each network mode.
 */
import { beforeAll, expect, it } from 'vitest';
import { APP_SETTING_NAMES } from '../../../src/config/settings.js';
import {
  BUILT_IN_ROLES,
  LOCATION,
  SUBSCRIPTION_ID,
  describeWithBicep,
  onlyResource,
  resolveRoleAssignment,
  resourcesOfType,
  snapshotOf,
  snapshotScenarios,
  type Scenario,
  type Snapshot,
  type SnapshotOutcome,
} from './infraBicep.js';

/** Custom roles: exactly these actions (no wildcards, no data actions), keyed by roleName up to " (". */
const CUSTOM_ROLES: Record<string, string[]> = {
  'ACI blue/green operator': [
    'Microsoft.ContainerInstance/containerGroups/delete',
    'Microsoft.ContainerInstance/containerGroups/read',
    'Microsoft.ContainerInstance/containerGroups/restart/action',
    'Microsoft.ContainerInstance/containerGroups/start/action',
    'Microsoft.ContainerInstance/containerGroups/stop/action',
    'Microsoft.ContainerInstance/containerGroups/write',
    'Microsoft.Resources/subscriptions/resourceGroups/read',
  ],
  'ACI blue/green watcher': [
    'Microsoft.ContainerInstance/containerGroups/read',
    'Microsoft.Resources/subscriptions/resourceGroups/read',
  ],
  'ACI blue/green subnet and identity join': [
    'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
    'Microsoft.Network/virtualNetworks/subnets/join/action',
  ],
  'ACI blue/green registry reader': ['Microsoft.ContainerRegistry/registries/read'],
};

/** Settings the code lists that Azure deliberately does not set, with the reason. */
const NOT_SET_IN_AZURE: Record<string, string> = {
  AzureWebJobsStorage:
    'connection string for local runs (Azurite); Azure uses the identity-based AzureWebJobsStorage__* settings',
  ACR_ENDPOINT_TEMPLATE:
    "where a registry's REST API answers; the default, https://{loginServer}, is Azure's (set only for the emulator)",
  DEPLOY_FREEZE:
    'an operator sets it when needed (az functionapp config appsettings set); a Bicep value would lift a freeze on every provision',
};

/** Settings the Functions platform reads (not src/config). */
const PLATFORM_SETTINGS = [
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
];

/** Flex Consumption rejects or ignores these (runtime and deployment live in functionAppConfig). */
const FLEX_DEPRECATED_SETTINGS = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD',
];

const appTemplate = (name: string) => ({
  name,
  repository: name,
  tagPolicy: { type: 'semver', range: '>=1.0.0' },
  template: { containers: [{ name, cpu: 0.5, memoryInGB: 1, ports: [8080] }] },
  health: { port: 8080, path: '/healthz' },
  secret: { name: `${name}-ip` },
});

/** Apps in the ACI resource group and in one more (web with a DNS name), plus watched groups elsewhere. */
const APPS_FILE = {
  apps: [
    { ...appTemplate('web'), dns: { ttlSeconds: 20 } },
    { ...appTemplate('api'), resourceGroup: 'rg-api' },
  ],
  watch: {
    resourceGroups: ['rg-legacy'],
    groups: [{ resourceGroup: 'rg-batch', name: 'worker', secretName: 'worker-ip' }],
  },
};

const NOTIFY_TOPIC = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-events/providers/Microsoft.EventGrid/topics/rollouts`;
/** A Private DNS zone in a shared DNS subscription, already linked to the VNet. */
const EXISTING_DNS_ZONE =
  '/subscriptions/00000000-0000-0000-0000-000000000009/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/corp.internal';
const EXISTING_REGISTRY =
  '/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-shared/providers/Microsoft.ContainerRegistry/registries/contoso';

/** What the postdeploy hook's second provision runs with, and every optional setting on. */
const SECOND_PROVISION = {
  assignCustomRoles: true,
  deployEventSubscription: true,
  notifyTopicResourceId: NOTIFY_TOPIC,
  reconcileRolloutSliceSeconds: 30,
};

const SCENARIOS = {
  firstProvision: {},
  secondProvision: { params: SECOND_PROVISION, appsFile: APPS_FILE },
  firewall: {
    params: {
      ...SECOND_PROVISION,
      registryNetworkMode: 'firewall',
      registryAllowedIpRanges: '203.0.113.0/24, 198.51.100.7',
    },
  },
  private: { params: { ...SECOND_PROVISION, registryNetworkMode: 'private' } },
  abac: { params: { ...SECOND_PROVISION, registryRoleAssignmentMode: 'AbacRepositoryPermissions' } },
  existingRegistry: { params: { ...SECOND_PROVISION, existingRegistryResourceId: EXISTING_REGISTRY } },
  existingDnsZone: {
    params: { existingAppsDnsZoneResourceId: EXISTING_DNS_ZONE, linkExistingAppsDnsZone: false },
  },
  firewallOnBasic: {
    params: { registryNetworkMode: 'firewall', registrySku: 'Basic', registryAllowedIpRanges: '203.0.113.7' },
  },
  firewallWithoutRanges: { params: { registryNetworkMode: 'firewall' } },
  existingRegistryMadePrivate: {
    params: { existingRegistryResourceId: EXISTING_REGISTRY, registryNetworkMode: 'private' },
  },
} satisfies Record<string, Scenario>;

type ScenarioName = keyof typeof SCENARIOS;

describeWithBicep('infrastructure as deployed (bicep snapshot of infra/main.bicep)', (bicepPath) => {
  let outcomes: Record<ScenarioName, SnapshotOutcome>;
  const snap = (name: ScenarioName): Snapshot => snapshotOf(outcomes[name]);

  beforeAll(async () => {
    outcomes = await snapshotScenarios(bicepPath, SCENARIOS);
  }, 300_000);

  const rg = (name: string) => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${name}`;
  /** The uniqueString token azd-style names end with (read off the storage account, "st{token}"). */
  const tokenOf = (s: Snapshot) => onlyResource(s, 'Microsoft.Storage/storageAccounts').name.slice(2);

  const roleName = (s: Snapshot, role: string): string => {
    if (BUILT_IN_ROLES[role]) return BUILT_IN_ROLES[role];
    const definition = resourcesOfType(s, 'Microsoft.Authorization/roleDefinitions').find(
      (d) => d.name === role,
    );
    if (!definition) return `(expression) ${role}`;
    return String(definition.properties?.roleName).replace(/ \(.*$/, '');
  };

  /** Every assignment as "role | scope | principal identity name", sorted. */
  const assignmentTable = (s: Snapshot): string[] =>
    resourcesOfType(s, 'Microsoft.Authorization/roleAssignments')
      .map(resolveRoleAssignment)
      .map((a) => `${roleName(s, a.role)} | ${a.scope} | ${a.principalIdentity.split('/').at(-1)}`)
      .sort();

  it('creates the expected resources on the first provision, with the NAT gateway and no custom role assignment', () => {
    const s = snap('firstProvision');
    const counts: Record<string, number> = {};
    for (const r of s.predictedResources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    expect(counts).toEqual({
      'Microsoft.Resources/resourceGroups': 2,
      'Microsoft.ManagedIdentity/userAssignedIdentities': 2,
      'Microsoft.Network/publicIPAddresses': 1,
      'Microsoft.Network/natGateways': 1,
      'Microsoft.Network/virtualNetworks': 1,
      // The apps' names: apps.internal, linked to the VNet.
      'Microsoft.Network/privateDnsZones': 1,
      'Microsoft.Network/privateDnsZones/virtualNetworkLinks': 1,
      'Microsoft.Storage/storageAccounts': 1,
      'Microsoft.Storage/storageAccounts/blobServices': 1,
      'Microsoft.Storage/storageAccounts/blobServices/containers': 1,
      'Microsoft.Storage/storageAccounts/tableServices': 1,
      'Microsoft.Storage/storageAccounts/tableServices/tables': 1,
      'Microsoft.OperationalInsights/workspaces': 1,
      'Microsoft.Insights/components': 1,
      'Microsoft.KeyVault/vaults': 1,
      'Microsoft.ContainerRegistry/registries': 1,
      // Defined now, assigned by the second provision (RoleDefinitionDoesNotExist race).
      'Microsoft.Authorization/roleDefinitions': 3,
      // Built-in roles only: storage blob + table, vault, App Insights; the registry data role for both identities;
      // Private DNS Zone Contributor on the apps' zone.
      'Microsoft.Authorization/roleAssignments': 7,
      'Microsoft.Web/serverfarms': 1,
      'Microsoft.Web/sites': 1,
      'Microsoft.Web/sites/config': 1,
      'Microsoft.EventGrid/systemTopics': 1,
    });
    const builtInOnly = resourcesOfType(s, 'Microsoft.Authorization/roleAssignments')
      .map(resolveRoleAssignment)
      .filter((a) => !BUILT_IN_ROLES[a.role]);
    expect(builtInOnly).toEqual([]);
    expect(s.outputs.EVENT_SUBSCRIPTION_DEPLOYED).toBe(false);
  });

  it('assigns exactly the documented roles on the second provision, with resolved scopes and principals', () => {
    const s = snap('secondProvision');
    const token = tokenOf(s);
    const main = rg('rg-dev');
    const registry = `${main}/providers/Microsoft.ContainerRegistry/registries/cr${token}`;
    const fn = `id-api-${token}`;
    const pull = `id-acr-pull-${token}`;
    expect(assignmentTable(s)).toEqual(
      [
        `Storage Blob Data Owner | ${main}/providers/Microsoft.Storage/storageAccounts/st${token} | ${fn}`,
        `Storage Table Data Contributor | ${main}/providers/Microsoft.Storage/storageAccounts/st${token} | ${fn}`,
        `Key Vault Secrets Officer | ${main}/providers/Microsoft.KeyVault/vaults/kv-${token} | ${fn}`,
        `Private DNS Zone Contributor | ${main}/providers/Microsoft.Network/privateDnsZones/apps.internal | ${fn}`,
        `Monitoring Metrics Publisher | ${main}/providers/Microsoft.Insights/components/appi-${token} | ${fn}`,
        `ACI blue/green subnet and identity join | ${main}/providers/Microsoft.Network/virtualNetworks/vnet-${token}/subnets/snet-aci | ${fn}`,
        `ACI blue/green subnet and identity join | ${main}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${pull} | ${fn}`,
        `ACI blue/green operator | ${rg('rg-dev-aci')} | ${fn}`,
        `ACI blue/green operator | ${rg('rg-api')} | ${fn}`,
        `ACI blue/green watcher | ${rg('rg-legacy')} | ${fn}`,
        `ACI blue/green watcher | ${rg('rg-batch')} | ${fn}`,
        `ACI blue/green registry reader | ${registry} | ${fn}`,
        `AcrPull | ${registry} | ${fn}`,
        `AcrPull | ${registry} | ${pull}`,
        `EventGrid Data Sender | ${NOTIFY_TOPIC} | ${fn}`,
      ].sort(),
    );
    for (const assignment of resourcesOfType(s, 'Microsoft.Authorization/roleAssignments'))
      expect(resolveRoleAssignment(assignment).principalType).toBe('ServicePrincipal');
  });

  it('refuses an assignment whose name is not guid(scope, principal, role) (the resolver can fail)', () => {
    const s = snap('secondProvision');
    const [first] = resourcesOfType(s, 'Microsoft.Authorization/roleAssignments');
    expect(() => resolveRoleAssignment({ ...first!, name: "[guid('x')]" })).toThrow(/not guid/);
    expect(() =>
      resolveRoleAssignment({ ...first!, properties: { ...first!.properties, principalId: 'someone-else' } }),
    ).toThrow(/principal/);
  });

  it('grants custom roles exactly the needed actions, each assignable only in its own resource group', () => {
    const s = snap('secondProvision');
    const definitions = resourcesOfType(s, 'Microsoft.Authorization/roleDefinitions');
    const actual: Record<string, string[]> = {};
    for (const d of definitions) {
      const props = d.properties as {
        roleName: string;
        type: string;
        assignableScopes: string[];
        permissions: Array<{ actions: string[]; notActions: string[]; dataActions?: string[] }>;
      };
      expect(props.type).toBe('CustomRole');
      // The definition's id is /subscriptions/{s}/resourceGroups/{rg}/providers/...: assignable only there.
      expect(props.assignableScopes).toEqual([
        d.id.replace(/\/providers\/Microsoft\.Authorization\/.*$/, ''),
      ]);
      expect(props.permissions).toHaveLength(1);
      expect(props.permissions[0]!.notActions).toEqual([]);
      expect(props.permissions[0]!.dataActions ?? []).toEqual([]);
      expect(props.permissions[0]!.actions.filter((a) => a.includes('*'))).toEqual([]);
      actual[props.roleName.replace(/ \(.*$/, '')] = [...props.permissions[0]!.actions].sort();
    }
    expect(actual).toEqual(CUSTOM_ROLES);
    // One definition per resource group where it is assigned: operator in rg-dev-aci and rg-api, watcher in
    // rg-legacy and rg-batch, join in rg-dev, registry reader in the registry's group.
    expect(definitions.map((d) => d.id.split('/')[4]).sort()).toEqual(
      ['rg-api', 'rg-batch', 'rg-dev', 'rg-dev', 'rg-dev-aci', 'rg-legacy'].sort(),
    );
  });

  it('sets every app setting src/config reads, and nothing else, once all options are on', () => {
    const settings = Object.keys(
      onlyResource(snap('secondProvision'), 'Microsoft.Web/sites/config').properties!,
    );
    const expected = [
      ...APP_SETTING_NAMES.map((s) => s.name).filter((name) => !(name in NOT_SET_IN_AZURE)),
      ...PLATFORM_SETTINGS,
      // Identity-based host storage (the Functions host reads these, not src/config).
      'AzureWebJobsStorage__accountName',
      'AzureWebJobsStorage__credential',
      'AzureWebJobsStorage__clientId',
    ];
    expect(settings.sort()).toEqual([...new Set(expected)].sort());
    for (const name of Object.keys(NOT_SET_IN_AZURE))
      expect(APP_SETTING_NAMES.find((s) => s.name === name)?.required, name).toBe(false);
  });

  it('sets the required app settings with default parameters too, and none that Flex Consumption rejects', () => {
    for (const scenario of ['firstProvision', 'secondProvision'] as const) {
      const config = onlyResource(snap(scenario), 'Microsoft.Web/sites/config').properties!;
      for (const { name } of APP_SETTING_NAMES.filter((s) => s.required))
        expect(Object.keys(config), `${scenario}: ${name}`).toContain(name);
      expect(Object.keys(config).filter((s) => FLEX_DEPRECATED_SETTINGS.includes(s))).toEqual([]);
    }
    const first = onlyResource(snap('firstProvision'), 'Microsoft.Web/sites/config').properties!;
    expect(first.NOTIFY_TOPIC_ENDPOINT).toBeUndefined();
    expect(first.AzureWebJobsStorage__credential).toBe('managedidentity');
    expect(first.AZURE_SUBSCRIPTION_ID).toBe(SUBSCRIPTION_ID);
    expect(first.AzureWebJobsStorage).toBeUndefined();
  });

  it('runs the function on Flex Consumption with Node, VNet integration and its user-assigned identity', () => {
    const s = snap('firstProvision');
    const token = tokenOf(s);
    expect(onlyResource(s, 'Microsoft.Web/serverfarms').sku).toEqual({
      tier: 'FlexConsumption',
      name: 'FC1',
    });
    const site = onlyResource(s, 'Microsoft.Web/sites');
    expect(site.kind).toBe('functionapp,linux');
    expect(site.tags?.['azd-service-name']).toBe('api');
    expect(site.identity).toEqual({
      type: 'UserAssigned',
      userAssignedIdentities: {
        [`${rg('rg-dev')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-api-${token}`]: {},
      },
    });
    const props = site.properties as {
      virtualNetworkSubnetId: string;
      functionAppConfig: { runtime: { name: string; version: string }; deployment: { storage: unknown } };
    };
    expect(props.virtualNetworkSubnetId).toBe(
      `${rg('rg-dev')}/providers/Microsoft.Network/virtualNetworks/vnet-${token}/subnets/snet-function`,
    );
    expect(props.functionAppConfig.runtime).toEqual({ name: 'node', version: '22' });
    expect(props.functionAppConfig.deployment.storage).toMatchObject({
      type: 'blobContainer',
      authentication: {
        type: 'UserAssignedIdentity',
        userAssignedIdentityResourceId: `${rg('rg-dev')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-api-${token}`,
      },
    });
  });

  it('uses Entra ID only: vault in RBAC mode, no storage keys, no App Insights local auth, no registry admin user', () => {
    const s = snap('firstProvision');
    expect(onlyResource(s, 'Microsoft.KeyVault/vaults').properties?.enableRbacAuthorization).toBe(true);
    expect(onlyResource(s, 'Microsoft.Storage/storageAccounts').properties?.allowSharedKeyAccess).toBe(false);
    expect(onlyResource(s, 'Microsoft.Insights/components').properties?.DisableLocalAuth).toBe(true);
    const registry = onlyResource(s, 'Microsoft.ContainerRegistry/registries').properties;
    expect(registry?.adminUserEnabled).toBe(false);
    expect(registry?.anonymousPullEnabled).toBe(false);
  });

  it('routes both subnets through the NAT gateway in every scenario (ACI in a VNet supports no other egress)', () => {
    for (const scenario of ['firstProvision', 'secondProvision', 'firewall', 'private'] as const) {
      const s = snap(scenario);
      const natId = onlyResource(s, 'Microsoft.Network/natGateways').id;
      const vnet = onlyResource(s, 'Microsoft.Network/virtualNetworks');
      const subnets = (
        vnet.properties as { subnets: Array<{ name: string; properties: Record<string, unknown> }> }
      ).subnets;
      const bySubnet = Object.fromEntries(subnets.map((sn) => [sn.name, sn.properties]));
      for (const [name, delegation] of [
        ['snet-function', 'Microsoft.App/environments'],
        ['snet-aci', 'Microsoft.ContainerInstance/containerGroups'],
      ] as const) {
        expect(bySubnet[name]?.natGateway, `${scenario} ${name}`).toEqual({ id: natId });
        expect(bySubnet[name]?.defaultOutboundAccess).toBe(false);
        expect(
          (bySubnet[name]?.delegations as Array<{ properties: { serviceName: string } }>)[0]?.properties,
        ).toEqual({ serviceName: delegation });
      }
      expect(subnets.map((sn) => sn.name)).toEqual(
        scenario === 'private'
          ? ['snet-function', 'snet-aci', 'snet-registry-endpoint']
          : ['snet-function', 'snet-aci'],
      );
    }
  });

  it('public mode: a Basic registry open to the internet, Entra ID required, trusted services allowed', () => {
    const s = snap('secondProvision');
    expect(onlyResource(s, 'Microsoft.ContainerRegistry/registries')).toMatchObject({
      sku: { name: 'Basic' },
      properties: {
        publicNetworkAccess: 'Enabled',
        networkRuleBypassOptions: 'AzureServices',
        networkRuleSet: null,
        roleAssignmentMode: 'LegacyRegistryPermissions',
      },
    });
    expect(resourcesOfType(s, 'Microsoft.Network/privateEndpoints')).toEqual([]);
    // Only the apps' zone: no privatelink zone for the registry.
    expect(resourcesOfType(s, 'Microsoft.Network/privateDnsZones').map((z) => z.name)).toEqual([
      'apps.internal',
    ]);
    expect(s.outputs.AZURE_REGISTRY_NETWORK_MODE).toBe('public');
  });

  it("firewall mode: Premium, default action Deny, the given ranges and the function's NAT address allowed, trusted services allowed", () => {
    const s = snap('firewall');
    const natIp = onlyResource(s, 'Microsoft.Network/publicIPAddresses');
    expect(onlyResource(s, 'Microsoft.ContainerRegistry/registries')).toMatchObject({
      sku: { name: 'Premium' },
      properties: {
        publicNetworkAccess: 'Enabled',
        networkRuleBypassOptions: 'AzureServices',
        networkRuleSet: {
          defaultAction: 'Deny',
          ipRules: [
            { action: 'Allow', value: '203.0.113.0/24' },
            { action: 'Allow', value: '198.51.100.7' },
            // The function's egress (manifest reads over the data plane): Functions is not a trusted service.
            { action: 'Allow', value: `[reference('${natIp.id}', '2024-05-01').ipAddress]` },
          ],
        },
      },
    });
    expect(resourcesOfType(s, 'Microsoft.Network/privateEndpoints')).toEqual([]);
    expect(s.outputs.AZURE_REGISTRY_NETWORK_MODE).toBe('firewall');
  });

  it('private mode: public access off, a private endpoint in its own subnet (not the ACI one), the zone linked to the VNet', () => {
    const s = snap('private');
    const token = tokenOf(s);
    const vnetId = onlyResource(s, 'Microsoft.Network/virtualNetworks').id;
    const registry = onlyResource(s, 'Microsoft.ContainerRegistry/registries');
    expect(registry).toMatchObject({
      sku: { name: 'Premium' },
      properties: {
        publicNetworkAccess: 'Disabled',
        networkRuleBypassOptions: 'AzureServices',
        networkRuleSet: { defaultAction: 'Deny', ipRules: [] },
      },
    });
    const endpoint = onlyResource(s, 'Microsoft.Network/privateEndpoints');
    expect(endpoint.name).toBe(`pep-cr${token}`);
    expect(endpoint.properties).toEqual({
      subnet: { id: `${vnetId}/subnets/snet-registry-endpoint` },
      privateLinkServiceConnections: [
        { name: `cr${token}`, properties: { privateLinkServiceId: registry.id, groupIds: ['registry'] } },
      ],
    });
    // The zone name follows the cloud's ACR suffix (environment() is only known in Azure): in the public cloud
    // suffixes.acrLoginServer is ".azurecr.io", so the zone is privatelink.azurecr.io. (The other zone is the apps'.)
    const privatelink = "[format('privatelink{0}', environment().suffixes.acrLoginServer)]";
    const zones = resourcesOfType(s, 'Microsoft.Network/privateDnsZones');
    expect(zones.map((z) => z.name).sort()).toEqual(['apps.internal', privatelink].sort());
    const zone = zones.find((z) => z.name === privatelink)!;
    expect(zone.location).toBe('global');
    const link = resourcesOfType(s, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks').find(
      (l) => !l.id.includes('/privateDnsZones/apps.internal/'),
    );
    expect(link?.properties).toEqual({ virtualNetwork: { id: vnetId }, registrationEnabled: false });
    const zoneGroup = onlyResource(s, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups');
    expect(zoneGroup.properties).toEqual({
      privateDnsZoneConfigs: [{ name: 'registry', properties: { privateDnsZoneId: zone.id } }],
    });
    expect(s.outputs.AZURE_REGISTRY_NETWORK_MODE).toBe('private');
    // The function may read this endpoint (and nothing else of the network): the registry preflight checks its subnet.
    expect(assignmentTable(s).filter((row) => row.includes(endpoint.id))).toEqual([
      `Reader | ${endpoint.id} | id-api-${token}`,
    ]);
    expect(assignmentTable(snap('firewall')).some((row) => row.startsWith('Reader |'))).toBe(false);
  });

  it('gives the pull identity and the function read access to the registry in every network mode', () => {
    for (const scenario of ['secondProvision', 'firewall', 'private'] as const) {
      const s = snap(scenario);
      const token = tokenOf(s);
      const registry = onlyResource(s, 'Microsoft.ContainerRegistry/registries').id;
      const dataRoles = resourcesOfType(s, 'Microsoft.Authorization/roleAssignments')
        .map(resolveRoleAssignment)
        .filter((a) => a.scope === registry && BUILT_IN_ROLES[a.role])
        .map((a) => `${BUILT_IN_ROLES[a.role]} ${a.principalIdentity.split('/').at(-1)}`)
        .sort();
      expect(dataRoles, scenario).toEqual([`AcrPull id-acr-pull-${token}`, `AcrPull id-api-${token}`]);
    }
  });

  it('ABAC registries: Container Registry Repository Reader instead of AcrPull, for both identities', () => {
    const s = snap('abac');
    const token = tokenOf(s);
    const registry = onlyResource(s, 'Microsoft.ContainerRegistry/registries');
    expect(registry.properties?.roleAssignmentMode).toBe('AbacRepositoryPermissions');
    const onRegistry = resourcesOfType(s, 'Microsoft.Authorization/roleAssignments')
      .map(resolveRoleAssignment)
      .filter((a) => a.scope === registry.id && BUILT_IN_ROLES[a.role])
      .map((a) => `${BUILT_IN_ROLES[a.role]} ${a.principalIdentity.split('/').at(-1)}`)
      .sort();
    expect(onRegistry).toEqual([
      `Container Registry Repository Reader id-acr-pull-${token}`,
      `Container Registry Repository Reader id-api-${token}`,
    ]);
  });

  it('a registry you bring: nothing created for it, roles and the system topic in its group, the data role read from its mode', () => {
    const s = snap('existingRegistry');
    expect(resourcesOfType(s, 'Microsoft.ContainerRegistry/registries')).toEqual([]);
    const topic = onlyResource(s, 'Microsoft.EventGrid/systemTopics');
    expect(topic.id).toBe(
      '/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-shared/providers/Microsoft.EventGrid/systemTopics/evgt-contoso',
    );
    expect(topic.properties).toEqual({
      source: EXISTING_REGISTRY,
      topicType: 'Microsoft.ContainerRegistry.Registries',
    });
    // A system topic shares its source's location, known only at deployment time.
    expect(topic.location).toBe(`[reference('${EXISTING_REGISTRY}', '2025-11-01', 'full').location]`);
    const dataRoles = resourcesOfType(s, 'Microsoft.Authorization/roleAssignments')
      .map(resolveRoleAssignment)
      .filter((a) => a.scope === EXISTING_REGISTRY && !a.role.match(/^[0-9a-f-]{36}$/));
    expect(dataRoles).toHaveLength(2);
    for (const { role } of dataRoles) {
      expect(role).toContain(`reference('${EXISTING_REGISTRY}', '2025-11-01'), 'roleAssignmentMode')`);
      expect(role).toContain("'AbacRepositoryPermissions'");
      expect(role).toContain('repositoryReader');
      expect(role).toContain('acrPull');
    }
    expect(s.outputs.AZURE_REGISTRY_ID).toBe(EXISTING_REGISTRY);
  });

  it('refuses bad registry parameters before anything is created, naming the parameter and the fix', () => {
    const failure = (name: ScenarioName) => {
      const outcome = outcomes[name];
      expect(outcome.ok, name).toBe(false);
      return outcome.ok ? '' : outcome.error;
    };
    expect(failure('firewallOnBasic')).toContain(
      'registryNetworkMode=firewall needs the Premium SKU (firewall rules and private endpoints are Premium features): set registrySku to Premium or leave it empty.',
    );
    expect(failure('firewallWithoutRanges')).toContain(
      'registryNetworkMode=firewall with no registryAllowedIpRanges',
    );
    expect(failure('existingRegistryMadePrivate')).toContain(
      'registryNetworkMode applies to the registry this template creates',
    );
  });

  it('subscribes onImagePushed to ImagePushed of the configured repositories through an AzureFunction endpoint', () => {
    const s = snap('secondProvision');
    const site = onlyResource(s, 'Microsoft.Web/sites');
    const subscription = onlyResource(s, 'Microsoft.EventGrid/systemTopics/eventSubscriptions');
    expect(
      subscription.id.startsWith(
        `${rg('rg-dev')}/providers/Microsoft.EventGrid/systemTopics/evgt-cr${tokenOf(s)}/`,
      ),
    ).toBe(true);
    expect(subscription.properties).toMatchObject({
      destination: {
        endpointType: 'AzureFunction',
        properties: { resourceId: `${site.id}/functions/onImagePushed`, maxEventsPerBatch: 1 },
      },
      eventDeliverySchema: 'EventGridSchema',
      filter: {
        includedEventTypes: ['Microsoft.ContainerRegistry.ImagePushed'],
        advancedFilters: [{ operatorType: 'StringBeginsWith', key: 'subject', values: ['web:', 'api:'] }],
      },
    });
    expect(s.outputs.EVENT_SUBSCRIPTION_DEPLOYED).toBe(true);
    expect(
      resourcesOfType(snap('firstProvision'), 'Microsoft.EventGrid/systemTopics/eventSubscriptions'),
    ).toEqual([]);
  });

  it("DNS names: the apps' zone, linked to the VNet without registration, the function may write records in it only", () => {
    const s = snap('secondProvision');
    const token = tokenOf(s);
    const zone = onlyResource(s, 'Microsoft.Network/privateDnsZones');
    expect(zone).toMatchObject({
      id: `${rg('rg-dev')}/providers/Microsoft.Network/privateDnsZones/apps.internal`,
      location: 'global',
    });
    expect(onlyResource(s, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks')).toMatchObject({
      id: `${zone.id}/virtualNetworkLinks/link-vnet-${token}`,
      location: 'global',
      properties: {
        virtualNetwork: { id: onlyResource(s, 'Microsoft.Network/virtualNetworks').id },
        registrationEnabled: false,
      },
    });
    // On the zone only: never on the resource group or the VNet.
    expect(assignmentTable(s).filter((row) => row.startsWith('Private DNS Zone Contributor'))).toEqual([
      `Private DNS Zone Contributor | ${zone.id} | id-api-${token}`,
    ]);
    expect(s.outputs.AZURE_APPS_DNS_ZONE_ID).toBe(zone.id);
  });

  it('APPS_CONFIG gives an app with "dns" the zone id, and the watched groups (tag ip-dns) the zone too', () => {
    const s = snap('secondProvision');
    const zoneId = onlyResource(s, 'Microsoft.Network/privateDnsZones').id;
    const appsConfig = String(onlyResource(s, 'Microsoft.Web/sites/config').properties!.APPS_CONFIG);
    expect(appsConfig).toContain(`'dns', createObject('ttlSeconds', 20, 'zoneId', '${zoneId}')`);
    expect(appsConfig).toContain(`'dns', createObject('zoneId', '${zoneId}'))`);
    // api has no "dns": it gets no name.
    expect(appsConfig.split("'dns', createObject(")).toHaveLength(3);
  });

  it('a zone you bring: nothing created, no link when it is linked already, the role on that zone in its subscription', () => {
    const s = snap('existingDnsZone');
    expect(resourcesOfType(s, 'Microsoft.Network/privateDnsZones')).toEqual([]);
    expect(resourcesOfType(s, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks')).toEqual([]);
    expect(assignmentTable(s).filter((row) => row.startsWith('Private DNS Zone Contributor'))).toEqual([
      `Private DNS Zone Contributor | ${EXISTING_DNS_ZONE} | id-api-${tokenOf(s)}`,
    ]);
    expect(s.outputs.AZURE_APPS_DNS_ZONE_ID).toBe(EXISTING_DNS_ZONE);
    expect(String(onlyResource(s, 'Microsoft.Web/sites/config').properties!.APPS_CONFIG)).toContain(
      `'dns', createObject('zoneId', '${EXISTING_DNS_ZONE}')`,
    );
  });

  it('puts every resource in the chosen location, except global ones and what follows its source', () => {
    for (const scenario of ['secondProvision', 'private'] as const) {
      const misplaced = snap(scenario)
        .predictedResources.flatMap((r) => (r.location === undefined ? [] : [`${r.type} ${r.location}`]))
        .filter((entry) => !entry.endsWith(` ${LOCATION}`) && !entry.endsWith(' global'))
        .filter((entry) => !entry.includes(' [reference('));
      expect(misplaced, scenario).toEqual([]);
    }
  });
});

/**
 * Offline checks of the Azure deployment (azure.yaml + infra/**): every Bicep file is parsed with the real Bicep
 * grammar (tree-sitter-bicep) and its structure asserted. `az bicep build` / `azd provision --preview` remain the
 * full checks where Azure is reachable (README.md).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { parse as parseYaml } from 'yaml';
import { parseAppsConfig } from '../../src/config/appsConfig.js';
import { APP_SETTING_NAMES } from '../../src/config/settings.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const infraDir = join(repoRoot, 'infra');

// ------------------------------------------------------------------------------------------ expectations

/** Built-in roles the templates may use, by id. Each id in a template must carry its name as a trailing comment. */
const BUILT_IN_ROLES: Record<string, string> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': 'Key Vault Secrets Officer',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
  '7f951dda-4ed3-4680-a7ca-43fe172d538d': 'AcrPull',
  'd5a91429-5739-47e2-a06b-3470a27159e7': 'EventGrid Data Sender',
};

/** Custom roles: exactly these actions (no wildcards, no data actions). Keyed by roleName up to " (". */
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

/** The least-privilege table of README.md: role, scope (resource type, or the module's resource group), principal. */
const EXPECTED_ROLE_ASSIGNMENTS = [
  {
    file: 'app/rbac.bicep',
    role: 'Storage Blob Data Owner',
    scope: 'Microsoft.Storage/storageAccounts',
    principal: 'functionPrincipalId',
  },
  {
    file: 'app/rbac.bicep',
    role: 'Storage Table Data Contributor',
    scope: 'Microsoft.Storage/storageAccounts',
    principal: 'functionPrincipalId',
  },
  {
    file: 'app/rbac.bicep',
    role: 'Key Vault Secrets Officer',
    scope: 'Microsoft.KeyVault/vaults',
    principal: 'functionPrincipalId',
  },
  {
    file: 'app/rbac.bicep',
    role: 'Monitoring Metrics Publisher',
    scope: 'Microsoft.Insights/components',
    principal: 'functionPrincipalId',
  },
  {
    file: 'app/aci-operator-access.bicep',
    role: 'ACI blue/green operator',
    scope: 'resourceGroup',
    principal: 'functionPrincipalId',
  },
  {
    file: 'app/aci-watch-access.bicep',
    role: 'ACI blue/green watcher',
    scope: 'resourceGroup',
    principal: 'functionPrincipalId',
  },
  {
    file: 'app/aci-join-access.bicep',
    role: 'ACI blue/green subnet and identity join',
    scope: 'Microsoft.Network/virtualNetworks/subnets',
    principal: 'functionPrincipalId',
  },
  {
    file: 'app/aci-join-access.bicep',
    role: 'ACI blue/green subnet and identity join',
    scope: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    principal: 'functionPrincipalId',
  },
  {
    file: 'app/registry-access.bicep',
    role: 'ACI blue/green registry reader',
    scope: 'Microsoft.ContainerRegistry/registries',
    principal: 'functionPrincipalId',
  },
  {
    file: 'app/registry-access.bicep',
    role: 'AcrPull',
    scope: 'Microsoft.ContainerRegistry/registries',
    principal: 'pullIdentityPrincipalId',
  },
  {
    file: 'app/notify-access.bicep',
    role: 'EventGrid Data Sender',
    scope: 'Microsoft.EventGrid/topics',
    principal: 'functionPrincipalId',
  },
];

/** Where main.bicep deploys each module that assigns roles (the resource group the module's roles land in). */
const ROLE_MODULE_SCOPES: Record<string, string[]> = {
  'app/rbac.bicep': ['rg'],
  'app/aci-join-access.bicep': ['rg'],
  'app/aci-operator-access.bicep': ['aciRg', 'resourceGroup(rgName)'],
  'app/aci-watch-access.bicep': ['resourceGroup(rgName)'],
  'app/registry-access.bicep': ['resourceGroup(registrySubscriptionId, registryResourceGroupName)'],
  'app/notify-access.bicep': ['resourceGroup(notifyTopicIdParts[2], notifyTopicIdParts[4])'],
};

/** Which identity each principal parameter must be bound to in main.bicep. */
const PRINCIPAL_WIRING: Record<string, string> = {
  functionPrincipalId: 'apiIdentity.outputs.principalId',
  pullIdentityPrincipalId: 'acrPullIdentity.outputs.principalId',
};

/** Resource types each file declares (not `existing`). */
const EXPECTED_RESOURCE_TYPES: Record<string, string[]> = {
  'main.bicep': ['Microsoft.Resources/resourceGroups'],
  'app/identity.bicep': ['Microsoft.ManagedIdentity/userAssignedIdentities'],
  'app/network.bicep': [
    'Microsoft.Network/natGateways',
    'Microsoft.Network/publicIPAddresses',
    'Microsoft.Network/virtualNetworks',
  ],
  'app/storage.bicep': [
    'Microsoft.Storage/storageAccounts',
    'Microsoft.Storage/storageAccounts/blobServices',
    'Microsoft.Storage/storageAccounts/blobServices/containers',
    'Microsoft.Storage/storageAccounts/tableServices',
    'Microsoft.Storage/storageAccounts/tableServices/tables',
  ],
  'app/monitoring.bicep': ['Microsoft.Insights/components', 'Microsoft.OperationalInsights/workspaces'],
  'app/key-vault.bicep': ['Microsoft.KeyVault/vaults'],
  'app/registry.bicep': ['Microsoft.ContainerRegistry/registries'],
  'app/api.bicep': ['Microsoft.Web/serverfarms', 'Microsoft.Web/sites', 'Microsoft.Web/sites/config'],
  'app/apps-config.bicep': [],
  'app/rbac.bicep': ['Microsoft.Authorization/roleAssignments'],
  'app/aci-join-access.bicep': [
    'Microsoft.Authorization/roleAssignments',
    'Microsoft.Authorization/roleDefinitions',
  ],
  'app/aci-operator-access.bicep': [
    'Microsoft.Authorization/roleAssignments',
    'Microsoft.Authorization/roleDefinitions',
  ],
  'app/aci-watch-access.bicep': [
    'Microsoft.Authorization/roleAssignments',
    'Microsoft.Authorization/roleDefinitions',
  ],
  'app/registry-access.bicep': [
    'Microsoft.Authorization/roleAssignments',
    'Microsoft.Authorization/roleDefinitions',
  ],
  'app/notify-access.bicep': ['Microsoft.Authorization/roleAssignments'],
  'app/registry-events.bicep': [
    'Microsoft.EventGrid/systemTopics',
    'Microsoft.EventGrid/systemTopics/eventSubscriptions',
  ],
};

/** Settings the code lists that Azure deliberately does not set, with the reason. */
const NOT_SET_IN_AZURE: Record<string, string> = {
  AzureWebJobsStorage:
    'connection string for local runs (Azurite); Azure uses the identity-based AzureWebJobsStorage__* settings',
  ACR_ENDPOINT_TEMPLATE:
    "the default https://{loginServer} is Azure's addressing; only the local emulator sets it",
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

// ------------------------------------------------------------------------------------------ Bicep helpers

interface BicepFile {
  /** Path relative to infra/, with forward slashes. */
  rel: string;
  source: string;
  root: Node;
}

let parser: Parser;

function parseBicep(source: string): Node {
  const tree = parser.parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree.rootNode;
}

function listBicepFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listBicepFiles(path);
    return entry.name.endsWith('.bicep') ? [path] : [];
  });
}

function syntaxProblems(root: Node): string[] {
  const problems: string[] = [];
  const walk = (node: Node): void => {
    if (node.isError || node.isMissing) {
      const { row, column } = node.startPosition;
      problems.push(
        `${node.isMissing ? `MISSING ${node.type}` : 'ERROR'} at ${row + 1}:${column + 1}: ${node.text.slice(0, 60)}`,
      );
    }
    for (const child of node.children) walk(child);
  };
  walk(root);
  return problems;
}

const isComment = (node: Node): boolean => node.type === 'comment' || node.type === 'diagnostic_comment';
const named = (node: Node): Node[] => node.namedChildren.filter((child) => !isComment(child));

function unquote(node: Node): string {
  if (node.type !== 'string') throw new Error(`expected a string, got ${node.type}: ${node.text}`);
  if (node.namedChildren.some((child) => child.type === 'interpolation'))
    throw new Error(`expected a literal string, got ${node.text}`);
  return node.text.replace(/^'''|'''$/g, '').replace(/^'|'$/g, '');
}

/** Text of a string up to its first interpolation. */
function literalPrefix(node: Node): string {
  const first = node.namedChildren[0];
  return first?.type === 'string_content' ? first.text : '';
}

function declarationName(decl: Node): string {
  const id = named(decl)[0];
  if (!id) throw new Error(`declaration without a name: ${decl.text.slice(0, 40)}`);
  return id.text;
}

/** The object of a resource/module declaration, through `if (...)` and `for ... :`. */
function declarationBody(decl: Node): Node {
  let value = named(decl).at(-1);
  if (value?.type === 'if_statement') value = named(value).at(-1);
  if (value?.type === 'for_statement') value = value.childForFieldName('body') ?? undefined;
  if (value?.type === 'if_statement') value = named(value).at(-1);
  if (value?.type !== 'object')
    throw new Error(`declaration body is not an object: ${decl.text.slice(0, 60)}`);
  return value;
}

function property(object: Node, key: string): Node | undefined {
  for (const prop of named(object)) {
    if (prop.type !== 'object_property') continue;
    const [keyNode] = named(prop);
    const value = named(prop).at(-1);
    if (!keyNode || !value) continue;
    const name = keyNode.type === 'string' ? unquote(keyNode) : keyNode.text;
    if (name === key) return value;
  }
  return undefined;
}

function path(object: Node, ...keys: string[]): Node | undefined {
  let current: Node | undefined = object;
  for (const key of keys) {
    if (current?.type !== 'object') return undefined;
    current = property(current, key);
  }
  return current;
}

function objectKeys(object: Node): string[] {
  return named(object)
    .filter((prop) => prop.type === 'object_property')
    .map((prop) => {
      const keyNode = named(prop)[0]!;
      return keyNode.type === 'string' ? unquote(keyNode) : keyNode.text;
    });
}

function arrayStrings(node: Node | undefined): string[] {
  if (node?.type !== 'array') throw new Error(`expected an array, got ${node?.text}`);
  return named(node).map(unquote);
}

interface ResourceDecl {
  symbol: string;
  type: string;
  apiVersion: string;
  existing: boolean;
  body: Node;
  node: Node;
}

function resources(file: BicepFile): ResourceDecl[] {
  return file.root.descendantsOfType('resource_declaration').map((node) => {
    const typeNode = named(node)[1]!;
    const [type, apiVersion = ''] = unquote(typeNode).split('@');
    return {
      symbol: declarationName(node),
      type: type!,
      apiVersion,
      existing: node.children.some((child) => child.type === 'existing'),
      body: declarationBody(node),
      node,
    };
  });
}

function topLevel(file: BicepFile, type: string): Node[] {
  return named(file.root).filter((node) => node.type === type);
}

function variable(file: BicepFile, name: string): Node {
  const decl = topLevel(file, 'variable_declaration').find((node) => declarationName(node) === name);
  if (!decl) throw new Error(`${file.rel}: no var ${name}`);
  return named(decl).at(-1)!;
}

function parameters(file: BicepFile): Array<{ name: string; decorators: Node[]; node: Node }> {
  const out: Array<{ name: string; decorators: Node[]; node: Node }> = [];
  let pending: Node[] = [];
  for (const node of named(file.root)) {
    if (node.type === 'decorators') pending.push(...named(node));
    else if (node.type === 'parameter_declaration') {
      out.push({ name: declarationName(node), decorators: pending, node });
      pending = [];
    } else pending = [];
  }
  return out;
}

function decoratorCall(decorator: Node): { name: string; args: Node[] } {
  const call = named(decorator)[0]!;
  const fn = call.childForFieldName('function')!;
  const args = call.childForFieldName('arguments')!;
  return { name: fn.text.replace(/^sys\./, ''), args: named(args) };
}

function callArguments(node: Node, fn: string): Node[] {
  if (node.type !== 'call_expression' || node.childForFieldName('function')?.text !== fn)
    throw new Error(`expected ${fn}(...), got ${node.text.slice(0, 80)}`);
  return named(node.childForFieldName('arguments')!);
}

/**
 * Keys of an app-settings expression: object literals, `union(...)` of them, vars holding them and `c ? a : b`
 * (whose keys count as conditional). Anything else is refused, so the settings stay statically checkable.
 */
function settingKeys(file: BicepFile, node: Node, conditional = false): Map<string, boolean> {
  const keys = new Map<string, boolean>();
  const add = (more: Map<string, boolean>) => {
    for (const [key, cond] of more) keys.set(key, (keys.get(key) ?? true) && cond);
  };
  switch (node.type) {
    case 'object':
      for (const key of objectKeys(node)) add(new Map([[key, conditional]]));
      break;
    case 'identifier':
      add(settingKeys(file, variable(file, node.text), conditional));
      break;
    case 'parenthesized_expression':
      for (const inner of named(node)) add(settingKeys(file, inner, conditional));
      break;
    case 'ternary_expression':
      add(settingKeys(file, node.childForFieldName('consequence')!, true));
      add(settingKeys(file, node.childForFieldName('alternative')!, true));
      break;
    case 'call_expression':
      for (const arg of callArguments(node, 'union')) add(settingKeys(file, arg, conditional));
      break;
    default:
      throw new Error(`${file.rel}: cannot read app settings from ${node.type}: ${node.text.slice(0, 80)}`);
  }
  return keys;
}

/** App settings of the Function App: name -> whether it is only set under a condition. */
function appSettingsOf(file: BicepFile): Map<string, boolean> {
  const config = resources(file).find(
    (r) => r.type === 'Microsoft.Web/sites/config' && unquote(property(r.body, 'name')!) === 'appsettings',
  );
  if (!config) throw new Error(`${file.rel}: no Microsoft.Web/sites/config 'appsettings' resource`);
  return settingKeys(file, property(config.body, 'properties')!);
}

function settingProblems(settings: Map<string, boolean>): string[] {
  const problems: string[] = [];
  for (const { name, required } of APP_SETTING_NAMES) {
    const conditional = settings.get(name);
    if (required && conditional !== false)
      problems.push(`${name} is required but ${conditional ? 'only set conditionally' : 'not set'}`);
    if (!required && conditional === undefined && !(name in NOT_SET_IN_AZURE))
      problems.push(`${name} is not set`);
  }
  const known = new Set([...APP_SETTING_NAMES.map((s) => s.name), ...PLATFORM_SETTINGS]);
  for (const name of settings.keys())
    if (!known.has(name)) problems.push(`${name} is set but no code reads it`);
  return problems;
}

// ------------------------------------------------------------------------------------------ tests

let files: BicepFile[];
const file = (rel: string): BicepFile => {
  const found = files.find((f) => f.rel === rel);
  if (!found) throw new Error(`infra/${rel} not found`);
  return found;
};

beforeAll(async () => {
  await Parser.init();
  const require = createRequire(import.meta.url);
  const wasm = join(dirname(require.resolve('tree-sitter-bicep/package.json')), 'tree-sitter-bicep.wasm');
  parser = new Parser();
  parser.setLanguage(await Language.load(wasm));
  files = listBicepFiles(infraDir).map((path) => {
    const source = readFileSync(path, 'utf8');
    return { rel: relative(infraDir, path).split('\\').join('/'), source, root: parseBicep(source) };
  });
});

describe('Bicep syntax', () => {
  it('finds the templates', () => {
    expect(files.map((f) => f.rel).sort()).toEqual(Object.keys(EXPECTED_RESOURCE_TYPES).sort());
  });

  it('parses every .bicep file without ERROR or MISSING nodes', () => {
    const problems = files.flatMap((f) => syntaxProblems(f.root).map((p) => `${f.rel}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('reports a broken template (the parse check can fail)', () => {
    const broken = parseBicep(
      "param location string\nresource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: \n",
    );
    expect(syntaxProblems(broken).length).toBeGreaterThan(0);
    const unbalanced = parseBicep("var tags = {\n  env: 'dev'\n");
    expect(syntaxProblems(unbalanced)).toEqual([expect.stringContaining('MISSING')]);
  });

  it('main.bicep deploys at subscription scope and references existing modules', () => {
    const main = file('main.bicep');
    const scope = topLevel(main, 'target_scope_assignment')[0];
    expect(scope && unquote(named(scope)[0]!)).toBe('subscription');
    const modules = topLevel(main, 'module_declaration').map((m) => unquote(named(m)[1]!));
    expect(modules.length).toBeGreaterThan(0);
    for (const module of modules) expect(statSync(join(infraDir, module)).isFile()).toBe(true);
    expect(main.source).toContain('toLower(uniqueString(subscription().id, environmentName, location))');
    expect(main.source).toContain("loadJsonContent('abbreviations.json')");
  });
});

describe('Bicep structure', () => {
  it('declares exactly the expected resource types', () => {
    const declared = Object.fromEntries(
      files.map((f) => [
        f.rel,
        [
          ...new Set(
            resources(f)
              .filter((r) => !r.existing)
              .map((r) => r.type),
          ),
        ].sort(),
      ]),
    );
    expect(declared).toEqual(
      Object.fromEntries(Object.entries(EXPECTED_RESOURCE_TYPES).map(([k, v]) => [k, [...v].sort()])),
    );
  });

  it('pins stable API versions', () => {
    const versions = files.flatMap((f) => resources(f).map((r) => `${f.rel}: ${r.type}@${r.apiVersion}`));
    expect(versions.filter((v) => !/@\d{4}-\d{2}-\d{2}$/.test(v))).toEqual([]);
  });

  it('describes every parameter with @description', () => {
    const undocumented = files.flatMap((f) =>
      parameters(f)
        .filter(({ decorators }) => {
          const description = decorators.map(decoratorCall).find((d) => d.name === 'description');
          return !description || description.args.length !== 1 || unquote(description.args[0]!).trim() === '';
        })
        .map(({ name }) => `${f.rel}: ${name}`),
    );
    expect(undocumented).toEqual([]);
  });

  it('runs the function on Flex Consumption with Node 20+, VNet integration and a user-assigned identity', () => {
    const api = file('app/api.bicep');
    const plan = resources(api).find((r) => r.type === 'Microsoft.Web/serverfarms')!;
    expect(unquote(path(plan.body, 'sku', 'name')!)).toBe('FC1');
    expect(unquote(path(plan.body, 'sku', 'tier')!)).toBe('FlexConsumption');

    const site = resources(api).find((r) => r.type === 'Microsoft.Web/sites')!;
    expect(unquote(path(site.body, 'kind')!)).toBe('functionapp,linux');
    expect(unquote(path(site.body, 'identity', 'type')!)).toBe('UserAssigned');
    expect(path(site.body, 'properties', 'virtualNetworkSubnetId')?.text).toBe('functionSubnetId');
    const config = path(site.body, 'properties', 'functionAppConfig')!;
    expect(unquote(path(config, 'runtime', 'name')!)).toBe('node');
    expect(unquote(path(config, 'deployment', 'storage', 'type')!)).toBe('blobContainer');
    expect(unquote(path(config, 'deployment', 'storage', 'authentication', 'type')!)).toBe(
      'UserAssignedIdentity',
    );

    for (const f of [api, file('main.bicep')]) {
      const nodeVersion = parameters(f).find((p) => p.name === 'nodeVersion')!;
      const allowed = nodeVersion.decorators.map(decoratorCall).find((d) => d.name === 'allowed')!;
      const versions = arrayStrings(allowed.args[0]).map(Number);
      expect(versions.length).toBeGreaterThan(0);
      expect(Math.min(...versions)).toBeGreaterThanOrEqual(20);
    }
  });

  it('delegates one subnet to Flex Consumption and one to ACI', () => {
    const vnet = resources(file('app/network.bicep')).find(
      (r) => r.type === 'Microsoft.Network/virtualNetworks',
    )!;
    const subnets = named(path(vnet.body, 'properties', 'subnets')!);
    const delegations = subnets.map((subnet) =>
      named(path(subnet, 'properties', 'delegations')!).map((d) =>
        unquote(path(d, 'properties', 'serviceName')!),
      ),
    );
    expect(delegations).toEqual([
      ['Microsoft.App/environments'],
      ['Microsoft.ContainerInstance/containerGroups'],
    ]);
  });

  it('uses Entra ID only: vault in RBAC mode, no storage keys, no App Insights local auth', () => {
    const vault = resources(file('app/key-vault.bicep')).find((r) => r.type === 'Microsoft.KeyVault/vaults')!;
    expect(path(vault.body, 'properties', 'enableRbacAuthorization')?.text).toBe('true');
    const storage = resources(file('app/storage.bicep')).find(
      (r) => r.type === 'Microsoft.Storage/storageAccounts',
    )!;
    expect(path(storage.body, 'properties', 'allowSharedKeyAccess')?.text).toBe('false');
    const insights = resources(file('app/monitoring.bicep')).find(
      (r) => r.type === 'Microsoft.Insights/components',
    )!;
    expect(path(insights.body, 'properties', 'DisableLocalAuth')?.text).toBe('true');
  });

  it('subscribes onImagePushed to ImagePushed only, filtered by repository, through an AzureFunction endpoint', () => {
    const events = file('app/registry-events.bicep');
    const topic = resources(events).find(
      (r) => r.type === 'Microsoft.EventGrid/systemTopics' && !r.existing,
    )!;
    expect(unquote(path(topic.body, 'properties', 'topicType')!)).toBe(
      'Microsoft.ContainerRegistry.Registries',
    );

    const sub = resources(events).find(
      (r) => r.type === 'Microsoft.EventGrid/systemTopics/eventSubscriptions',
    )!;
    const destination = path(sub.body, 'properties', 'destination')!;
    expect(unquote(path(destination, 'endpointType')!)).toBe('AzureFunction');
    expect(path(destination, 'properties', 'resourceId')?.text).toBe(
      "'${functionAppResourceId}/functions/${functionName}'",
    );
    const functionName = parameters(events).find((p) => p.name === 'functionName')!;
    expect(unquote(named(functionName.node).at(-1)!)).toBe('onImagePushed');

    const filter = path(sub.body, 'properties', 'filter')!;
    expect(arrayStrings(path(filter, 'includedEventTypes'))).toEqual([
      'Microsoft.ContainerRegistry.ImagePushed',
    ]);
    const [advanced, ...more] = named(path(filter, 'advancedFilters')!);
    expect(more).toEqual([]);
    expect(unquote(path(advanced!, 'operatorType')!)).toBe('StringBeginsWith');
    expect(unquote(path(advanced!, 'key')!)).toBe('subject');
    expect(path(advanced!, 'values')?.text).toBe('subjectPrefixes');
    expect(main().source).toContain("app => '${app.repository}:'");

    // Created only after the code exists: guarded by deployEventSubscription (false by default, set by the hook).
    const condition = named(named(sub.node).at(-1)!)[0]!;
    expect(condition.text).toBe('(createSubscription)');
    expect(variable(events, 'createSubscription').text).toContain('deployEventSubscription');
    const flag = parameters(main()).find((p) => p.name === 'deployEventSubscription')!;
    expect(named(flag.node).at(-1)!.text).toBe('false');
    const hook = readFileSync(join(infraDir, 'hooks/postdeploy.sh'), 'utf8');
    expect(hook).toContain('azd env set DEPLOY_EVENT_SUBSCRIPTION true');
    expect(hook).toContain('azd provision');
  });
});

function main(): BicepFile {
  return file('main.bicep');
}

interface RoleAssignment {
  file: string;
  role: string;
  scope: string;
  principal: string;
}

function roleOf(f: BicepFile, reference: Node): string {
  const text = reference.text;
  const builtIn = /^builtInRoles\.(\w+)$/.exec(text);
  if (builtIn) {
    const id = unquote(path(variable(f, 'builtInRoles'), builtIn[1]!)!);
    const name = BUILT_IN_ROLES[id];
    if (!name) throw new Error(`${f.rel}: unknown built-in role id ${id}`);
    return name;
  }
  const custom = /^(\w+)\.name$/.exec(text);
  const definition = custom && resources(f).find((r) => r.symbol === custom[1]);
  if (definition?.type !== 'Microsoft.Authorization/roleDefinitions')
    throw new Error(
      `${f.rel}: role reference ${text} is neither builtInRoles.x nor a roleDefinition's .name`,
    );
  return literalPrefix(path(definition.body, 'properties', 'roleName')!).replace(/\s*\($/, '');
}

function roleAssignments(): RoleAssignment[] {
  return files.flatMap((f) =>
    resources(f)
      .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments')
      .map((r) => {
        const scopeSymbol = property(r.body, 'scope')?.text;
        const scoped = scopeSymbol && resources(f).find((other) => other.symbol === scopeSymbol);
        if (scopeSymbol && !scoped)
          throw new Error(`${f.rel}: ${r.symbol} scope ${scopeSymbol} is not a resource`);
        const principal = path(r.body, 'properties', 'principalId')!.text;
        const [resourceType, roleReference] = callArguments(
          path(r.body, 'properties', 'roleDefinitionId')!,
          'subscriptionResourceId',
        );
        expect(unquote(resourceType!)).toBe('Microsoft.Authorization/roleDefinitions');
        expect(unquote(path(r.body, 'properties', 'principalType')!)).toBe('ServicePrincipal');

        // Deterministic name, so a redeploy changes nothing: guid(scope, principal, role).
        const nameArgs = callArguments(property(r.body, 'name')!, 'guid').map((a) => a.text);
        expect(nameArgs, `${f.rel}: ${r.symbol} name`).toEqual([
          scopeSymbol ? `${scopeSymbol}.id` : 'resourceGroup().id',
          principal,
          roleReference!.text,
        ]);
        return {
          file: f.rel,
          role: roleOf(f, roleReference!),
          scope: scoped ? scoped.type : 'resourceGroup',
          principal,
        };
      }),
  );
}

describe('least privilege', () => {
  const key = (a: RoleAssignment) => `${a.file} | ${a.role} | ${a.scope} | ${a.principal}`;

  it('assigns exactly the documented roles, each named guid(scope, principal, role)', () => {
    expect(roleAssignments().map(key).sort()).toEqual(EXPECTED_ROLE_ASSIGNMENTS.map(key).sort());
  });

  it('documents the same table in README.md', () => {
    const docs = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const { role } of EXPECTED_ROLE_ASSIGNMENTS) expect(docs).toContain(role);
    for (const actions of Object.values(CUSTOM_ROLES))
      for (const action of actions) expect(docs).toContain(action);
  });

  it('comments every built-in role id with its name', () => {
    const problems: string[] = [];
    for (const f of files) {
      const ids = f.root
        .descendantsOfType('string')
        .filter((s) => /^'[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}'$/i.test(s.text));
      const comments = f.root.descendantsOfType('comment');
      for (const id of ids) {
        const value = unquote(id);
        const trailing = comments.find(
          (c) => c.startPosition.row === id.endPosition.row && c.startPosition.column > id.endPosition.column,
        );
        const commented = trailing?.text ?? '';
        const expected = BUILT_IN_ROLES[value];
        if (!expected) problems.push(`${f.rel}: ${value} is not in the built-in role table`);
        else if (commented.replace(/^\/\/\s*/, '').trim() !== expected)
          problems.push(`${f.rel}: ${value} should be commented "// ${expected}", is "${commented}"`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('grants custom roles exactly the needed actions, assignable only where deployed', () => {
    const definitions = files.flatMap((f) =>
      resources(f)
        .filter((r) => r.type === 'Microsoft.Authorization/roleDefinitions')
        .map((r) => ({ f, r })),
    );
    const actual = Object.fromEntries(
      definitions.map(({ f, r }) => {
        const props = property(r.body, 'properties')!;
        expect(unquote(property(props, 'type')!), f.rel).toBe('CustomRole');
        expect(property(props, 'assignableScopes')?.text.replace(/\s+/g, ''), f.rel).toBe(
          '[resourceGroup().id]',
        );
        const [permission, ...more] = named(property(props, 'permissions')!);
        expect(more).toEqual([]);
        expect(objectKeys(permission!).sort()).toEqual(['actions', 'notActions']);
        expect(arrayStrings(property(permission!, 'notActions'))).toEqual([]);
        const actions = arrayStrings(property(permission!, 'actions'));
        expect(actions.filter((a) => a.includes('*'))).toEqual([]);
        const name = literalPrefix(property(props, 'roleName')!).replace(/\s*\($/, '');
        return [name, [...actions].sort()];
      }),
    );
    expect(actual).toEqual(CUSTOM_ROLES);
  });

  it('deploys the role modules to the right resource groups and binds each principal to its identity', () => {
    const modules = topLevel(main(), 'module_declaration').map((m) => ({
      path: unquote(named(m)[1]!),
      body: declarationBody(m),
    }));
    const scopes: Record<string, string[]> = {};
    for (const m of modules) {
      const params = property(m.body, 'params')!;
      for (const [param, expected] of Object.entries(PRINCIPAL_WIRING)) {
        const bound = property(params, param);
        if (bound) expect(bound.text, `${m.path} ${param}`).toBe(expected);
      }
      if (m.path in ROLE_MODULE_SCOPES) (scopes[m.path] ??= []).push(property(m.body, 'scope')!.text);
    }
    expect(scopes).toEqual(ROLE_MODULE_SCOPES);
    const roleFiles = new Set(EXPECTED_ROLE_ASSIGNMENTS.map((a) => a.file));
    expect([...roleFiles].filter((f) => !(f in ROLE_MODULE_SCOPES))).toEqual([]);
  });
});

describe('app settings', () => {
  it('sets every setting src/config reads (required ones unconditionally) and nothing unknown', () => {
    expect(APP_SETTING_NAMES.length).toBeGreaterThan(0);
    expect(settingProblems(appSettingsOf(file('app/api.bicep')))).toEqual([]);
    for (const name of Object.keys(NOT_SET_IN_AZURE)) {
      expect(APP_SETTING_NAMES.find((s) => s.name === name)?.required, name).toBe(false);
    }
  });

  it('fails when a required setting is missing or only conditional (the cross-check can fail)', () => {
    const api = file('app/api.bicep');
    const required = APP_SETTING_NAMES.find((s) => s.required)!;
    const line = new RegExp(`^\\s*${required.name}: .*$`, 'm');
    expect(api.source).toMatch(line);
    const without: BicepFile = { ...api, root: parseBicep(api.source.replace(line, '')) };
    expect(settingProblems(appSettingsOf(without))).toContain(`${required.name} is required but not set`);

    const conditional: BicepFile = {
      ...api,
      root: parseBicep(
        api.source
          .replace(line, '')
          .replace(
            'empty(notifyTopicEndpoint) ? {} : {',
            `empty(notifyTopicEndpoint) ? {} : {\n    ${required.name}: 'x'`,
          ),
      ),
    };
    expect(settingProblems(appSettingsOf(conditional))).toContain(
      `${required.name} is required but only set conditionally`,
    );
  });

  it('sets no setting Flex Consumption rejects', () => {
    const settings = [...appSettingsOf(file('app/api.bicep')).keys()];
    expect(settings.filter((s) => FLEX_DEPRECATED_SETTINGS.includes(s))).toEqual([]);
  });

  it('uses identity-based AzureWebJobsStorage with the user-assigned identity', () => {
    const settings = variable(file('app/api.bicep'), 'appSettings');
    const base = callArguments(settings, 'union')[0]!;
    expect(unquote(property(base, 'AzureWebJobsStorage__credential')!)).toBe('managedidentity');
    expect(property(base, 'AzureWebJobsStorage__clientId')?.text).toBe('identityClientId');
    expect(property(base, 'AZURE_CLIENT_ID')?.text).toBe('identityClientId');
    expect(property(base, 'AzureWebJobsStorage')).toBeUndefined();
  });
});

describe('azd', () => {
  it('azure.yaml is valid YAML with the api service on Functions', () => {
    const azure = parseYaml(readFileSync(join(repoRoot, 'azure.yaml'), 'utf8')) as {
      name?: string;
      infra?: { provider?: string; path?: string; module?: string };
      services?: Record<string, unknown>;
      hooks?: { postdeploy?: { posix?: { run?: string }; windows?: { run?: string } } };
    };
    expect(azure.name).toBeTruthy();
    expect(azure.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
    expect(azure.services).toEqual({ api: { project: '.', language: 'ts', host: 'function' } });
    const posix = azure.hooks?.postdeploy?.posix?.run;
    const windows = azure.hooks?.postdeploy?.windows?.run;
    expect(posix && statSync(join(repoRoot, posix)).mode & 0o111).toBeTruthy();
    expect(windows && statSync(join(repoRoot, windows)).isFile()).toBe(true);
  });

  it('rejects malformed YAML (the YAML check can fail)', () => {
    expect(() => parseYaml('services:\n  api: [unclosed\n')).toThrow();
  });

  it('main.parameters.json binds every required parameter and only known ones', () => {
    const parametersFile = JSON.parse(readFileSync(join(infraDir, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: unknown }>;
    };
    const declared = parameters(main());
    const names = declared.map((p) => p.name);
    expect(Object.keys(parametersFile.parameters).filter((p) => !names.includes(p))).toEqual([]);
    // param <name> <type> [= default]: no third part means azd must supply it.
    const required = declared.filter((p) => named(p.node).length === 2).map((p) => p.name);
    expect(required.sort()).toEqual(['environmentName', 'location']);
    for (const name of required) expect(Object.keys(parametersFile.parameters)).toContain(name);
    expect(parametersFile.parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(parametersFile.parameters.deployEventSubscription?.value).toBe(
      '${DEPLOY_EVENT_SUBSCRIPTION=false}',
    );
  });

  it('the apps.json shipped and the example in the docs are accepted by the config parser once Bicep fills in the ids', () => {
    const shipped = JSON.parse(readFileSync(join(infraDir, 'apps.json'), 'utf8')) as { apps: unknown[] };
    expect(Array.isArray(shipped.apps)).toBe(true);

    const docs = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const example = /<!-- apps\.json example -->\s*```json\n([\s\S]*?)```/.exec(docs);
    expect(example, 'README.md has an apps.json example').toBeTruthy();
    const appsFile = JSON.parse(example![1]!) as {
      apps: Array<Record<string, unknown>>;
      watch?: Record<string, unknown>;
    };
    expect(appsFile.apps.length).toBeGreaterThan(0);

    // What app/apps-config.bicep does, with placeholder ids of the right shape.
    const sub = '00000000-0000-0000-0000-000000000001';
    const vaultUrl = 'https://kv-abc.vault.azure.net';
    const filled = {
      ...appsFile,
      apps: appsFile.apps.map((app) => ({
        ...app,
        registry: app.registry ?? {
          resourceId: `/subscriptions/${sub}/resourceGroups/rg-dev/providers/Microsoft.ContainerRegistry/registries/crabc`,
        },
        resourceGroup: app.resourceGroup ?? 'rg-dev-aci',
        location: app.location ?? 'westeurope',
        subnetId:
          app.subnetId ??
          `/subscriptions/${sub}/resourceGroups/rg-dev/providers/Microsoft.Network/virtualNetworks/vnet-abc/subnets/snet-aci`,
        template: {
          osType: 'Linux',
          imagePullIdentity: `/subscriptions/${sub}/resourceGroups/rg-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull-abc`,
          ...(app.template as object),
        },
        secret: { vaultUrl, ...(app.secret as object) },
      })),
      watch: {
        resourceGroups: appsFile.watch?.resourceGroups ?? [],
        vaultUrl: appsFile.watch?.vaultUrl ?? vaultUrl,
        groups: appsFile.watch?.groups ?? [],
      },
    };
    const parsed = parseAppsConfig(JSON.stringify(filled));
    expect(parsed.errors).toEqual([]);
    expect(parsed.apps.map((a) => a.name)).toEqual(appsFile.apps.map((a) => a.name));
  });
});

/**
 * What azd deploys and how: azure.yaml (Flex Consumption remote build, the postdeploy hook), the deployment package
 * that .funcignore leaves, main.parameters.json against main.bicep's parameters, and the deploy guide's apps.json
 * example and least-privilege table.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ignore from 'ignore';
import { beforeAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkBicepFiles } from '../../../scripts/lib/bicepCli.js';
import { parseAppsConfig } from '../../../src/config/appsConfig.js';
import { describeWithBicep, infraDir, repoRoot } from './infraBicep.js';

const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), 'utf8');
const deployGuide = () => read('docs/deploy-to-azure.md');

/** Files of the repository (tracked and new, not ignored) that .funcignore lets into the package. */
function packageFiles(funcignore: string): string[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f !== '' && fs.existsSync(path.join(repoRoot, f)));
  // azd leaves node_modules out on its own when remoteBuild is set; .funcignore must say so for other tools.
  const matcher = ignore().add(funcignore);
  return files.filter((f) => !matcher.ignores(f));
}

const DEV_ONLY =
  /^(test|emulator|host|scripts|bench|infra|docs|src\/cli|\.ci|\.tools|\.local|node_modules|dist)\//;

it('azure.yaml deploys the api service to Functions with a remote build, and runs the postdeploy hook', () => {
  const azure = parseYaml(read('azure.yaml')) as {
    name?: string;
    infra?: unknown;
    services?: Record<string, unknown>;
    hooks?: { postdeploy?: { posix?: { run?: string }; windows?: { run?: string } } };
  };
  expect(azure.name).toBe('aci-bluegreen-functions');
  expect(azure.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
  expect(azure.services).toEqual({
    api: { project: '.', language: 'ts', host: 'function', remoteBuild: true },
  });
  const posix = azure.hooks?.postdeploy?.posix?.run;
  const windows = azure.hooks?.postdeploy?.windows?.run;
  expect(posix && fs.statSync(path.join(repoRoot, posix)).mode & 0o111).toBeTruthy();
  expect(windows && fs.statSync(path.join(repoRoot, windows)).isFile()).toBe(true);
});

it('rejects malformed YAML (the YAML check can fail)', () => {
  expect(() => parseYaml('services:\n  api: [unclosed\n')).toThrow();
});

it('the postdeploy hooks turn on the second phase (custom role assignments, Event Grid subscription) and provision again', () => {
  for (const hook of ['infra/hooks/postdeploy.sh', 'infra/hooks/postdeploy.ps1']) {
    const text = read(hook);
    expect(text, hook).toContain('azd env set ASSIGN_CUSTOM_ROLES true');
    expect(text, hook).toContain('azd env set DEPLOY_EVENT_SUBSCRIPTION true');
    expect(text, hook).toContain('azd provision --no-prompt');
  }
});

it('the deployment package holds the sources, package files and host.json, and nothing of development', () => {
  const files = packageFiles(read('.funcignore'));
  for (const needed of ['host.json', 'package.json', 'package-lock.json', 'tsconfig.json'])
    expect(files).toContain(needed);
  const sources = read('tsconfig.json').includes('"src/**/*.ts"');
  expect(sources).toBe(true);
  const srcFiles = files.filter((f) => f.startsWith('src/'));
  expect(srcFiles.length).toBeGreaterThan(10);
  expect(srcFiles.filter((f) => !f.endsWith('.ts'))).toEqual([]);
  expect(files.filter((f) => DEV_ONLY.test(f))).toEqual([]);
  expect(files.filter((f) => !f.startsWith('src/')).sort()).toEqual(
    ['host.json', 'package-lock.json', 'package.json', 'tsconfig.json'].sort(),
  );
});

it('reports development files when .funcignore lets them through (the package check can fail)', () => {
  const withoutTests = read('.funcignore')
    .split('\n')
    .filter((line) => line.trim() !== 'test/')
    .join('\n');
  expect(packageFiles(withoutTests).filter((f) => DEV_ONLY.test(f)).length).toBeGreaterThan(0);
  const withCli = read('.funcignore')
    .split('\n')
    .filter((line) => line.trim() !== 'src/cli/')
    .join('\n');
  expect(packageFiles(withCli).filter((f) => f.startsWith('src/cli/')).length).toBeGreaterThan(0);
});

describeWithBicep('azd parameters', (bicepPath) => {
  let mainParameters: Record<string, { defaultValue?: unknown }>;

  beforeAll(() => {
    const { templates } = checkBicepFiles(bicepPath, infraDir);
    mainParameters = (
      templates.get('main.bicep') as { parameters: Record<string, { defaultValue?: unknown }> }
    ).parameters;
  }, 120_000);

  it('main.parameters.json binds every required parameter of main.bicep and only known ones', () => {
    const bound = JSON.parse(read('infra/main.parameters.json')) as {
      parameters: Record<string, { value: unknown }>;
    };
    const names = Object.keys(mainParameters);
    expect(Object.keys(bound.parameters).filter((p) => !names.includes(p))).toEqual([]);
    const required = names.filter((name) => !('defaultValue' in mainParameters[name]!));
    expect(required.sort()).toEqual(['environmentName', 'location']);
    expect(bound.parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(bound.parameters.deployEventSubscription?.value).toBe('${DEPLOY_EVENT_SUBSCRIPTION=false}');
    expect(bound.parameters.assignCustomRoles?.value).toBe('${ASSIGN_CUSTOM_ROLES=false}');
    expect(bound.parameters.registryNetworkMode?.value).toBe('${REGISTRY_NETWORK_MODE=public}');
  });

  it('offers no way to turn the NAT gateway off', () => {
    expect(Object.keys(mainParameters).filter((name) => /nat/i.test(name))).toEqual([]);
  });
});

it("the apps.json shipped and the deploy guide's example are accepted by the config parser once Bicep fills in the ids", () => {
  const shipped = JSON.parse(fs.readFileSync(path.join(infraDir, 'apps.json'), 'utf8')) as {
    apps: unknown[];
  };
  expect(Array.isArray(shipped.apps)).toBe(true);

  const example = /<!-- apps\.json example -->\s*```json\n([\s\S]*?)```/.exec(deployGuide());
  expect(example, 'docs/deploy-to-azure.md has an apps.json example').toBeTruthy();
  const appsFile = JSON.parse(example![1]!) as {
    apps: Array<Record<string, unknown>>;
    watch?: Record<string, unknown>;
  };
  expect(appsFile.apps.length).toBeGreaterThan(0);

  // What app/apps-config.bicep does, with placeholder ids of the right shape.
  const sub = '00000000-0000-0000-0000-000000000001';
  const vaultUrl = 'https://kv-abc.vault.azure.net';
  const dnsZoneId = `/subscriptions/${sub}/resourceGroups/rg-dev/providers/Microsoft.Network/privateDnsZones/apps.internal`;
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
      ...(app.dns ? { dns: { zoneId: dnsZoneId, ...(app.dns as object) } } : {}),
    })),
    watch: {
      resourceGroups: appsFile.watch?.resourceGroups ?? [],
      vaultUrl: appsFile.watch?.vaultUrl ?? vaultUrl,
      groups: appsFile.watch?.groups ?? [],
      dns: { zoneId: dnsZoneId, ...(appsFile.watch?.dns as object | undefined) },
    },
  };
  const parsed = parseAppsConfig(JSON.stringify(filled));
  expect(parsed.errors).toEqual([]);
  expect(parsed.apps.map((a) => a.name)).toEqual(appsFile.apps.map((a) => a.name));
});

it('the deploy guide documents every role the templates assign and every custom-role action', () => {
  const guide = deployGuide();
  for (const role of [
    'Storage Blob Data Owner',
    'Storage Table Data Contributor',
    'Key Vault Secrets Officer',
    'Monitoring Metrics Publisher',
    'AcrPull',
    'Container Registry Repository Reader',
    'EventGrid Data Sender',
    'Private DNS Zone Contributor',
    'ACI blue/green operator',
    'ACI blue/green watcher',
    'ACI blue/green subnet and identity join',
    'ACI blue/green registry reader',
  ])
    expect(guide).toContain(role);
  for (const action of [
    'Microsoft.ContainerInstance/containerGroups/write',
    'Microsoft.ContainerInstance/containerGroups/delete',
    'Microsoft.Network/virtualNetworks/subnets/join/action',
    'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
    'Microsoft.ContainerRegistry/registries/read',
  ])
    expect(guide).toContain(action);
  expect(guide).toContain('## What is not proven without a subscription');
});

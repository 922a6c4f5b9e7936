/**
 * The template's own shape and consistency (src/config/templateConfig.ts), the health gate reusing a readiness
 * probe, and `adoptGroup`'s two forms (src/config/adoptGroupConfig.ts). What ACI refuses in a VNet is in
 * vnetRules.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseAppsConfig } from '../../../src/config/appsConfig.js';
import { IDENTITY_ID, VAULT, webApp } from '../support/fakes.js';

const ref = (secretName: string) => ({ vaultUrl: VAULT, secretName });
const container = (o: Record<string, unknown> = {}) => ({
  name: 'web',
  cpu: 0.5,
  memoryInGB: 1,
  ports: [8080],
  ...o,
});

function load(template: Record<string, unknown>, app: Record<string, unknown> = {}) {
  return parseAppsConfig({
    apps: [webApp({ template: { containers: [container()], ...template }, ...app })],
  });
}
const errorsOf = (template: Record<string, unknown>, app: Record<string, unknown> = {}) =>
  load(template, app).errors.map((e) => e.text);

describe('config: template volumes, mounts, probes, init containers', () => {
  it('parses every volume kind, mounts, probes and init containers, keeping ARM names', () => {
    const c = load({
      volumes: [
        {
          name: 'share',
          azureFile: {
            shareName: 'web-data',
            storageAccountName: 'stwebdata',
            storageAccountKeyFromKeyVault: ref('st-key'),
            readOnly: true,
          },
        },
        { name: 'certs', secret: { 'tls.crt': ref('tls-crt'), 'tls.key': ref('tls-key') } },
        { name: 'cache', emptyDir: {} },
        { name: 'website', gitRepo: { repository: 'https://github.com/contoso/site', directory: 'site' } },
      ],
      initContainers: [
        {
          name: 'migrate',
          command: ['/app/migrate'],
          secureEnvFromKeyVault: { DB_PASSWORD: ref('web-db-password') },
          volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
        },
      ],
      containers: [
        container({
          volumeMounts: [
            { name: 'share', mountPath: '/data', readOnly: true },
            { name: 'certs', mountPath: '/certs' },
          ],
          livenessProbe: { httpGet: { port: 8080, path: '/live' }, periodSeconds: 5, failureThreshold: 3 },
          readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, initialDelaySeconds: 2 },
        }),
      ],
    });
    expect(c.errors).toEqual([]);
    const t = c.apps[0]!.template!;
    expect(t.volumes.map((v) => v.name)).toEqual(['share', 'certs', 'cache', 'website']);
    expect(t.volumes[0]!.azureFile!.storageAccountKeyFromKeyVault).toEqual(ref('st-key'));
    expect(t.initContainers[0]!.image).toBeUndefined();
    expect(t.containers[0]!.livenessProbe).toEqual({
      httpGet: { port: 8080, path: '/live' },
      periodSeconds: 5,
      failureThreshold: 3,
    });
    expect(t.sku).toBe('Standard');
    expect(t.priority).toBe('Regular');
  });

  it.each([
    [
      { volumes: [{ name: 'cache' }] },
      'template.volumes[0]: needs exactly one of azureFile, emptyDir, secret or gitRepo',
    ],
    [
      { volumes: [{ name: 'cache', emptyDir: {}, secret: { a: ref('a') } }] },
      'template.volumes[0]: needs exactly one of azureFile, emptyDir, secret or gitRepo',
    ],
    [{ volumes: [{ name: 'abc', emptyDir: {} }] }, 'template.volumes[0].name: volume names are 5-63'],
    [{ volumes: [{ name: 'my--cache', emptyDir: {} }] }, "without '--'"],
    [{ volumes: [{ name: 'certs', secret: {} }] }, 'template.volumes[0].secret: needs at least one file'],
    [{ volumes: [{ name: 'certs', secret: { 'a/b': ref('x') } }] }, 'file names are letters'],
    [
      {
        volumes: [
          {
            name: 'share',
            azureFile: {
              shareName: 'Data',
              storageAccountName: 'st',
              storageAccountKeyFromKeyVault: ref('k'),
            },
          },
        ],
      },
      'template.volumes[0].azureFile.shareName: share names are 3-63 lowercase',
    ],
    [
      {
        volumes: [{ name: 'share', azureFile: { shareName: 'data', storageAccountName: 'stdata' } }],
      },
      'template.volumes[0].azureFile.storageAccountKeyFromKeyVault: required (an object)',
    ],
    [
      { containers: [container({ volumeMounts: [{ name: 'cache', mountPath: '/cache' }] })] },
      'template.containers[0].volumeMounts[0].name: volume "cache" is not declared in template.volumes',
    ],
    [
      {
        volumes: [{ name: 'cache', emptyDir: {} }],
        containers: [container({ volumeMounts: [{ name: 'cache', mountPath: 'C:/cache' }] })],
      },
      "template.containers[0].volumeMounts[0].mountPath: must be an absolute path (start with '/')",
    ],
    [
      {
        volumes: [{ name: 'cache', emptyDir: {} }],
        containers: [container({ volumeMounts: [{ name: 'cache', mountPath: '/a:b' }] })],
      },
      "must not contain ':'",
    ],
    [
      { containers: [container({ livenessProbe: { periodSeconds: 5 } })] },
      'template.containers[0].livenessProbe: needs exactly one of httpGet or exec',
    ],
    [
      { containers: [container({ readinessProbe: { httpGet: { port: 8080, path: 'ready' } } })] },
      "template.containers[0].readinessProbe.httpGet.path: must start with '/'",
    ],
    [
      { initContainers: [{ name: 'web', image: 'busybox:1' }] },
      'template.initContainers[0].name: duplicate container name "web" (also in containers)',
    ],
    [
      { initContainers: [{ name: 'init', ports: [80] }] },
      'template.initContainers[0]: unknown field "ports"',
    ],
    [
      { registryCredentials: [{ server: 'docker.io', username: 'contoso' }] },
      'template.registryCredentials[0]: needs either identity, or username and passwordFromKeyVault',
    ],
    [
      { diagnostics: { logAnalytics: { workspaceId: 'ws', workspaceKeyFromKeyVault: ref('k') } } },
      "template.diagnostics.logAnalytics.workspaceId: must be the workspace's id (a GUID",
    ],
    [{ sku: 'Dedicated' }, 'template.sku:'],
    [{ zones: ['4'] }, 'template.zones[0]:'],
  ])('refuses %j naming the field', (template, expected) => {
    expect(errorsOf(template).join('\n')).toContain(expected);
  });

  it('accepts registry credentials by identity or by username and a password from Key Vault', () => {
    expect(
      errorsOf({
        registryCredentials: [
          { server: 'sidecars.azurecr.io', identity: IDENTITY_ID },
          { server: 'docker.io', username: 'contoso', passwordFromKeyVault: ref('hub-password') },
        ],
      }),
    ).toEqual([]);
  });
});

describe('config: the health gate may reuse the readiness probe', () => {
  it("takes the port and path of the pushed-image container's readinessProbe.httpGet when health.port is absent", () => {
    const c = load(
      { containers: [container({ readinessProbe: { httpGet: { port: 8080, path: '/ready' } } })] },
      { health: { consecutiveSuccesses: 2 } },
    );
    expect(c.errors).toEqual([]);
    expect(c.apps[0]!.health).toMatchObject({ port: 8080, path: '/ready', consecutiveSuccesses: 2 });
  });

  it('keeps an explicit health.path over the probe path, and defaults to / without a probe', () => {
    const withProbe = load(
      { containers: [container({ readinessProbe: { httpGet: { port: 8080, path: '/ready' } } })] },
      { health: { port: 8080, path: '/healthz' } },
    );
    expect(withProbe.apps[0]!.health).toMatchObject({ port: 8080, path: '/healthz' });
    const noProbe = load({}, { health: { port: 8080 } });
    expect(noProbe.apps[0]!.health).toMatchObject({ port: 8080, path: '/' });
  });

  it('refuses a missing health.port when no readiness probe can give it', () => {
    expect(errorsOf({}, { health: {} }).join('\n')).toContain(
      'health.port: required (a number), unless the container running the pushed image has a readinessProbe.httpGet',
    );
  });
});

describe('config: adoptGroup', () => {
  it('reads a name as a group in the app resource group, without copySpec (the original form)', () => {
    const c = parseAppsConfig({ apps: [webApp({ adoptGroup: 'web-legacy' })] });
    expect(c.apps[0]!.adoptGroup).toEqual({
      resourceGroup: 'rg-apps',
      name: 'web-legacy',
      copySpec: false,
      keyVaultReferences: { secureEnv: {}, storageAccountKeys: {}, secretVolumes: {}, registryPasswords: {} },
    });
  });

  it('takes { resourceGroup, name, copySpec, keyVaultReferences } without a template', () => {
    const { template: _t, ...app } = webApp();
    const c = parseAppsConfig({
      apps: [
        {
          ...app,
          adoptGroup: {
            resourceGroup: 'rg-legacy',
            name: 'web-legacy',
            copySpec: true,
            keyVaultReferences: {
              secureEnv: { web: { DB_PASSWORD: ref('web-db-password') } },
              storageAccountKeys: { share: ref('st-key') },
              secretVolumes: { certs: { 'tls.crt': ref('tls-crt') } },
              registryPasswords: { 'docker.io': ref('hub') },
              logAnalyticsWorkspaceKey: ref('la-key'),
            },
          },
        },
      ],
    });
    expect(c.errors).toEqual([]);
    expect(c.apps[0]!.template).toBeUndefined();
    expect(c.apps[0]!.adoptGroup).toMatchObject({
      resourceGroup: 'rg-legacy',
      name: 'web-legacy',
      copySpec: true,
    });
    expect(c.apps[0]!.adoptGroup!.keyVaultReferences.secretVolumes['certs']).toEqual({
      'tls.crt': ref('tls-crt'),
    });
  });

  it('refuses a template next to copySpec, a missing template without it, and references without copySpec', () => {
    const copyWithTemplate = errorsOf({}, { adoptGroup: { name: 'web-legacy', copySpec: true } });
    expect(copyWithTemplate.join('\n')).toContain(
      "template: not allowed with adoptGroup.copySpec: the adopted group's spec",
    );
    const { template: _t, ...noTemplate } = webApp();
    const missing = parseAppsConfig({ apps: [noTemplate] }).errors.map((e) => e.text);
    expect(missing).toContain('apps[0] (web): template: required (an object)');
    const refsOnly = errorsOf({}, { adoptGroup: { name: 'web-legacy', keyVaultReferences: {} } });
    expect(refsOnly).toContain('apps[0] (web): adoptGroup.keyVaultReferences: only with copySpec: true');
  });

  it('needs health.port with copySpec (the adopted spec is read at run time)', () => {
    const { template: _t, ...app } = webApp();
    const c = parseAppsConfig({
      apps: [{ ...app, adoptGroup: { name: 'web-legacy', copySpec: true }, health: { path: '/healthz' } }],
    });
    expect(c.errors.map((e) => e.text)).toContain(
      'apps[0] (web): health.port: required with adoptGroup.copySpec (the spec is read at run time)',
    );
  });
});

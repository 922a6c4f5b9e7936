import { describe, expect, it } from 'vitest';
import { AppsConfigError, parseAppsConfig } from '../../../src/config/appsConfig.js';
import { IDENTITY_ID, REGISTRY_ID, SUBNET_ID, VAULT, webApp } from '../support/fakes.js';

function texts(apps: unknown[], extra: Record<string, unknown> = {}) {
  return parseAppsConfig({ apps, ...extra }).errors.map((e) => e.text);
}

describe('APPS_CONFIG', () => {
  it('loads the documented sample with defaults applied', () => {
    const c = parseAppsConfig(
      JSON.stringify({
        apps: [webApp()],
        watch: {
          resourceGroups: ['rg-apps'],
          vaultUrl: VAULT,
          groups: [{ resourceGroup: 'rg-legacy', name: 'legacy-worker', secretName: 'legacy-worker-ip' }],
        },
      }),
    );
    expect(c.errors).toEqual([]);
    expect(c.apps).toHaveLength(1);
    const app = c.apps[0]!;
    expect(app.registry).toEqual({
      resourceId: REGISTRY_ID,
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      resourceGroup: 'rg-platform',
      name: 'contoso',
    });
    expect(app.health.expectedStatus).toEqual([200, 299]);
    expect(app.health.maxRestarts).toBe(3);
    expect(app.template!.restartPolicy).toBe('Always');
    expect(app.template!.imagePullIdentity).toBe(IDENTITY_ID);
    expect(app.restartUnhealthy).toBe(false);
    expect(app.force).toBe(false);
    expect(c.watch.groups).toEqual([
      { resourceGroup: 'rg-legacy', name: 'legacy-worker', secretName: 'legacy-worker-ip' },
    ]);
    expect(c.reconcile).toEqual({
      orphanGraceSeconds: 900,
      writeConcurrency: 4,
      catchUpSeconds: 600,
      secretAuditSeconds: 900,
    });
  });

  it('refuses one invalid app with a message naming the field while the others load', () => {
    const bad = webApp({ name: 'api', repository: 'api', health: { port: '8080', path: '/healthz' } });
    const c = parseAppsConfig({ apps: [webApp(), bad] });
    expect(c.apps.map((a) => a.name)).toEqual(['web']);
    expect(c.errors.map((e) => e.text)).toEqual(['apps[1] (api): health.port: expected a number']);
    expect(c.errors[0]).toMatchObject({ path: 'apps[1]', name: 'api', field: 'health.port' });
    expect(c.refusedApps).toEqual([
      {
        name: 'api',
        registryResourceId: REGISTRY_ID,
        repository: 'api',
        errors: ['apps[1] (api): health.port: expected a number'],
      },
    ]);
  });

  it.each([
    [
      { registry: { resourceId: '/subscriptions/x/registries/contoso' } },
      'registry.resourceId: must be a registry resource id',
    ],
    [{ subnetId: SUBNET_ID.replace('/subnets/aci', '') }, 'subnetId: must be a subnet resource id'],
    [
      {
        template: {
          containers: [{ name: 'web', cpu: 1, memoryInGB: 1, ports: [8080] }],
          imagePullIdentity: '/subscriptions/x',
        },
      },
      'template.imagePullIdentity: must be a user-assigned identity resource id',
    ],
    [{ name: 'Web_App' }, "name: must be lowercase letters, digits or '-'"],
    [{ name: 'a'.repeat(58) }, "name: must be at most 57 characters so that '{name}-green' fits ACI's 63"],
    [{ tagPolicy: { type: 'semver', range: '>>>1' } }, 'tagPolicy.range: not a valid semver range'],
    [{ tagPolicy: { type: 'regex', pattern: '([' } }, 'tagPolicy.pattern: not a valid regular expression'],
    [{ tagPolicy: { type: 'latest' } }, 'tagPolicy.type: expected one of "semver", "regex", "any"'],
    [
      { secret: { vaultUrl: 'http://kv-apps.vault.azure.net', name: 'web-ip' } },
      'secret.vaultUrl: must be an https vault URL',
    ],
    [
      { secret: { vaultUrl: VAULT, name: 'web_ip' } },
      "secret.name: Key Vault secret names are 1-127 letters, digits or '-'",
    ],
    [
      { health: { port: 9090, path: '/healthz' } },
      'health.port: port 9090 is not exposed by any container (ports: 8080)',
    ],
    [{ health: { port: 8080, path: 'healthz' } }, "health.path: must start with '/'"],
    [{ adoptGroup: 'Legacy Web' }, 'adoptGroup: adoptGroup must be 1-63 lowercase letters'],
    [{ drainSeconds: -1 }, 'drainSeconds:'],
    [{ healthz: true }, 'unknown field "healthz"'],
    [{ location: undefined }, 'location: required (a string)'],
  ])('refuses %j with a message naming the field', (override, expected) => {
    const errors = texts([webApp(override)]);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toContain(`apps[0] (${(override as { name?: string }).name ?? 'web'})`);
    expect(errors.join('\n')).toContain(expected);
  });

  it('refuses duplicate app names and a second app for the same registry + repository', () => {
    const c = parseAppsConfig({
      apps: [webApp(), webApp({ repository: 'other' }), webApp({ name: 'web2' })],
    });
    expect(c.apps.map((a) => a.name)).toEqual(['web']);
    expect(c.errors.map((e) => e.text)).toEqual([
      'apps[1] (web): name: duplicate app name "web" (also apps[0])',
      'apps[2] (web2): repository: registry contoso repository "web" is already deployed by apps[0] (web); one app per registry and repository',
    ]);
  });

  it('validates containers: duplicate names, env/secure overlap, at least one app-image container', () => {
    const errors = texts([
      webApp({
        template: {
          containers: [
            {
              name: 'web',
              cpu: 1,
              memoryInGB: 1,
              ports: [8080],
              env: { A: '1' },
              secureEnvFromKeyVault: { A: { vaultUrl: VAULT, secretName: 's' } },
            },
            { name: 'web', image: 'mcr.microsoft.com/sidecar:1', cpu: 1, memoryInGB: 1 },
          ],
        },
      }),
      webApp({
        name: 'side',
        repository: 'side',
        template: { containers: [{ name: 'x', image: 'a/b:1', cpu: 1, memoryInGB: 1, ports: [8080] }] },
      }),
    ]);
    expect(errors).toContain('apps[0] (web): template.containers[1].name: duplicate container name "web"');
    expect(errors).toContain(
      'apps[0] (web): template.containers[0].secureEnvFromKeyVault.A: "A" is also in env',
    );
    expect(errors).toContain(
      'apps[1] (side): template.containers: at least one container must run the pushed image (omit its "image")',
    );
  });

  describe("ACI's naming rules (container-instances-troubleshooting, naming conventions table)", () => {
    const ENV_RULE =
      "not a valid ACI environment variable name: 1-63 letters, digits or '_', not starting or ending with '_'";
    const withContainers = (containers: unknown[], name = 'web') =>
      webApp({ name, repository: name, template: { containers } });
    const container = (extra: Record<string, unknown> = {}) => ({
      name: 'web',
      cpu: 1,
      memoryInGB: 1,
      ports: [8080],
      ...extra,
    });

    it('environment variable names: 1-63 letters, digits or _, not starting or ending with _', () => {
      const accepted = ['A', 'LOG_LEVEL', 'log_level', 'A1', '1A', 'X'.repeat(63), 'A__B'];
      const c = parseAppsConfig({
        apps: [withContainers([container({ env: Object.fromEntries(accepted.map((k) => [k, 'v'])) })])],
      });
      expect(c.errors).toEqual([]);
      expect(Object.keys(c.apps[0]!.template!.containers[0]!.env)).toEqual(accepted);

      const refused = ['_A', 'A_', 'B-C', 'A.B', 'X'.repeat(64), 'HAS SPACE'];
      for (const key of refused) {
        const errors = texts([withContainers([container({ env: { [key]: 'v' } })])]);
        expect(errors, key).toEqual([`apps[0] (web): template.containers[0].env.${key}: ${ENV_RULE}`]);
      }
    });

    it('secure environment variable names follow the same rule', () => {
      const errors = texts([
        withContainers([
          container({ secureEnvFromKeyVault: { DB_PASSWORD_: { vaultUrl: VAULT, secretName: 's' } } }),
        ]),
      ]);
      expect(errors).toEqual([
        `apps[0] (web): template.containers[0].secureEnvFromKeyVault.DB_PASSWORD_: ${ENV_RULE}`,
      ]);
    });

    it('container names: 1-63 lowercase letters, digits or -, not starting or ending with -', () => {
      for (const name of ['web', 'w', 'web-2', 'side--car', 'a'.repeat(63)]) {
        expect(texts([withContainers([container({ name })])]), name).toEqual([]);
      }
      for (const name of ['Web', '-web', 'web-', 'web_2', 'a'.repeat(64), '']) {
        expect(texts([withContainers([container({ name })])]), name).toEqual([
          `apps[0] (web): template.containers[0].name: container name must be 1-63 lowercase letters, digits or '-', not starting or ending with '-'`,
        ]);
      }
    });

    it('app names leave room for the group names {app}-blue and {app}-green', () => {
      expect(texts([webApp({ name: 'a'.repeat(57) })])).toEqual([]);
      expect(texts([webApp({ name: 'my--app' })])).toEqual([]);
      expect(texts([webApp({ name: 'a'.repeat(58) })])).toEqual([
        `apps[0] (${'a'.repeat(58)}): name: must be at most 57 characters so that '{name}-green' fits ACI's 63`,
      ]);
      expect(texts([webApp({ name: 'web-' })])).toEqual([
        "apps[0] (web-): name: must be lowercase letters, digits or '-', not starting or ending with '-'",
      ]);
    });

    it('ports: 1-65535, unique in the group (across and within containers)', () => {
      expect(texts([withContainers([container({ ports: [8080, 65535, 1] })])])).toEqual([]);
      expect(texts([withContainers([container({ ports: [8080, 0] })])])).toEqual([
        'apps[0] (web): template.containers[0].ports[1]: must be a port number from 1 to 65535',
      ]);
      expect(texts([withContainers([container({ ports: [8080, 65536] })])])).toEqual([
        'apps[0] (web): template.containers[0].ports[1]: must be a port number from 1 to 65535',
      ]);
      expect(texts([withContainers([container({ ports: [8080, 80.5] })])])).toEqual([
        'apps[0] (web): template.containers[0].ports[1]: must be a port number from 1 to 65535',
      ]);
      expect(texts([withContainers([container({ ports: [8080, 8080] })])])).toEqual([
        'apps[0] (web): template.containers[0].ports[1]: port 8080 is already declared by container "web"; ports must be unique in a container group',
      ]);
      const sidecar = {
        name: 'proxy',
        image: 'mcr.microsoft.com/proxy:1',
        cpu: 0.5,
        memoryInGB: 0.5,
        ports: [9090, 8080],
      };
      expect(texts([withContainers([container(), sidecar])])).toEqual([
        'apps[0] (web): template.containers[1].ports[1]: port 8080 is already declared by container "web"; ports must be unique in a container group',
      ]);
    });

    it('a refused entry leaves the other apps working', () => {
      const c = parseAppsConfig({
        apps: [webApp(), withContainers([container({ env: { _BAD: 'v' } })], 'api')],
      });
      expect(c.apps.map((a) => a.name)).toEqual(['web']);
      expect(c.refusedApps.map((a) => a.name)).toEqual(['api']);
      expect(c.errors.map((e) => e.field)).toEqual(['template.containers[0].env._BAD']);
    });
  });

  it('normalises vault URLs (lower-case host, no trailing slash)', () => {
    const c = parseAppsConfig({
      apps: [webApp({ secret: { vaultUrl: 'https://KV-Apps.vault.azure.net/', name: 'web-ip' } })],
    });
    expect(c.apps[0]!.secret.vaultUrl).toBe(VAULT);
  });

  it('keeps watch errors per entry', () => {
    const c = parseAppsConfig({
      apps: [],
      watch: {
        resourceGroups: ['rg-apps'],
        groups: [
          {
            resourceGroup: 'rg-legacy',
            name: 'legacy-worker',
            secretName: 'legacy-worker-ip',
            vaultUrl: VAULT,
          },
          { resourceGroup: 'rg-legacy', name: 'other', secretName: 'other-ip' },
          { resourceGroup: 'rg-legacy', name: 'Bad Name', secretName: 'x', vaultUrl: VAULT },
        ],
      },
    });
    expect(c.watch.groups.map((g) => g.name)).toEqual(['legacy-worker']);
    expect(c.errors.map((e) => e.text)).toEqual([
      'watch.groups[1] (other): vaultUrl: required when watch.vaultUrl is not set',
      "watch.groups[2] (Bad Name): name: group name must be 1-63 lowercase letters, digits or '-', not starting or ending with '-'",
    ]);
  });

  it('fails as a whole only when APPS_CONFIG is unusable', () => {
    expect(() => parseAppsConfig('{not json')).toThrow(AppsConfigError);
    expect(() => parseAppsConfig('{not json')).toThrow(/not valid JSON/);
    expect(() => parseAppsConfig({ apps: {} })).toThrow('apps: expected an array');
    expect(() => parseAppsConfig([])).toThrow(/expected an object/);
    expect(() => parseAppsConfig({})).toThrow('apps: required (an array)');
  });
});

/**
 * The one function that says what a rollout deploys (src/domain/effectiveTemplate.ts) is pure and deterministic,
 * and the template maps to the container group spec (groupSpec.ts) and to ARM's PUT body and back from a GET
 * (adapters/containerGroupSpecs.ts) field by field, secrets only in the PUT.
 */
import type { ContainerGroup } from '@azure/arm-containerinstance';
import { describe, expect, it } from 'vitest';
import { toArmGroup, toGroupDefinition } from '../../../src/adapters/containerGroupSpecs.js';
import { parseAppsConfig, type AppConfig } from '../../../src/config/appsConfig.js';
import { effectiveTemplate, type EffectiveTemplate } from '../../../src/domain/effectiveTemplate.js';
import { buildGroupSpec } from '../../../src/domain/groupSpec.js';
import type { Rollout } from '../../../src/domain/model.js';
import { secretReferences, slot } from '../../../src/domain/templateSecrets.js';
import { IDENTITY_ID, VAULT, webApp } from '../support/fakes.js';

const ref = (secretName: string) => ({ vaultUrl: VAULT, secretName });
const SIDECAR_ID = IDENTITY_ID.replace('id-acr-pull', 'id-sidecar');
const WORKLOAD_ID = IDENTITY_ID.replace('id-acr-pull', 'id-workload');

function fullTemplate(env: Record<string, string> = { A: '1', B: '2' }): Record<string, unknown> {
  return {
    imagePullIdentity: IDENTITY_ID,
    identity: { userAssigned: [WORKLOAD_ID] },
    registryCredentials: [
      { server: 'sidecars.azurecr.io', identity: SIDECAR_ID },
      { server: 'index.docker.io', username: 'contoso', passwordFromKeyVault: ref('hub-password') },
    ],
    sku: 'Confidential',
    ccePolicy: 'cG9saWN5',
    zones: ['2'],
    dnsConfig: {
      nameServers: ['10.0.0.10', '10.0.0.11'],
      searchDomains: ['contoso.internal'],
      options: ['ndots:2'],
    },
    diagnostics: {
      logAnalytics: {
        workspaceId: '11111111-2222-3333-4444-555555555555',
        workspaceKeyFromKeyVault: ref('la-key'),
        logType: 'ContainerInstanceLogs',
      },
    },
    volumes: [
      {
        name: 'share',
        azureFile: {
          shareName: 'web-data',
          storageAccountName: 'stwebdata',
          storageAccountKeyFromKeyVault: ref('st-key'),
        },
      },
      { name: 'certs', secret: { 'tls.crt': ref('tls-crt') } },
      { name: 'cache', emptyDir: {} },
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
      {
        name: 'web',
        cpu: 1,
        memoryInGB: 2,
        ports: [8080],
        env,
        secureEnvFromKeyVault: { DB_PASSWORD: ref('web-db-password') },
        volumeMounts: [
          { name: 'share', mountPath: '/data', readOnly: true },
          { name: 'certs', mountPath: '/certs' },
        ],
        livenessProbe: { httpGet: { port: 8080, path: '/live' }, periodSeconds: 5 },
        readinessProbe: { exec: { command: ['cat', '/tmp/ready'] } },
      },
      { name: 'proxy', image: 'sidecars.azurecr.io/proxy:2', cpu: 0.5, memoryInGB: 0.5 },
    ],
  };
}

function app(template = fullTemplate()): AppConfig {
  const c = parseAppsConfig({ apps: [webApp({ template })] });
  expect(c.errors).toEqual([]);
  return c.apps[0]!;
}

const rollout = {
  id: 'r1',
  colour: 'blue',
  group: 'web-blue',
  digest: 'sha256:aaa',
  tag: '1.0.0',
  loginServer: 'contoso.azurecr.io',
  image: 'contoso.azurecr.io/web@sha256:aaa',
} as Rollout;

const values = new Map([
  [slot.env('web', 'DB_PASSWORD'), 'db-secret'],
  [slot.env('migrate', 'DB_PASSWORD'), 'db-secret'],
  [slot.storageKey('share'), 'storage-key=='],
  [slot.secretFile('certs', 'tls.crt'), 'CERT'],
  [slot.registryPassword('index.docker.io'), 'hub-secret'],
  [slot.workspaceKey(), 'la-secret'],
]);

describe('effectiveTemplate: pure and deterministic', () => {
  it('gives the same value and JSON text whatever the key order of the config, and does not touch its input', () => {
    const a = app(fullTemplate({ A: '1', B: '2' }));
    const b = app(fullTemplate({ B: '2', A: '1' }));
    const before = JSON.stringify(a);
    const ta = effectiveTemplate(a).template!;
    expect(JSON.stringify(ta)).toBe(JSON.stringify(effectiveTemplate(b).template));
    expect(effectiveTemplate(a)).toEqual(effectiveTemplate(a));
    expect(JSON.stringify(a)).toBe(before);
    expect(JSON.stringify(ta)).not.toContain('undefined');
    expect(ta).toMatchObject({ location: 'westeurope', subnetId: a.subnetId, sku: 'Confidential' });
  });

  it('changes when any field of the group changes (a config-change rollout can hash it)', () => {
    const base = JSON.stringify(effectiveTemplate(app()).template);
    const changed = fullTemplate();
    (changed['containers'] as Array<Record<string, unknown>>)[0]!['livenessProbe'] = {
      httpGet: { port: 8080, path: '/live' },
      periodSeconds: 10,
    };
    expect(JSON.stringify(effectiveTemplate(app(changed)).template)).not.toBe(base);
  });

  it('lists every Key Vault reference under its slot, in template order', () => {
    const refs = secretReferences(effectiveTemplate(app()).template!);
    expect(refs.map((r) => r.slot)).toEqual([
      slot.env('migrate', 'DB_PASSWORD'),
      slot.env('web', 'DB_PASSWORD'),
      slot.storageKey('share'),
      slot.secretFile('certs', 'tls.crt'),
      slot.registryPassword('index.docker.io'),
      slot.workspaceKey(),
    ]);
  });
});

describe('template → spec → ARM PUT body', () => {
  const a = app();
  const t = effectiveTemplate(a).template as EffectiveTemplate;
  const spec = buildGroupSpec(a, t, rollout, values, '2026-11-21T10:00:00.000Z');
  const body = toArmGroup(spec);

  it('puts the pushed image in the containers without one, and every group setting in the PUT', () => {
    expect(body.containers.map((c) => c.image)).toEqual([rollout.image, 'sidecars.azurecr.io/proxy:2']);
    expect(body.initContainers![0]).toMatchObject({
      name: 'migrate',
      image: rollout.image,
      command: ['/app/migrate'],
    });
    expect(body).toMatchObject({
      sku: 'Confidential',
      zones: ['2'],
      confidentialComputeProperties: { ccePolicy: 'cG9saWN5' },
      subnetIds: [{ id: a.subnetId }],
      ipAddress: { type: 'Private', ports: [{ protocol: 'TCP', port: 8080 }] },
      dnsConfig: {
        nameServers: ['10.0.0.10', '10.0.0.11'],
        searchDomains: 'contoso.internal',
        options: 'ndots:2',
      },
      diagnostics: {
        logAnalytics: {
          workspaceId: '11111111-2222-3333-4444-555555555555',
          workspaceKey: 'la-secret',
          logType: 'ContainerInstanceLogs',
        },
      },
    });
    expect(body.priority).toBe('Regular');
  });

  it('assigns every pull identity and the workload identity, and passes each registry credential', () => {
    expect(body.identity).toEqual({
      type: 'UserAssigned',
      userAssignedIdentities: { [IDENTITY_ID]: {}, [SIDECAR_ID]: {}, [WORKLOAD_ID]: {} },
    });
    expect(body.imageRegistryCredentials).toEqual([
      { server: 'contoso.azurecr.io', identity: IDENTITY_ID },
      { server: 'sidecars.azurecr.io', identity: SIDECAR_ID },
      { server: 'index.docker.io', username: 'contoso', password: 'hub-secret' },
    ]);
  });

  it('maps volumes (the secret file base64-encoded, as ARM wants), mounts and probes', () => {
    expect(body.volumes).toEqual([
      {
        name: 'share',
        azureFile: {
          shareName: 'web-data',
          storageAccountName: 'stwebdata',
          storageAccountKey: 'storage-key==',
        },
      },
      { name: 'certs', secret: { 'tls.crt': Buffer.from('CERT').toString('base64') } },
      { name: 'cache', emptyDir: {} },
    ]);
    expect(body.containers[0]).toMatchObject({
      volumeMounts: [
        { name: 'share', mountPath: '/data', readOnly: true },
        { name: 'certs', mountPath: '/certs' },
      ],
      livenessProbe: { httpGet: { port: 8080, path: '/live' }, periodSeconds: 5 },
      readinessProbe: { exec: { command: ['cat', '/tmp/ready'] } },
    });
    expect(body.containers[0]!.environmentVariables).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
      { name: 'DB_PASSWORD', secureValue: 'db-secret' },
    ]);
  });

  it('leaves optional settings out when the template has none', () => {
    const plain = app({ containers: [{ name: 'web', cpu: 0.5, memoryInGB: 1, ports: [8080] }] });
    const pt = effectiveTemplate(plain).template!;
    const b = toArmGroup(buildGroupSpec(plain, pt, rollout, new Map(), '2026-11-21T10:00:00.000Z'));
    for (const k of [
      'volumes',
      'initContainers',
      'dnsConfig',
      'diagnostics',
      'zones',
      'confidentialComputeProperties',
      'identity',
    ])
      expect(b, k).not.toHaveProperty(k);
  });
});

describe('ARM GET → definition', () => {
  it('keeps the spec and never takes a secret, even one a GET would carry', () => {
    const got = {
      ...toArmGroup(buildGroupSpec(app(), effectiveTemplate(app()).template!, rollout, values, 'x')),
    };
    got.id =
      '/subscriptions/s/resourceGroups/rg-apps/providers/Microsoft.ContainerInstance/containerGroups/web-blue';
    got.name = 'web-blue';
    const d = toGroupDefinition(got as ContainerGroup, 'ignored');
    expect(d).toMatchObject({
      name: 'web-blue',
      resourceGroup: 'rg-apps',
      sku: 'Confidential',
      zones: ['2'],
    });
    expect(d.volumes).toEqual([
      { name: 'share', kind: 'azureFile', shareName: 'web-data', storageAccountName: 'stwebdata' },
      { name: 'certs', kind: 'secret' },
      { name: 'cache', kind: 'emptyDir' },
    ]);
    expect(d.containers[0]).toMatchObject({ env: { A: '1', B: '2' }, secureEnvNames: ['DB_PASSWORD'] });
    expect(d.identity).toEqual({
      userAssigned: [IDENTITY_ID, SIDECAR_ID, WORKLOAD_ID],
      systemAssigned: false,
    });
    const text = JSON.stringify(d);
    for (const secret of [
      'db-secret',
      'storage-key==',
      'hub-secret',
      'la-secret',
      Buffer.from('CERT').toString('base64'),
    ])
      expect(text).not.toContain(secret);
  });

  it('lists fields the template cannot express', () => {
    const got: ContainerGroup = {
      osType: 'Linux',
      containers: [
        {
          name: 'web',
          image: 'contoso.azurecr.io/web:1',
          resources: { requests: { cpu: 1, memoryInGB: 1 }, limits: { cpu: 2 } },
          securityContext: { privileged: false },
        },
      ],
      encryptionProperties: { vaultBaseUrl: 'https://kv', keyName: 'k', keyVersion: '1' },
    };
    expect(toGroupDefinition(got, 'rg').unsupported).toEqual([
      'encryptionProperties',
      'containers[web].securityContext',
      'containers[web].resources.limits',
    ]);
  });
});

/**
 * Adoption without loss (`adoptGroup.copySpec`): the adopted group's definition becomes the template, the secrets ARM
 * does not return are listed until they are supplied as Key Vault references, and no group is created before
 * (src/domain/rollout/adoptionSpec.ts, effectiveTemplate.ts, adoption.ts, the accepted/creating steps).
 */
import { describe, expect, it } from 'vitest';
import { parseAppsConfig, type AppConfig, type KeyVaultReferences } from '../../../src/config/appsConfig.js';
import { collectStatus } from '../../../src/domain/status.js';
import { reconcile } from '../../../src/domain/reconcile.js';
import type { GroupDefinition } from '../../../src/domain/ports.js';
import {
  MISSING_REFERENCE,
  copyTemplate,
  imageRepository,
} from '../../../src/domain/rollout/adoptionSpec.js';
import { VAULT, budget, makeWorld, webApp, type World } from '../support/fakes.js';
import { push, settle } from '../support/scenario.js';

const ref = (secretName: string) => ({ vaultUrl: VAULT, secretName });
const IDENTITY =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-acr-pull';

/** A legacy group as ARM's GET shows it: an Azure Files share, a secret volume, a liveness probe, a secure variable. */
function legacyDefinition(overrides: Partial<GroupDefinition> = {}): GroupDefinition {
  return {
    name: 'web-legacy',
    resourceGroup: 'rg-legacy',
    location: 'westeurope',
    osType: 'Linux',
    restartPolicy: 'Always',
    subnetIds: [
      '/subscriptions/x/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/v/subnets/aci',
    ],
    ipAddress: { type: 'Private', ports: [{ port: 8080, protocol: 'TCP' }] },
    identity: { userAssigned: [IDENTITY], systemAssigned: false },
    imageRegistryCredentials: [{ server: 'contoso.azurecr.io', identity: IDENTITY }],
    dnsConfig: {
      nameServers: ['10.0.0.10'],
      searchDomains: 'contoso.internal corp.contoso',
      options: 'ndots:2',
    },
    volumes: [
      { name: 'share', kind: 'azureFile', shareName: 'web-data', storageAccountName: 'stwebdata' },
      { name: 'certs', kind: 'secret' },
      { name: 'scratch', kind: 'emptyDir' },
    ],
    initContainers: [],
    containers: [
      {
        name: 'web',
        image: 'contoso.azurecr.io/web:0.9.0',
        ports: [{ port: 8080, protocol: 'TCP' }],
        cpu: 1,
        memoryInGB: 1.5,
        env: { LOG_LEVEL: 'info' },
        secureEnvNames: ['DB_PASSWORD'],
        volumeMounts: [
          { name: 'share', mountPath: '/data' },
          { name: 'certs', mountPath: '/certs', readOnly: true },
          { name: 'scratch', mountPath: '/tmp/scratch' },
        ],
        livenessProbe: { httpGet: { port: 8080, path: '/live' }, periodSeconds: 5, failureThreshold: 3 },
      },
      {
        name: 'proxy',
        image: 'mcr.microsoft.com/oss/nginx/nginx:1.25',
        ports: [],
        cpu: 0.25,
        memoryInGB: 0.5,
        env: {},
        secureEnvNames: [],
        volumeMounts: [{ name: 'certs', mountPath: '/etc/nginx/certs', readOnly: true }],
      },
    ],
    unsupported: [],
    ...overrides,
  };
}

const ALL_REFERENCES: Partial<KeyVaultReferences> = {
  secureEnv: { web: { DB_PASSWORD: ref('web-db-password') } },
  storageAccountKeys: { share: ref('st-web-key') },
  secretVolumes: { certs: { 'tls.crt': ref('tls-crt'), 'tls.key': ref('tls-key') } },
};

function copyApp(references?: Partial<KeyVaultReferences>): AppConfig {
  const { template: _t, ...app } = webApp();
  const c = parseAppsConfig({
    apps: [
      {
        ...app,
        adoptGroup: {
          resourceGroup: 'rg-legacy',
          name: 'web-legacy',
          copySpec: true,
          ...(references ? { keyVaultReferences: references } : {}),
        },
      },
    ],
  });
  expect(c.errors).toEqual([]);
  return c.apps[0]!;
}

describe('adoption: copying an adopted group spec', () => {
  it('names the repository of an image with or without host, tag or digest', () => {
    expect(imageRepository('contoso.azurecr.io/team/web:1.2.0')).toBe('team/web');
    expect(imageRepository('contoso.azurecr.io/web@sha256:abc')).toBe('web');
    expect(imageRepository('localhost:5000/web')).toBe('web');
    expect(imageRepository('nginx:1.25')).toBe('nginx');
  });

  it('keeps everything but the image, and lists each secret ARM did not return, with where to supply it', () => {
    const app = copyApp();
    const copy = copyTemplate(app, app.adoptGroup!, legacyDefinition());
    expect(copy.missing).toEqual([
      {
        field: 'adoptGroup.keyVaultReferences.storageAccountKeys.share',
        what: 'storage account key of Azure Files volume share (stwebdata/web-data)',
        why: 'ARM returns Azure Files volumes without storageAccountKey',
      },
      {
        field: 'adoptGroup.keyVaultReferences.secretVolumes.certs',
        what: 'files of secret volume certs',
        why: 'ARM returns a secret volume empty ({}): name each file and its secret',
      },
      {
        field: 'adoptGroup.keyVaultReferences.secureEnv.web.DB_PASSWORD',
        what: 'secure environment variable DB_PASSWORD of container web',
        why: 'ARM never returns a secureValue',
      },
    ]);
    expect(copy.problems).toEqual([]);
    const t = copy.template;
    expect(t.containers[0]).toMatchObject({ name: 'web', cpu: 1, memoryInGB: 1.5, ports: [8080] });
    expect(t.containers[0]!.image).toBeUndefined();
    expect(t.containers[1]!.image).toBe('mcr.microsoft.com/oss/nginx/nginx:1.25');
    expect(t.containers[0]!.livenessProbe).toEqual({
      httpGet: { port: 8080, path: '/live' },
      periodSeconds: 5,
      failureThreshold: 3,
    });
    expect(t.containers[0]!.volumeMounts).toEqual(legacyDefinition().containers[0]!.volumeMounts);
    expect(t.imagePullIdentity).toBe(IDENTITY);
    expect(t.identity).toBeUndefined();
    expect(t.dnsConfig).toEqual({
      nameServers: ['10.0.0.10'],
      searchDomains: ['contoso.internal', 'corp.contoso'],
      options: ['ndots:2'],
    });
    expect(t.volumes[0]!.azureFile!.storageAccountKeyFromKeyVault).toEqual(MISSING_REFERENCE);
    expect(t.containers[0]!.secureEnvFromKeyVault['DB_PASSWORD']).toEqual(MISSING_REFERENCE);
  });

  it('fills the holes with the supplied references and notes references that match nothing', () => {
    const app = copyApp({
      ...ALL_REFERENCES,
      storageAccountKeys: { share: ref('st-web-key'), shares: ref('x') },
    });
    const copy = copyTemplate(app, app.adoptGroup!, legacyDefinition());
    expect(copy.missing).toEqual([]);
    expect(copy.template.volumes[0]!.azureFile!.storageAccountKeyFromKeyVault).toEqual(ref('st-web-key'));
    expect(copy.template.volumes[1]!.secret).toEqual({
      'tls.crt': ref('tls-crt'),
      'tls.key': ref('tls-key'),
    });
    expect(copy.notes).toContain(
      'adoptGroup.keyVaultReferences.storageAccountKeys.shares matches nothing in the adopted group',
    );
  });

  it('lists registry passwords and the Log Analytics key as missing too', () => {
    const app = copyApp();
    const copy = copyTemplate(
      app,
      app.adoptGroup!,
      legacyDefinition({
        imageRegistryCredentials: [
          { server: 'contoso.azurecr.io', identity: IDENTITY },
          { server: 'index.docker.io', username: 'contoso' },
        ],
        logAnalytics: {
          workspaceId: '11111111-2222-3333-4444-555555555555',
          logType: 'ContainerInstanceLogs',
        },
      }),
    );
    expect(copy.missing.map((m) => m.field)).toEqual(
      expect.arrayContaining([
        'adoptGroup.keyVaultReferences.registryPasswords["index.docker.io"]',
        'adoptGroup.keyVaultReferences.logAnalyticsWorkspaceKey',
      ]),
    );
  });

  it('refuses what the template cannot keep, and what ACI refuses in a VNet, instead of dropping it', () => {
    const app = copyApp(ALL_REFERENCES);
    const d = legacyDefinition({
      unsupported: ['containers[web].securityContext'],
      ipAddress: { type: 'Public', ports: [{ port: 8080, protocol: 'TCP' }], dnsNameLabel: 'legacy-web' },
    });
    d.containers[0]!.ports.push({ port: 5353, protocol: 'UDP' });
    const copy = copyTemplate(app, app.adoptGroup!, d);
    expect(copy.problems).toEqual([
      'containers[web].ports: UDP port 5353 (the template has TCP ports only)',
      'containers[web].securityContext: the template cannot express it',
      expect.stringMatching(/^ipAddress\.type: a group in a virtual network cannot have a public IP address/),
      expect.stringMatching(
        /^ipAddress\.dnsNameLabel: a group in a virtual network cannot have a DNS name label/,
      ),
    ]);
  });

  it('refuses a group none of whose containers runs the app repository (which one takes the pushed image?)', () => {
    const app = copyApp(ALL_REFERENCES);
    const d = legacyDefinition();
    d.containers[0]!.image = 'contoso.azurecr.io/other:1.0';
    expect(copyTemplate(app, app.adoptGroup!, d).problems[0]).toMatch(
      /^containers: none runs repository web/,
    );
  });
});

// ------------------------------------------------------------------------------------------- through the rollout

function world(references?: Partial<KeyVaultReferences>): World {
  const app = copyApp(references);
  const w = makeWorld({ ...parseAppsConfig({ apps: [] }), apps: [app] });
  w.groups.seed('rg-legacy', 'web-legacy', { definition: legacyDefinition() });
  w.secrets.seed(VAULT, 'st-web-key', 'STORAGE-KEY-from-key-vault==');
  w.secrets.seed(VAULT, 'tls-crt', '-----BEGIN CERTIFICATE-----');
  w.secrets.seed(VAULT, 'tls-key', '-----BEGIN PRIVATE KEY-----');
  return w;
}

describe('adoption: a rollout of a copied spec', () => {
  it('reconcile reads the adopted spec; a push is refused with the list of what to supply, and nothing is created', async () => {
    const w = world();
    await reconcile({ ...w.deps }, budget(w, 30));
    expect(w.store.state('web')!.adoption).toMatchObject({ group: 'web-legacy', resourceGroup: 'rg-legacy' });
    expect(w.store.state('web')!.active).toMatchObject({ group: 'web-legacy', resourceGroup: 'rg-legacy' });
    await push(w, '1.0.0', 1);
    await settle(w);
    const s = w.store.state('web')!;
    expect(s.rollout).toMatchObject({
      state: 'failed',
      error: { reason: 'AdoptionIncomplete', step: 'accepted' },
    });
    for (const field of [
      'adoptGroup.keyVaultReferences.storageAccountKeys.share',
      'adoptGroup.keyVaultReferences.secretVolumes.certs',
      'adoptGroup.keyVaultReferences.secureEnv.web.DB_PASSWORD',
    ])
      expect(s.rollout!.error!.message).toContain(field);
    expect(w.groups.createdSpecs).toEqual([]);
    expect(w.groups.names()).toEqual(['web-legacy']);
    const status = await collectStatus(w.deps);
    expect(status.apps[0]!.adoption).toMatchObject({
      deployable: false,
      group: 'web-legacy',
      copySpec: true,
    });
    expect(status.apps[0]!.adoption!.missing).toHaveLength(3);
  });

  it('with the references supplied, creates the same group (volumes, mounts, probe) with the secrets from Key Vault', async () => {
    const w = world(ALL_REFERENCES);
    await push(w, '1.0.0', 1);
    await settle(w, { gapMs: 10_000 });
    expect(w.store.state('web')!.rollout).toMatchObject({ state: 'succeeded', fromGroup: 'web-legacy' });
    const spec = w.groups.createdSpecs[0]!;
    expect(spec.volumes).toEqual([
      {
        name: 'share',
        kind: 'azureFile',
        shareName: 'web-data',
        storageAccountName: 'stwebdata',
        storageAccountKey: 'STORAGE-KEY-from-key-vault==',
      },
      {
        name: 'certs',
        kind: 'secret',
        files: { 'tls.crt': '-----BEGIN CERTIFICATE-----', 'tls.key': '-----BEGIN PRIVATE KEY-----' },
      },
      { name: 'scratch', kind: 'emptyDir' },
    ]);
    expect(spec.containers[0]).toMatchObject({
      image: expect.stringMatching(/^contoso\.azurecr\.io\/web@sha256:/),
      volumeMounts: legacyDefinition().containers[0]!.volumeMounts,
      livenessProbe: legacyDefinition().containers[0]!.livenessProbe,
      secureEnv: { DB_PASSWORD: 's3cr3t-db-password' },
    });
    expect(spec.containers[1]!.image).toBe('mcr.microsoft.com/oss/nginx/nginx:1.25');
    expect(w.groups.names()).toEqual(['web-blue']);
    const stored = JSON.stringify([w.store.state('web'), await collectStatus(w.deps), w.logger.lines]);
    for (const secret of ['STORAGE-KEY-from-key-vault==', 'BEGIN PRIVATE KEY', 's3cr3t-db-password'])
      expect(stored).not.toContain(secret);
  });

  it('fails without creating anything when a referenced Key Vault secret does not exist, naming what needed it', async () => {
    const w = world({ ...ALL_REFERENCES, storageAccountKeys: { share: ref('no-such-secret') } });
    await push(w, '1.0.0', 1);
    await settle(w, { gapMs: 10_000 });
    expect(w.store.state('web')!.rollout).toMatchObject({
      state: 'failed',
      error: {
        step: 'creating',
        reason: 'KeyVaultSecretMissing',
        message: `storage account key of volume share: secret no-such-secret not found in ${VAULT}`,
      },
    });
    expect(w.groups.createdSpecs).toEqual([]);
  });

  it('a push before any reconcile adopts and reads the spec on the spot', async () => {
    const w = world(ALL_REFERENCES);
    const r = await push(w, '1.0.0', 1);
    expect(r.outcome).toBe('started');
    expect(w.groups.calls.getDefinition).toBe(1);
    await settle(w, { gapMs: 10_000 });
    expect(w.store.state('web')!.rollout!.state).toBe('succeeded');
  });
});

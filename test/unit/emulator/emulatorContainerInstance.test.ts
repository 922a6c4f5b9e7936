import { describe, expect, it } from 'vitest';
import { EmulatorHttpError } from '../../../emulator/src/core/errors.js';
import { crashTimeline } from '../../../emulator/src/containerInstance/crashTimeline.js';
import { isValidGroupName } from '../../../emulator/src/containerInstance/groupTypes.js';
import {
  immutableChange,
  validateGroupPut,
} from '../../../emulator/src/containerInstance/groupValidation.js';
import { parseImageRef, pullImage } from '../../../emulator/src/containerInstance/imagePull.js';
import {
  allocateAddress,
  publicRange,
  subnetRange,
} from '../../../emulator/src/containerInstance/subnetAddresses.js';

const SUBNET =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/aci';

const validBody = () => ({
  location: 'westeurope',
  properties: {
    osType: 'Linux',
    containers: [
      {
        name: 'web',
        properties: {
          image: 'nginx',
          ports: [{ port: 8080 }],
          resources: { requests: { cpu: 1, memoryInGB: 1 } },
        },
      },
    ],
    ipAddress: { type: 'Private', ports: [{ port: 8080 }] },
    subnetIds: [{ id: SUBNET }],
  },
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof EmulatorHttpError ? err.code : `not an ARM error: ${String(err)}`;
  }
}

describe('emulated subnet addresses', () => {
  it('maps a subnet id to a stable /24 in 127.100-199.x.x, case-insensitively', () => {
    const a = subnetRange(SUBNET);
    expect(a.cidr).toMatch(/^127\.(1\d\d)\.\d{1,3}\.0\/24$/);
    expect(subnetRange(SUBNET.toUpperCase()).cidr).toBe(a.cidr);
    expect(subnetRange(`${SUBNET}/`).cidr).toBe(a.cidr);
    expect(subnetRange(`${SUBNET}-other`).cidr).not.toBe(a.cidr);
  });

  it('hands out the lowest free host from .4 (Azure reserves .0-.3) and skips excluded and refused ones', async () => {
    const range = subnetRange(SUBNET);
    const prefix = range.cidr.replace(/0\/24$/, '');
    expect(await allocateAddress(range, new Set())).toBe(`${prefix}4`);
    expect(await allocateAddress(range, new Set([`${prefix}4`]))).toBe(`${prefix}5`);
    expect(await allocateAddress(range, new Set([`${prefix}4`]), new Set([`${prefix}5`]))).toBe(`${prefix}6`);
    expect(await allocateAddress(range, new Set(), new Set(), (ip) => ip !== `${prefix}4`)).toBe(
      `${prefix}5`,
    );
    expect([...range.hosts()]).toHaveLength(251);
    expect(await allocateAddress(range, new Set(range.hosts()))).toBeUndefined();
  });

  it('keeps public addresses in 127.50.0.0/16', async () => {
    expect(await allocateAddress(publicRange(), new Set())).toBe('127.50.0.4');
  });
});

describe('container group validation', () => {
  it('accepts a valid private group', () => {
    const v = validateGroupPut('web-blue', validBody(), { rawBodyLength: 1, tenantId: 't' });
    expect(v.properties.restartPolicy).toBe('Always');
    expect(v.properties.ipAddress?.type).toBe('Private');
  });

  it('applies ACI naming rules', () => {
    expect(isValidGroupName('web-blue')).toBe(true);
    expect(isValidGroupName('a'.repeat(63))).toBe(true);
    expect(isValidGroupName('a'.repeat(64))).toBe(false);
    expect(isValidGroupName('Web')).toBe(false);
    expect(isValidGroupName('-web')).toBe(false);
    expect(isValidGroupName('web-')).toBe(false);
    expect(isValidGroupName('we--b')).toBe(false);
  });

  it('answers the ARM codes for common mistakes', () => {
    const put = (mutate: (b: ReturnType<typeof validBody>) => unknown, name = 'g') => {
      const b = validBody();
      mutate(b);
      return codeOf(() => validateGroupPut(name, b, { rawBodyLength: 1, tenantId: 't' }));
    };
    expect(put(() => undefined, 'Bad_Name')).toBe('InvalidContainerGroupName');
    expect(put((b) => delete (b.properties as Partial<typeof b.properties>).subnetIds)).toBe(
      'PrivateIPAddressNotSupported',
    );
    expect(put((b) => delete (b.properties.containers[0]!.properties as { image?: string }).image)).toBe(
      'InvalidRequestContent',
    );
    expect(put((b) => (b.properties.ipAddress.ports = [{ port: 9090 }]))).toBe('InvalidIpAddressPorts');
    expect(put((b) => b.properties.containers.push(b.properties.containers[0]!))).toBe(
      'DuplicateContainerName',
    );
    expect(put((b) => (b.properties.subnetIds = [{ id: '/not/a/subnet' }]))).toBe('LinkedInvalidPropertyId');
    expect(put((b) => ((b as { location?: string }).location = undefined))).toBe('LocationRequired');
    expect(
      put(
        (b) =>
          ((b.properties as Record<string, unknown>)['imageRegistryCredentials'] = [
            {
              server: 'contoso.azurecr.io',
              identity:
                '/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x',
            },
          ]),
      ),
    ).toBe('InvalidImageRegistryCredentialIdentity');
  });

  it('names the properties an update cannot change in place', () => {
    const a = validateGroupPut('g', validBody(), { rawBodyLength: 1, tenantId: 't' }).properties;
    const b = structuredClone(a);
    b.containers[0]!.properties.image = 'nginx:2';
    expect(immutableChange(a, b)).toBeUndefined();
    b.restartPolicy = 'Never';
    expect(immutableChange(a, b)).toBe('restart policy');
  });
});

describe('crash loop timeline', () => {
  it('counts restarts with exponential back-off and reports the last exit', () => {
    const base = 300; // runs 100 ms, back-off 300, 600, 1200 ...
    expect(crashTimeline(0, 50, base, true)).toMatchObject({ running: true, restartCount: 0 });
    expect(crashTimeline(0, 150, base, true)).toMatchObject({
      running: false,
      restartCount: 0,
      previous: { start: 0, exit: 100 },
      nextChangeAt: 400,
    });
    expect(crashTimeline(0, 450, base, true)).toMatchObject({
      running: true,
      restartCount: 1,
      lastStart: 400,
    });
    const later = crashTimeline(0, 1000, base, true);
    expect(later).toMatchObject({ running: false, restartCount: 1, previous: { start: 400, exit: 500 } });
    expect(later.starts.count).toBe(2);
    expect(later.exits?.count).toBe(2);
  });

  it('stops after one run when the group never restarts', () => {
    expect(crashTimeline(0, 10_000, 300, false)).toMatchObject({ finished: true, restartCount: 0 });
  });
});

describe('image pulls', () => {
  it('parses references like docker', () => {
    expect(parseImageRef('nginx')).toEqual({
      registry: 'docker.io',
      repository: 'library/nginx',
      tag: 'latest',
    });
    expect(parseImageRef('contoso.azurecr.io/team/web:1.2.3')).toEqual({
      registry: 'contoso.azurecr.io',
      repository: 'team/web',
      tag: '1.2.3',
    });
    expect(parseImageRef(`contoso.azurecr.io/web@sha256:${'a'.repeat(64)}`)).toEqual({
      registry: 'contoso.azurecr.io',
      repository: 'web',
      digest: `sha256:${'a'.repeat(64)}`,
    });
  });

  it('treats every image as public and healthy when no registry service is there', () => {
    const a = pullImage(undefined, 'mcr.microsoft.com/azuredocs/aci-helloworld:latest', undefined, 'g');
    expect(a).toMatchObject({ ok: true, behavior: { mode: 'healthy' }, tag: 'latest' });
    const b = pullImage(undefined, 'mcr.microsoft.com/azuredocs/aci-helloworld:latest', undefined, 'g');
    expect(a.ok && b.ok && a.digest === b.digest).toBe(true);
  });

  it('passes the credentials for the image registry to the lookup and keeps its failure text', () => {
    const calls: unknown[] = [];
    const result = pullImage(
      {
        resolveImage: (image, pull) => {
          calls.push({ image, pull });
          return { kind: 'unauthorized', message: 'Failed to pull image "x": 401 Unauthorized' };
        },
      },
      'contoso.azurecr.io/web:1',
      [
        { server: 'other.azurecr.io', username: 'u' },
        { server: 'CONTOSO.azurecr.io', identity: '/id' },
      ],
      'g',
    );
    expect(calls).toEqual([{ image: 'contoso.azurecr.io/web:1', pull: { identity: '/id' } }]);
    expect(result).toEqual({
      ok: false,
      reason: 'unauthorized',
      eventMessage: 'Failed to pull image "x": 401 Unauthorized',
    });
  });
});

/** The container group a rollout creates, from the app's effective template, the pushed image and the secrets. */
import type { AppConfig } from '../config/appsConfig.js';
import { configHash } from './configHash.js';
import type { EffectiveTemplate } from './effectiveTemplate.js';
import { GROUP_TAGS, MANAGED_BY, type Rollout } from './model.js';
import type { ContainerGroupSpec, InitContainerSpec, RegistryCredentialSpec, VolumeSpec } from './ports.js';
import { slot, type SecretValues } from './templateSecrets.js';

export function groupTags(
  app: AppConfig,
  rollout: Rollout,
  createdAt: string,
  t: EffectiveTemplate,
): Record<string, string> {
  return {
    [GROUP_TAGS.configHash]: configHash(t),
    [GROUP_TAGS.app]: app.name,
    [GROUP_TAGS.colour]: rollout.colour,
    [GROUP_TAGS.digest]: rollout.digest,
    [GROUP_TAGS.tag]: rollout.tag,
    [GROUP_TAGS.rolloutId]: rollout.id,
    [GROUP_TAGS.managedBy]: MANAGED_BY,
    [GROUP_TAGS.createdAt]: createdAt,
  };
}

/** A value resolveSecrets() read; its absence is a bug in the caller (it resolves every reference first). */
function secretOf(values: SecretValues, key: string): string {
  const v = values.get(key);
  if (v === undefined) throw new Error(`secret for ${key} was not resolved`);
  return v;
}

function secureEnvOf(container: string, names: string[], values: SecretValues): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, secretOf(values, slot.env(container, n))]));
}

function volumesOf(t: EffectiveTemplate, values: SecretValues): VolumeSpec[] {
  return t.volumes.map((v): VolumeSpec => {
    if (v.azureFile)
      return {
        name: v.name,
        kind: 'azureFile',
        shareName: v.azureFile.shareName,
        storageAccountName: v.azureFile.storageAccountName,
        storageAccountKey: secretOf(values, slot.storageKey(v.name)),
        ...(v.azureFile.readOnly !== undefined ? { readOnly: v.azureFile.readOnly } : {}),
      };
    if (v.secret)
      return {
        name: v.name,
        kind: 'secret',
        files: Object.fromEntries(
          Object.keys(v.secret).map((f) => [f, secretOf(values, slot.secretFile(v.name, f))]),
        ),
      };
    if (v.gitRepo) return { name: v.name, kind: 'gitRepo', ...v.gitRepo };
    return { name: v.name, kind: 'emptyDir' };
  });
}

function registryCredentialsOf(t: EffectiveTemplate, values: SecretValues): RegistryCredentialSpec[] {
  return t.registryCredentials.map((c) =>
    c.identity
      ? { server: c.server, identity: c.identity }
      : {
          server: c.server,
          username: c.username!,
          password: secretOf(values, slot.registryPassword(c.server)),
        },
  );
}

/** Group-level settings that the PUT carries only when set. */
function groupSettings(t: EffectiveTemplate, values: SecretValues): Partial<ContainerGroupSpec> {
  const la = t.diagnostics?.logAnalytics;
  return {
    sku: t.sku,
    priority: t.priority,
    ...(t.ccePolicy ? { ccePolicy: t.ccePolicy } : {}),
    ...(t.zones && t.zones.length > 0 ? { zones: [...t.zones] } : {}),
    ...(t.identity
      ? {
          identity: { userAssigned: [...t.identity.userAssigned], systemAssigned: t.identity.systemAssigned },
        }
      : {}),
    ...(t.dnsConfig ? { dnsConfig: structuredClone(t.dnsConfig) } : {}),
    ...(la
      ? {
          logAnalytics: {
            workspaceId: la.workspaceId,
            workspaceKey: secretOf(values, slot.workspaceKey()),
            ...(la.logType ? { logType: la.logType } : {}),
            ...(la.metadata ? { metadata: { ...la.metadata } } : {}),
          },
        }
      : {}),
  };
}

export function buildGroupSpec(
  app: AppConfig,
  t: EffectiveTemplate,
  rollout: Rollout,
  values: SecretValues,
  createdAt: string,
): ContainerGroupSpec {
  const initContainers = t.initContainers.map((c): InitContainerSpec => ({
    name: c.name,
    image: c.image ?? rollout.image,
    ...(c.command ? { command: [...c.command] } : {}),
    env: { ...c.env },
    secureEnv: secureEnvOf(c.name, Object.keys(c.secureEnvFromKeyVault), values),
    volumeMounts: c.volumeMounts.map((m) => ({ ...m })),
  }));
  return {
    name: rollout.group,
    location: t.location,
    tags: groupTags(app, rollout, createdAt, t),
    osType: t.osType,
    restartPolicy: t.restartPolicy,
    subnetId: t.subnetId,
    ports: [...new Set(t.containers.flatMap((c) => c.ports))],
    registry: {
      server: rollout.loginServer,
      ...(t.imagePullIdentity ? { identity: t.imagePullIdentity } : {}),
    },
    registryCredentials: registryCredentialsOf(t, values),
    ...groupSettings(t, values),
    volumes: volumesOf(t, values),
    initContainers,
    containers: t.containers.map((c) => ({
      name: c.name,
      image: c.image ?? rollout.image,
      cpu: c.cpu,
      memoryInGB: c.memoryInGB,
      ports: [...c.ports],
      ...(c.command ? { command: [...c.command] } : {}),
      env: { ...c.env },
      secureEnv: secureEnvOf(c.name, Object.keys(c.secureEnvFromKeyVault), values),
      volumeMounts: c.volumeMounts.map((m) => ({ ...m })),
      ...(c.livenessProbe ? { livenessProbe: structuredClone(c.livenessProbe) } : {}),
      ...(c.readinessProbe ? { readinessProbe: structuredClone(c.readinessProbe) } : {}),
    })),
  };
}

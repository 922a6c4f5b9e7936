/** The container group a rollout creates, from the app's template and the pushed digest. */
import type { AppConfig } from '../config/appsConfig.js';
import { GROUP_TAGS, MANAGED_BY, type Rollout } from './model.js';
import type { ContainerGroupSpec } from './ports.js';

/** secure values per container name, per variable (resolved from Key Vault just before the create). */
export type SecureEnvValues = Record<string, Record<string, string>>;

export function groupTags(app: AppConfig, rollout: Rollout, createdAt: string): Record<string, string> {
  return {
    [GROUP_TAGS.app]: app.name,
    [GROUP_TAGS.colour]: rollout.colour,
    [GROUP_TAGS.digest]: rollout.digest,
    [GROUP_TAGS.tag]: rollout.tag,
    [GROUP_TAGS.rolloutId]: rollout.id,
    [GROUP_TAGS.managedBy]: MANAGED_BY,
    [GROUP_TAGS.createdAt]: createdAt,
  };
}

export function buildGroupSpec(
  app: AppConfig,
  rollout: Rollout,
  secureEnv: SecureEnvValues,
  createdAt: string,
): ContainerGroupSpec {
  const t = app.template;
  return {
    name: rollout.group,
    location: app.location,
    tags: groupTags(app, rollout, createdAt),
    osType: t.osType,
    restartPolicy: t.restartPolicy,
    subnetId: app.subnetId,
    ports: [...new Set(t.containers.flatMap((c) => c.ports))],
    registry: {
      server: rollout.loginServer,
      ...(t.imagePullIdentity ? { identity: t.imagePullIdentity } : {}),
    },
    containers: t.containers.map((c) => ({
      name: c.name,
      image: c.image ?? rollout.image,
      cpu: c.cpu,
      memoryInGB: c.memoryInGB,
      ports: c.ports,
      ...(c.command ? { command: c.command } : {}),
      env: { ...c.env },
      secureEnv: { ...(secureEnv[c.name] ?? {}) },
    })),
  };
}

/** Containers of the app that run the pushed image (the others run fixed sidecar images). */
export function appContainerNames(app: AppConfig): string[] {
  return app.template.containers.filter((c) => c.image === undefined).map((c) => c.name);
}

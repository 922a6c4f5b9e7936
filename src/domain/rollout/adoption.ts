/**
 * Adoption: an app whose `adoptGroup` names a running group takes that group as its active deployment until the
 * first rollout replaces it, so a workload moves under management without downtime.
 */
import type { AppConfig } from '../../config/appsConfig.js';
import type { DomainDeps } from '../deps.js';
import { appContainerNames } from '../groupSpec.js';
import { GROUP_TAGS, iso, type ActiveDeployment, type AppState } from '../model.js';
import type { ContainerGroupView } from '../ports.js';
import { newAppState } from '../appState.js';
import { digestOfImage, tagOfImage } from '../tagPolicy.js';

/** Seed an app's state (adopting `adoptGroup` as the active group when it exists). */
export async function initialState(app: AppConfig, deps: DomainDeps, now: number): Promise<AppState> {
  if (!app.adoptGroup) return newAppState(app.name, now);
  const g = await deps.containerGroups.get(app.resourceGroup, app.adoptGroup);
  if (!g) {
    deps.logger.warn(
      `${app.name}: adoptGroup ${app.resourceGroup}/${app.adoptGroup} not found; nothing to adopt`,
    );
    return newAppState(app.name, now);
  }
  return newAppState(app.name, now, adoptedActive(app, g, now));
}

/** The active deployment an adopted group stands for: its colour if it has our name, its image's digest and tag. */
export function adoptedActive(app: AppConfig, g: ContainerGroupView, now: number): ActiveDeployment {
  const names = appContainerNames(app);
  const image = (g.containers.find((c) => names.includes(c.name)) ?? g.containers[0])?.image;
  const colour =
    g.name === `${app.name}-blue` ? 'blue' : g.name === `${app.name}-green` ? 'green' : 'adopted';
  const digest = g.tags[GROUP_TAGS.digest] ?? (image ? digestOfImage(image) : undefined);
  const tag = g.tags[GROUP_TAGS.tag] ?? (image ? tagOfImage(image) : undefined);
  return {
    group: g.name,
    resourceGroup: app.resourceGroup,
    colour,
    ...(digest ? { digest } : {}),
    ...(tag ? { tag } : {}),
    ...(image ? { image } : {}),
    since: iso(now),
  };
}

/**
 * Adoption: an app whose `adoptGroup` names a running group takes that group as its active deployment until the
 * first rollout replaces it, so a workload moves under management without downtime. With `copySpec` the group's
 * definition is read once and kept in the app's state: it is the app's template from then on (adoptionSpec.ts).
 */
import type { AppConfig } from '../../config/appsConfig.js';
import type { DomainDeps } from '../deps.js';
import { errorMessage } from '../errors.js';
import { effectiveTemplate, pushedContainerNames } from '../effectiveTemplate.js';
import { GROUP_TAGS, iso, type ActiveDeployment, type AdoptionRecord, type AppState } from '../model.js';
import type { ContainerGroupView } from '../ports.js';
import { newAppState } from '../appState.js';
import { digestOfImage, tagOfImage } from '../tagPolicy.js';
import { pushedImageContainers } from './adoptionSpec.js';

/** Seed an app's state (adopting `adoptGroup` as the active group when it exists). */
export async function initialState(app: AppConfig, deps: DomainDeps, now: number): Promise<AppState> {
  const adopt = app.adoptGroup;
  if (!adopt) return newAppState(app.name, now);
  const g = await deps.containerGroups.get(adopt.resourceGroup, adopt.name);
  if (!g) {
    deps.logger.warn(
      `${app.name}: adoptGroup ${adopt.resourceGroup}/${adopt.name} not found; nothing to adopt`,
    );
    return newAppState(app.name, now);
  }
  const state = newAppState(app.name, now, adoptedActive(app, g, now));
  if (adopt.copySpec) state.adoption = await readAdoption(app, deps, now);
  return state;
}

/** Whether `state` already holds the definition of the group `app` adopts with copySpec. */
export function adoptionRead(app: AppConfig, state: AppState | undefined): boolean {
  const a = state?.adoption;
  const adopt = app.adoptGroup;
  return (
    !!adopt &&
    a?.definition !== undefined &&
    a.group === adopt.name &&
    a.resourceGroup.toLowerCase() === adopt.resourceGroup.toLowerCase()
  );
}

/** Reads the adopted group's definition (copySpec). A failure is recorded as the adoption's problem, not thrown. */
export async function readAdoption(app: AppConfig, deps: DomainDeps, now: number): Promise<AdoptionRecord> {
  const { resourceGroup, name } = app.adoptGroup!;
  const record: AdoptionRecord = { resourceGroup, group: name, readAt: iso(now) };
  try {
    const definition = await deps.containerGroups.getDefinition(resourceGroup, name);
    if (definition) record.definition = definition;
    else record.problem = `adoptGroup ${resourceGroup}/${name} not found: its spec cannot be copied`;
  } catch (e) {
    record.problem = `adoptGroup ${resourceGroup}/${name} could not be read: ${errorMessage(e)}`;
  }
  return record;
}

/** Containers of the app that run the pushed image, in `g` (by the template, or by repository with copySpec). */
function appContainerNames(app: AppConfig, g: ContainerGroupView, state?: AppState): string[] {
  if (!app.adoptGroup?.copySpec) return pushedContainerNames(app.template!);
  const t = effectiveTemplate(app, state?.adoption).template;
  return t ? pushedContainerNames(t) : pushedImageContainers(app, g.containers);
}

/** The active deployment an adopted group stands for: its colour if it has our name, its image's digest and tag. */
export function adoptedActive(app: AppConfig, g: ContainerGroupView, now: number): ActiveDeployment {
  const names = appContainerNames(app, g);
  const image = (g.containers.find((c) => names.includes(c.name)) ?? g.containers[0])?.image;
  const colour =
    g.name === `${app.name}-blue` ? 'blue' : g.name === `${app.name}-green` ? 'green' : 'adopted';
  const digest = g.tags[GROUP_TAGS.digest] ?? (image ? digestOfImage(image) : undefined);
  const tag = g.tags[GROUP_TAGS.tag] ?? (image ? tagOfImage(image) : undefined);
  return {
    group: g.name,
    resourceGroup: app.adoptGroup?.resourceGroup ?? app.resourceGroup,
    colour,
    ...(digest ? { digest } : {}),
    ...(tag ? { tag } : {}),
    ...(image ? { image } : {}),
    since: iso(now),
  };
}

/** The containers whose image drift is reported for the app's active group `g`. */
export function driftContainers(app: AppConfig, g: ContainerGroupView, state: AppState): string[] {
  return appContainerNames(app, g, state);
}

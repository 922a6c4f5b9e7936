/**
 * The steps that bring the new group up: check the registry, clear the idle colour's name, create the group with
 * the pushed image by digest (the platform's manifest for an image index), wait until it runs.
 */
import { NotFoundError, TerminalError, errorMessage } from '../errors.js';
import { diagnoseGroup } from '../groupDiagnosis.js';
import { templatePlatform } from '../effectiveTemplate.js';
import { buildGroupSpec } from '../groupSpec.js';
import { formatPlatform, isImageIndex, parsePlatform, pickPlatformManifest } from '../imageIndex.js';
import { checkRegistryAccess } from '../registryAccess.js';
import { GROUP_TAGS, MANAGED_BY, iso, ms, type FailureReason } from '../model.js';
import { addCondition } from '../appState.js';
import { resolveSecrets } from '../templateSecrets.js';
import { deleteWithReissue } from './housekeeping.js';
import { rolloutTemplate } from './rolloutTemplate.js';
import {
  goto,
  waitFor,
  fail,
  ours,
  pullRetry,
  seconds,
  recreate,
  type StepContext,
  type Step,
} from './step.js';

export const accepted: Step = async (ctx) => {
  const { r, app } = ctx;
  let registry;
  try {
    registry = await ctx.deps.registries.get(app.registry.resourceId);
  } catch (e) {
    if (e instanceof NotFoundError)
      return fail(
        ctx,
        'RegistryNotFound',
        `registry ${app.registry.resourceId} not found: ${errorMessage(e)}`,
      );
    throw e;
  }
  ctx.state.registryLoginServer = registry.loginServer.toLowerCase();
  const template = rolloutTemplate(ctx);
  if (!template.ok) return fail(ctx, 'AdoptionIncomplete', template.message);
  const access = await checkRegistryAccess(ctx.deps.registries, app, registry, template.template);
  for (const note of access.notes) addCondition(r, r.step, ctx.now, note);
  if (!access.ok) return fail(ctx, access.reason, access.message);
  if (registry.loginServer.toLowerCase() !== r.loginServer.toLowerCase())
    return fail(
      ctx,
      'AzureError',
      `event login server ${r.loginServer} does not match registry ${registry.name} (${registry.loginServer})`,
    );
  return goto(ctx, 'cleaningIdle', `${access.path}; target ${r.group}`);
};

export const cleaningIdle: Step = async (ctx) => {
  const { r } = ctx;
  const g = await ctx.deps.containerGroups.get(r.resourceGroup, r.group);
  if (!g) return goto(ctx, 'creating', `no leftover ${r.group}`);
  if (ours(g, r)) return goto(ctx, 'waitingRunning', `${r.group} already created by this rollout`);
  if (ctx.state.active?.group === r.group)
    return fail(ctx, 'GroupNameTaken', `${r.group} is the active group; refusing to replace it`);
  if (g.tags[GROUP_TAGS.managedBy] !== MANAGED_BY)
    return fail(
      ctx,
      'GroupNameTaken',
      `${r.group} exists in ${r.resourceGroup} and is not managed by us (no ${GROUP_TAGS.managedBy}=${MANAGED_BY} tag); refusing to delete it`,
    );
  const issued = await deleteWithReissue(ctx.deps, g, r.resourceGroup, r.deleteRequestedAt, ctx.now);
  if (issued) r.deleteRequestedAt = issued;
  return waitFor(
    ctx,
    ctx.opts.pollIntervalMs,
    `waiting for leftover ${r.group} (rollout ${g.tags[GROUP_TAGS.rolloutId] ?? '?'}) to be deleted`,
  );
};

/**
 * A pushed image index (multi-platform, or buildx's default with attestations) is deployed as its manifest for
 * the app's platform, read once through the registry's data plane; the pushed digest stays the rollout's
 * identity (duplicates, tags, status). A plain manifest needs no lookup.
 */
async function resolvePlatformImage(
  ctx: StepContext,
): Promise<
  { ok: true } | { ok: false; reason: FailureReason; message: string } | { ok: 'wait'; message: string }
> {
  const { r } = ctx;
  if (!isImageIndex(r.mediaType) || r.platformDigest) return { ok: true };
  const template = rolloutTemplate(ctx);
  if (!template.ok) return { ok: false, reason: 'AdoptionIncomplete', message: template.message };
  const wanted = parsePlatform(templatePlatform(template.template))!;
  const short = r.digest.slice(7, 19);
  let fetched;
  try {
    fetched = await ctx.deps.registryManifests.getManifest(r.loginServer, r.repository, r.digest);
  } catch (e) {
    if (e instanceof NotFoundError)
      return {
        ok: false,
        reason: 'ImagePullFailed',
        message: `image index ${short} of ${r.repository} is no longer in ${r.loginServer} (deleted after the push?): ${errorMessage(e)}`,
      };
    if (e instanceof TerminalError && e.code === 'RegistryAccessDenied') {
      // Right after `azd up` the function identity's registry role may still be propagating (as a new pull
      // identity's may, for ACI's pull): a denial is final only once it has lasted pullFailureGraceSeconds.
      const { now, graceMs } = pullRetry(ctx);
      r.accessDeniedSince ??= iso(now);
      const deniedFor = now - (ms(r.accessDeniedSince) ?? now);
      if (deniedFor < graceMs)
        return {
          ok: 'wait',
          message: `reading image index ${short} was refused; retrying: ${errorMessage(e)}`,
        };
      return {
        ok: false,
        reason: 'RegistryAccessDenied',
        message: `reading image index ${short}: refused for ${seconds(deniedFor)}: ${errorMessage(e)}`,
      };
    }
    if (e instanceof TerminalError)
      return { ok: false, reason: 'AzureError', message: `reading image index ${short}: ${errorMessage(e)}` };
    throw e;
  }
  delete r.accessDeniedSince;
  if (!isImageIndex(fetched.mediaType)) return { ok: true };
  const choice = pickPlatformManifest(fetched.manifest, wanted);
  if (!choice.ok)
    return {
      ok: false,
      reason: 'PlatformNotFound',
      message: `${r.repository}:${r.tag} (${short}): ${choice.message}. Build the image for ${formatPlatform(wanted)} (docker buildx build --platform ${formatPlatform(wanted)}), or set template.platform to one it has.`,
    };
  r.platformDigest = choice.digest;
  r.platform = choice.platform;
  r.image = `${r.loginServer}/${r.repository}@${choice.digest}`;
  addCondition(
    r,
    r.step,
    ctx.now,
    `image index ${short}: deploying its ${choice.platform} manifest ${choice.digest.slice(7, 19)}`,
  );
  return { ok: true };
}

export const creating: Step = async (ctx) => {
  const { r } = ctx;
  const g = await ctx.deps.containerGroups.get(r.resourceGroup, r.group);
  if (g && ours(g, r)) return goto(ctx, 'waitingRunning', `${r.group} exists (created by this rollout)`);
  if (g) return goto(ctx, 'cleaningIdle', `${r.group} was re-created by someone else; cleaning it`);
  const platformImage = await resolvePlatformImage(ctx);
  if (platformImage.ok === 'wait') return waitFor(ctx, ctx.opts.pollIntervalMs, platformImage.message);
  if (!platformImage.ok) return fail(ctx, platformImage.reason, platformImage.message);
  const template = rolloutTemplate(ctx);
  if (!template.ok) return fail(ctx, 'AdoptionIncomplete', template.message);
  const secrets = await resolveSecrets(template.template, ctx.deps.secrets);
  if (!secrets.ok) return fail(ctx, secrets.reason, secrets.message);
  const spec = buildGroupSpec(ctx.app, template.template, r, secrets.values, iso(ctx.now));
  // Which versions the group gets (a config-change rollout compares them with the vault's later): never values.
  r.secretVersions = secrets.versions;
  try {
    await ctx.deps.containerGroups.beginCreate(r.resourceGroup, spec);
  } catch (e) {
    if (e instanceof TerminalError && e.code === 'InaccessibleImage')
      return fail(ctx, 'ImagePullFailed', `image pull failed: ${errorMessage(e)}`);
    throw e;
  }
  r.createRequestedAt = iso(ctx.now);
  return goto(ctx, 'waitingRunning', `create requested for ${r.group} (${r.image})`);
};

export const waitingRunning: Step = async (ctx) => {
  const { r, app } = ctx;
  const g = await ctx.deps.containerGroups.get(r.resourceGroup, r.group);
  if (!g) return recreate(ctx, `${r.group} disappeared before it was Running`);
  if (!ours(g, r)) return recreate(ctx, `${r.group} belongs to another rollout`);
  r.createRequestedAt ??= iso(ctx.now);
  const d = diagnoseGroup(g, app.health.maxRestarts, pullRetry(ctx));
  if (d.phase === 'failed') return fail(ctx, d.reason, d.message);
  if (d.phase === 'running') {
    r.runningAt = iso(ctx.now);
    r.ip = d.ip;
    return goto(ctx, 'healthGate', `${r.group} Running at ${d.ip}`);
  }
  const elapsed = ctx.now - (ms(r.createRequestedAt) ?? ctx.now);
  if (elapsed >= app.provisioningTimeoutSeconds * 1000)
    return fail(
      ctx,
      'ProvisioningTimeout',
      `provisioning timeout: ${r.group} not Running after ${seconds(elapsed)} (${d.detail})`,
    );
  return waitFor(ctx, ctx.opts.pollIntervalMs, `waiting for ${r.group} to be Running: ${d.detail}`);
};

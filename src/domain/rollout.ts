/**
 * The blue/green rollout: an ordered list of idempotent steps over one stored record, level-triggered like a
 * Kubernetes controller. Each step decides from the stored record plus what Azure shows now, acts, and says
 * "next step" or "wait until"; the runner (rollout/runner.ts) writes the record with a compare-and-swap after
 * every step, so a crash between any two steps resumes where it stopped, and two instances never both move one
 * rollout.
 *
 *   accepted → cleaningIdle → creating → waitingRunning → healthGate → switching → draining → deletingOld
 *   → succeeded          (or: failed with a reason; superseded by a newer push)
 */
import type { AppConfig } from '../config/appsConfig.js';
import { optionsOf, type DomainDeps, type DomainOptions } from './deps.js';
import { ConflictError, NotFoundError, TerminalError, TransientError, errorMessage } from './errors.js';
import { diagnoseGroup } from './groupDiagnosis.js';
import { buildGroupSpec, type SecureEnvValues } from './groupSpec.js';
import { formatPlatform, isImageIndex, parsePlatform, pickPlatformManifest } from './imageIndex.js';
import { checkRegistryAccess } from './registryAccess.js';
import {
  COMMITTED_STEPS,
  GROUP_TAGS,
  MANAGED_BY,
  iso,
  ms,
  type ActiveDeployment,
  type AppState,
  type FailureReason,
  type Rollout,
  type RolloutStep,
} from './model.js';
import type { ContainerGroupView } from './ports.js';
import { addCondition, closeRollout } from './appState.js';
import { deleteWithReissue } from './rollout/housekeeping.js';
import { appSecretTags } from './secretTargets.js';

// ---------------------------------------------------------------- step plumbing

interface StepContext {
  app: AppConfig;
  deps: DomainDeps;
  opts: DomainOptions;
  /** Draft copy of the stored state; steps mutate it, `advance` writes it. */
  state: AppState;
  r: Rollout;
  now: number;
  deadline: number;
}

type StepResult = { kind: 'continue' } | { kind: 'wait'; untilMs: number };

type Step = (ctx: StepContext) => Promise<StepResult>;

function goto(ctx: StepContext, next: RolloutStep, message: string): StepResult {
  addCondition(ctx.r, ctx.r.step, ctx.now, message);
  ctx.r.step = next;
  ctx.r.updatedAt = iso(ctx.now);
  delete ctx.r.waiting;
  delete ctx.r.transient;
  return { kind: 'continue' };
}

function waitFor(ctx: StepContext, delayMs: number, message: string): StepResult {
  const w = ctx.r.waiting;
  ctx.r.waiting = { step: ctx.r.step, since: w && w.step === ctx.r.step ? w.since : iso(ctx.now), message };
  return { kind: 'wait', untilMs: ctx.now + Math.max(0, delayMs) };
}

/** Fail the rollout: record the reason, schedule the new group's removal (unless keepFailed), keep the old. */
export function failRollout(
  state: AppState,
  app: AppConfig,
  reason: FailureReason,
  message: string,
  now: number,
): void {
  const r = state.rollout;
  if (!r || r.state !== 'inProgress') return;
  r.error = { step: r.step, reason, message };
  addCondition(r, 'failed', now, message);
  const mayExist = r.step !== 'accepted';
  if (mayExist && !app.keepFailed) {
    state.pendingDeletions.push({
      resourceGroup: r.resourceGroup,
      group: r.group,
      rolloutId: r.id,
      notBefore: iso(now),
      reason: `failed rollout ${r.id}`,
    });
  }
  closeRollout(state, r, 'failed', now);
}

function fail(ctx: StepContext, reason: FailureReason, message: string): StepResult {
  failRollout(ctx.state, ctx.app, reason, message, ctx.now);
  return { kind: 'continue' };
}

function succeed(ctx: StepContext, message: string): StepResult {
  addCondition(ctx.r, ctx.r.step, ctx.now, message);
  ctx.r.step = 'succeeded';
  closeRollout(ctx.state, ctx.r, 'succeeded', ctx.now, message);
  return { kind: 'continue' };
}

function ours(g: ContainerGroupView, r: Rollout): boolean {
  return g.tags[GROUP_TAGS.rolloutId] === r.id;
}

/** ACI retries failing pulls: one is final after the app's grace (groupDiagnosis.ts). */
function pullRetry(ctx: StepContext): { now: number; graceMs: number } {
  return { now: ctx.now, graceMs: ctx.app.pullFailureGraceSeconds * 1000 };
}

function seconds(msValue: number): string {
  return `${Math.round(msValue / 1000)} s`;
}

// ---------------------------------------------------------------- steps

const accepted: Step = async (ctx) => {
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
  const access = await checkRegistryAccess(ctx.deps.registries, app, registry);
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

const cleaningIdle: Step = async (ctx) => {
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

async function secureEnvValues(
  ctx: StepContext,
): Promise<{ ok: true; values: SecureEnvValues } | { ok: false; missing: string }> {
  const out: SecureEnvValues = {};
  for (const c of ctx.app.template.containers) {
    for (const [name, ref] of Object.entries(c.secureEnvFromKeyVault)) {
      const v = await ctx.deps.secrets.getValue(ref.vaultUrl, ref.secretName);
      if (v === undefined)
        return {
          ok: false,
          missing: `secure env ${c.name}.${name}: secret ${ref.secretName} not found in ${ref.vaultUrl}`,
        };
      (out[c.name] ??= {})[name] = v;
    }
  }
  return { ok: true, values: out };
}

/** The platform an app runs: `template.platform`, else amd64 of its OS (what ACI runs). */
function appPlatform(app: AppConfig): string {
  return app.template.platform ?? `${app.template.osType.toLowerCase()}/amd64`;
}

/**
 * A pushed image index (multi-platform, or buildx's default with attestations) is deployed as its manifest for
 * the app's platform, read once through the registry's data plane; the pushed digest stays the rollout's
 * identity (duplicates, tags, status). A plain manifest needs no lookup.
 */
async function resolvePlatformImage(
  ctx: StepContext,
): Promise<{ ok: true } | { ok: false; reason: FailureReason; message: string }> {
  const { r, app } = ctx;
  if (!isImageIndex(r.mediaType) || r.platformDigest) return { ok: true };
  const wanted = parsePlatform(appPlatform(app))!;
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
    if (e instanceof TerminalError)
      return {
        ok: false,
        reason: e.code === 'RegistryAccessDenied' ? 'RegistryAccessDenied' : 'AzureError',
        message: `reading image index ${short}: ${errorMessage(e)}`,
      };
    throw e;
  }
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

const creating: Step = async (ctx) => {
  const { r } = ctx;
  const g = await ctx.deps.containerGroups.get(r.resourceGroup, r.group);
  if (g && ours(g, r)) return goto(ctx, 'waitingRunning', `${r.group} exists (created by this rollout)`);
  if (g) return goto(ctx, 'cleaningIdle', `${r.group} was re-created by someone else; cleaning it`);
  const platformImage = await resolvePlatformImage(ctx);
  if (!platformImage.ok) return fail(ctx, platformImage.reason, platformImage.message);
  const secure = await secureEnvValues(ctx);
  if (!secure.ok) return fail(ctx, 'SecureEnvMissing', secure.missing);
  const spec = buildGroupSpec(ctx.app, r, secure.values, iso(ctx.now));
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

/** The group vanished or was replaced under us: start over from cleaning, a bounded number of times. */
function recreate(ctx: StepContext, why: string): StepResult {
  if (ctx.r.recreations >= 2)
    return fail(ctx, 'GroupLost', `${why}; gave up after ${ctx.r.recreations} re-creations`);
  ctx.r.recreations += 1;
  delete ctx.r.createRequestedAt;
  delete ctx.r.healthStartedAt;
  ctx.r.healthSuccesses = 0;
  return goto(ctx, 'cleaningIdle', `${why}; re-creating it`);
}

const waitingRunning: Step = async (ctx) => {
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

function healthUrl(app: AppConfig, ip: string): string {
  return `http://${ip}:${app.health.port}${app.health.path}`;
}

const healthGate: Step = async (ctx) => {
  const { r, app, opts } = ctx;
  const h = app.health;
  const g = await ctx.deps.containerGroups.get(r.resourceGroup, r.group);
  if (!g) return recreate(ctx, `${r.group} disappeared during the health gate`);
  if (!ours(g, r)) return recreate(ctx, `${r.group} belongs to another rollout`);
  const d = diagnoseGroup(g, h.maxRestarts, pullRetry(ctx));
  if (d.phase === 'failed') return fail(ctx, d.reason, d.message);
  r.healthStartedAt ??= iso(ctx.now);
  const ip = d.phase === 'running' ? d.ip : (g.ip ?? r.ip);
  if (d.phase === 'running' && ip) {
    r.ip = ip;
    const timeoutMs = Math.min(
      opts.probeTimeoutMaxMs,
      Math.max(1_000, h.intervalSeconds * 1000),
      ctx.deadline - ctx.now,
    );
    if (timeoutMs < 200) return { kind: 'wait', untilMs: ctx.deadline };
    const url = healthUrl(app, ip);
    const res = await ctx.deps.healthProbe.check(url, timeoutMs);
    const [lo, hi] = h.expectedStatus;
    const passed = res.status !== undefined && res.status >= lo && res.status <= hi;
    const answer =
      res.status !== undefined
        ? `${res.status}${!passed && res.bodySnippet ? ` (${res.bodySnippet.slice(0, 120)})` : ''}`
        : (res.error ?? 'no answer');
    r.lastHealth = `GET ${url} → ${answer}`;
    r.healthSuccesses = passed ? r.healthSuccesses + 1 : 0;
    if (r.healthSuccesses >= h.consecutiveSuccesses)
      return goto(
        ctx,
        'switching',
        `health gate passed: ${h.consecutiveSuccesses} consecutive ${r.lastHealth}`,
      );
  } else {
    r.healthSuccesses = 0;
    r.lastHealth = `${r.group} not Running: ${d.phase === 'pending' ? d.detail : ''}`;
  }
  const after = ctx.deps.clock.now() - (ms(r.healthStartedAt) ?? ctx.now);
  if (after >= h.timeoutSeconds * 1000)
    return fail(ctx, 'HealthCheckFailed', `health check failed: ${r.lastHealth} after ${seconds(after)}`);
  return waitFor(
    ctx,
    h.intervalSeconds * 1000,
    `health ${r.healthSuccesses}/${h.consecutiveSuccesses}: ${r.lastHealth ?? 'not probed yet'}`,
  );
};

const switching: Step = async (ctx) => {
  const { r, app, state } = ctx;
  const g = await ctx.deps.containerGroups.get(r.resourceGroup, r.group);
  if (!g || !ours(g, r)) return fail(ctx, 'GroupLost', `${r.group} disappeared before the switch`);
  const d = diagnoseGroup(g, app.health.maxRestarts, pullRetry(ctx));
  if (d.phase === 'failed') return fail(ctx, d.reason, d.message);
  if (d.phase !== 'running')
    return fail(ctx, 'GroupLost', `${r.group} is no longer Running at switch time (${d.detail})`);
  const next: ActiveDeployment = {
    group: r.group,
    resourceGroup: r.resourceGroup,
    colour: r.colour,
    digest: r.digest,
    tag: r.tag,
    image: r.image,
    rolloutId: r.id,
    since: iso(ctx.now),
  };
  await ctx.deps.secrets.set(app.secret.vaultUrl, app.secret.name, d.ip, appSecretTags(app, next, d.ip));
  const old = state.active;
  state.active = next;
  r.ip = d.ip;
  r.switchedAt = iso(ctx.now);
  delete r.deleteRequestedAt;
  if (old && !(old.group === r.group && old.resourceGroup === r.resourceGroup)) {
    r.fromGroup = old.group;
    r.fromResourceGroup = old.resourceGroup;
    r.drainUntil = iso(ctx.now + app.drainSeconds * 1000);
    return goto(
      ctx,
      'draining',
      `secret ${app.secret.name} = ${d.ip} (${r.group}); ${old.group} drains for ${app.drainSeconds} s`,
    );
  }
  return succeed(ctx, `secret ${app.secret.name} = ${d.ip} (${r.group}); no previous group to drain`);
};

const draining: Step = async (ctx) => {
  const until = ms(ctx.r.drainUntil) ?? ctx.now;
  if (ctx.now < until)
    return waitFor(ctx, until - ctx.now, `draining ${ctx.r.fromGroup} until ${ctx.r.drainUntil}`);
  return goto(ctx, 'deletingOld', `drain of ${ctx.r.fromGroup} over`);
};

const deletingOld: Step = async (ctx) => {
  const { r, state } = ctx;
  const rg = r.fromResourceGroup ?? r.resourceGroup;
  const name = r.fromGroup;
  if (!name || state.active?.group === name) return succeed(ctx, 'nothing to delete');
  const g = await ctx.deps.containerGroups.get(rg, name);
  if (!g) return succeed(ctx, `${name} deleted`);
  const issued = await deleteWithReissue(ctx.deps, g, rg, r.deleteRequestedAt, ctx.now);
  if (issued) r.deleteRequestedAt = issued;
  return waitFor(ctx, ctx.opts.pollIntervalMs, `waiting for ${name} to be deleted`);
};

const STEPS: Record<Exclude<RolloutStep, 'succeeded'>, Step> = {
  accepted,
  cleaningIdle,
  creating,
  waitingRunning,
  healthGate,
  switching,
  draining,
  deletingOld,
};

// ---------------------------------------------------------------- one step

/** What one step left behind: the draft state to write, and when to run again if it must wait. */
export interface StepRun {
  state: AppState;
  /** Epoch ms before which the rollout's next step must not run (a poll interval, a health interval, a drain). */
  requeueAt?: number;
}

/**
 * Run the current step of the app's rollout in progress on a copy of `state`. A step that fails in a way it does
 * not handle becomes a transient retry (with backoff) or a failed rollout (terminal); a ConflictError from the
 * store propagates to the runner. A run that an earlier one left inside a wait (`resumeAt`) only waits.
 */
export async function runStep(
  app: AppConfig,
  state: AppState,
  deps: DomainDeps,
  now: number,
  deadline: number,
): Promise<StepRun> {
  const current = state.rollout!;
  const resumeAt = ms(current.resumeAt);
  if (resumeAt !== undefined && resumeAt > now) return { state, requeueAt: resumeAt };
  const opts = optionsOf(deps);
  const draft = structuredClone(state);
  delete draft.rollout!.resumeAt;
  const ctx: StepContext = { app, deps, opts, state: draft, r: draft.rollout!, now, deadline };
  let outcome: StepResult;
  try {
    outcome = await STEPS[current.step as Exclude<RolloutStep, 'succeeded'>](ctx);
  } catch (e) {
    if (e instanceof ConflictError) throw e;
    const onError = structuredClone(state);
    delete onError.rollout!.resumeAt;
    outcome = onStepError(app, onError, e, now, opts, deps);
    return { state: onError, ...(outcome.kind === 'wait' ? { requeueAt: outcome.untilMs } : {}) };
  }
  return { state: draft, ...(outcome.kind === 'wait' ? { requeueAt: outcome.untilMs } : {}) };
}

function onStepError(
  app: AppConfig,
  state: AppState,
  e: unknown,
  now: number,
  opts: DomainOptions,
  deps: DomainDeps,
): StepResult {
  const r = state.rollout!;
  const message = errorMessage(e);
  const committed = COMMITTED_STEPS.has(r.step);
  if (e instanceof TerminalError) {
    if (committed) {
      // The new group already serves; an old group we cannot delete is reported, not a failed rollout.
      addCondition(r, r.step, now, `could not finish ${r.step}: ${message}; left for reconcile`);
      r.step = 'succeeded';
      closeRollout(state, r, 'succeeded', now, `succeeded; ${message}`);
      return { kind: 'continue' };
    }
    failRollout(state, app, 'AzureError', `${r.step}: ${message}`, now);
    return { kind: 'continue' };
  }
  if (!(e instanceof TransientError))
    deps.logger.error(`${app.name}: unexpected error in ${r.step}: ${message}`);
  const since = ms(r.transient?.since) ?? now;
  const attempts = (r.transient?.attempts ?? 0) + 1;
  r.transient = { since: iso(since), attempts, lastError: message };
  if (attempts === 1) addCondition(r, r.step, now, `transient error, retrying: ${message}`);
  if (!committed && now - since >= opts.transientGiveUpMs) {
    failRollout(
      state,
      app,
      'AzureError',
      `Azure error persisted for ${seconds(now - since)} (${attempts} attempts): ${message}`,
      now,
    );
    return { kind: 'continue' };
  }
  const retryAfter = e instanceof TransientError ? e.retryAfterMs : undefined;
  const backoff = retryAfter ?? Math.min(60_000, opts.pollIntervalMs * 2 ** Math.min(attempts - 1, 5));
  return { kind: 'wait', untilMs: now + backoff };
}

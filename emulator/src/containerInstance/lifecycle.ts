/**
 * A container group's provisioning state machine: transitions (create, update, start, restart, delete) move
 * through their phases on timers (Pending → Creating → Succeeded/Failed), images are pulled (with ACI's pull
 * retries), containers run on an address, and the platform may move a running group to a new host (new IP).
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';
import type { OperationError } from '../core/errors.js';
import { aciErrors } from './aciErrors.js';
import type { ContainerRuntime } from './containerRuntime.js';
import type { GroupStore } from './groupStore.js';
import {
  allContainers,
  type ContainerRun,
  type StoredEvent,
  type StoredGroup,
  type StoredOperation,
  type TransitionKind,
} from './groupTypes.js';
import type { GroupViews } from './groupViews.js';
import { beginPullAttempt, pullImage, recordRetriedPull } from './imagePull.js';
import { tcpPorts, type GroupNetwork } from './network.js';
import type { Operations } from './operations.js';

type BringUpResult =
  | { ok: true }
  | { ok: false; error: OperationError }
  /** A pull failed and ACI retries it at `at` (epoch ms); the create goes on. */
  | { ok: false; retryAt: number };

interface PullOutcome {
  failures: { container: string; image: string; message: string }[];
  /** Set when a pull is retried: the longest back-off of those. */
  retryInMs?: number;
}

/** One entry of a group's or container's event list. */
export function groupEvent(
  name: string,
  message: string,
  at: number,
  type: 'Normal' | 'Warning' = 'Normal',
): StoredEvent {
  return { name, message, type, count: 1, first: at, last: at };
}

const newHostname = () => `SandboxHost-${crypto.randomBytes(6).toString('hex')}`;

export class GroupLifecycle {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly ctx: EmulatorContext,
    private readonly store: GroupStore,
    private readonly runtime: ContainerRuntime,
    private readonly network: GroupNetwork,
    private readonly operations: Operations,
    private readonly views: GroupViews,
  ) {}

  /** Starts a transition (ending any running one) and its first phase's timer; returns its operation. */
  beginTransition(
    key: string,
    g: StoredGroup,
    kind: TransitionKind,
    phase: 'Pending' | 'Creating' | 'Starting' | 'Deleting',
  ): StoredOperation {
    this.cancelTransition(g, `The operation was superseded by a ${kind} of container group '${g.name}'.`);
    const op = this.operations.begin(key, g, kind);
    const now = Date.now();
    g.transition = {
      kind,
      operationId: op.id,
      startedAt: now,
      phase,
      phaseEndsAt: now + this.views.stepMs(),
    };
    this.schedule(key);
    return op;
  }

  /** Ends whatever transition the group is in (a stop or delete overtakes a create/start). */
  cancelTransition(g: StoredGroup, reason: string): void {
    if (!g.transition) return;
    this.operations.finish(g.transition.operationId, 'Canceled', aciErrors.operation.canceled(reason));
    delete g.transition;
  }

  /** Fresh container runs whose images are being pulled from `at`. */
  beginPull(g: StoredGroup, at: number): void {
    g.containers = {};
    for (const c of allContainers(g.properties)) {
      g.containers[c.name] = {
        image: c.properties.image,
        pullStartedAt: at,
        events: [groupEvent('Pulling', `pulling image "${c.properties.image}"`, at)],
      };
    }
  }

  /** Pulls every image and, when all pulls work, runs the containers on a (new) IP. */
  async bringUp(key: string, g: StoredGroup, exclude: string[], prefer?: string): Promise<BringUpResult> {
    const now = Date.now();
    const { failures, retryInMs } = this.pullImages(g, now);
    g.hostname = newHostname();
    if (retryInMs !== undefined && failures.length === 0) {
      // ACI retries the pull: the create stays in progress, the container waits (ErrImagePull).
      g.state = 'Pending';
      return { ok: false, retryAt: now + retryInMs };
    }
    if (failures.length) {
      await this.runtime.close(key);
      this.network.releaseIp(g);
      g.state = 'Pending';
      g.provisioningState = 'Failed';
      const first = failures[0]!;
      return {
        ok: false,
        error: aciErrors.operation.inaccessibleImage(first.image, g.name, first.container, first.message),
      };
    }
    if (g.properties.ipAddress) {
      const ip = await this.network.allocateIp(key, g, exclude, prefer);
      if (!ip) {
        g.state = 'Pending';
        g.provisioningState = 'Failed';
        return { ok: false, error: aciErrors.operation.insufficientSubnetSize(g.name) };
      }
      this.network.setFqdn(g);
    }
    g.state = 'Running';
    g.provisioningState = 'Succeeded';
    await this.network.syncListeners(key, g);
    return { ok: true };
  }

  /** Pulls the image of each container not yet running; records each run's events. */
  private pullImages(g: StoredGroup, now: number): PullOutcome {
    const outcome: PullOutcome = { failures: [] };
    for (const c of allContainers(g.properties)) {
      const run: ContainerRun = g.containers[c.name] ?? {
        image: c.properties.image,
        pullStartedAt: now,
        events: [groupEvent('Pulling', `pulling image "${c.properties.image}"`, now)],
      };
      g.containers[c.name] = run;
      if (run.behavior && run.startedAt !== undefined) continue; // pulled by an earlier attempt
      const result = pullImage(
        this.ctx.registryLookup,
        c.properties.image,
        g.properties.imageRegistryCredentials,
        g.id,
        beginPullAttempt(run, c.properties.image, now),
      );
      if (!result.ok && result.retry) {
        const backoff = recordRetriedPull(
          run,
          result.eventMessage,
          c.properties.image,
          now,
          this.views.stepMs(),
        );
        outcome.retryInMs = Math.max(outcome.retryInMs ?? 0, backoff);
        continue;
      }
      if (!result.ok) {
        run.pullFailure = { reason: result.reason, message: result.eventMessage };
        run.events.push(groupEvent('Failed', result.eventMessage, now, 'Warning'));
        outcome.failures.push({ container: c.name, image: c.properties.image, message: result.eventMessage });
        continue;
      }
      delete run.pullFailure;
      run.pulledAt = now;
      run.digest = result.digest;
      if (result.tag) run.tag = result.tag;
      run.behavior = result.behavior;
      run.startedAt = now;
      run.events.push(groupEvent('Pulled', `Successfully pulled image "${c.properties.image}"`, now));
      if (result.behavior.mode !== 'crash') run.events.push(groupEvent('Started', 'Started container', now));
    }
    return outcome;
  }

  /** (Re)arms the timer of the group's transition phase; none while the service is stopped. */
  schedule(key: string): void {
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    this.timers.delete(key);
    const t = this.store.groups[key]?.transition;
    if (!t || !this.store.running) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        void this.advance(key).catch((err: unknown) =>
          this.ctx.log(`container group ${key}: ${(err as Error).stack ?? String(err)}`),
        );
      },
      Math.max(0, t.phaseEndsAt - Date.now()),
    );
    timer.unref();
    this.timers.set(key, timer);
  }

  /** The timer side of a transition: moves a group to its next phase or to the outcome. */
  private async advance(key: string): Promise<void> {
    await this.store.withLock(key, async () => {
      const g = this.store.groups[key];
      const t = g?.transition;
      if (!g || !t) return;
      const now = Date.now();
      if (now < t.phaseEndsAt) {
        this.schedule(key);
        return;
      }
      if ((t.kind === 'create' || t.kind === 'update') && t.phase === 'Pending') {
        t.phase = 'Creating';
        t.phaseEndsAt = now + this.views.stepMs();
        g.provisioningState = 'Creating';
        this.beginPull(g, now);
        this.store.changed();
        this.schedule(key);
        return;
      }
      if (t.kind === 'delete') {
        await this.runtime.close(key);
        this.store.remove(key);
        this.operations.finish(t.operationId, 'Succeeded');
        this.store.changed();
        return;
      }
      const keepIp = t.kind === 'create' || t.kind === 'update';
      const result = await this.bringUp(key, g, keepIp ? [] : [g.lastIp ?? ''], keepIp ? g.ip : undefined);
      // A stop or delete may have overtaken the pull while it awaited the address.
      if (g.transition?.operationId !== t.operationId) return;
      if (!result.ok && 'retryAt' in result) {
        t.phaseEndsAt = result.retryAt;
        this.store.changed();
        this.schedule(key);
        return;
      }
      delete g.transition;
      if (result.ok) this.operations.finish(t.operationId, 'Succeeded');
      else this.operations.finish(t.operationId, 'Failed', result.error);
      this.store.changed();
    });
  }

  /** Restarts containers from the images they already have (a host move or platform restart). */
  private restartRuns(g: StoredGroup, at: number): void {
    for (const c of allContainers(g.properties)) {
      const old = g.containers[c.name];
      if (!old?.behavior || old.pullFailure) continue;
      const run: ContainerRun = {
        image: old.image,
        pullStartedAt: at,
        pulledAt: at,
        behavior: old.behavior,
        startedAt: at,
        events: [
          groupEvent('Pulling', `pulling image "${old.image}"`, at),
          groupEvent('Pulled', `Successfully pulled image "${old.image}"`, at),
        ],
      };
      if (old.digest) run.digest = old.digest;
      if (old.tag) run.tag = old.tag;
      if (old.behavior.mode !== 'crash') run.events.push(groupEvent('Started', 'Started container', at));
      g.containers[c.name] = run;
    }
    g.hostname = newHostname();
  }

  /** Moves a running group to a new IP at once, as after a host move or a platform restart. */
  async move(
    key: string,
    g: StoredGroup,
    reason: 'maintenance' | 'restart',
  ): Promise<{ oldIp: string; newIp: string }> {
    if (g.state !== 'Running' || !g.ip) throw aciErrors.control.notRunning(g.name, g.state);
    const oldIp = g.ip;
    await this.runtime.close(key);
    const now = Date.now();
    this.restartRuns(g, now);
    const newIp = await this.network.allocateIp(key, g, [oldIp]);
    if (!newIp) throw aciErrors.control.noFreeAddress(g.name);
    g.lastIp = oldIp;
    const message =
      reason === 'maintenance'
        ? `Container group was moved to a new host during platform maintenance; its IP address changed from ${oldIp} to ${newIp}.`
        : `Container group was restarted by the platform; its IP address changed from ${oldIp} to ${newIp}.`;
    g.events.push(
      groupEvent(reason === 'maintenance' ? 'HostMaintenance' : 'Restarted', message, now, 'Warning'),
    );
    await this.network.syncListeners(key, g);
    this.store.changed();
    return { oldIp, newIp };
  }

  /** After (re)start: resumes transitions and puts running groups back on their addresses. */
  async resumeAll(): Promise<void> {
    this.store.running = true;
    for (const [key, g] of Object.entries(this.store.groups)) {
      await this.store.withLock(key, async () => {
        if (g.transition) {
          this.schedule(key);
          return;
        }
        if (g.state !== 'Running' || !g.ip || !g.listen) return;
        // Back on the same address, unless something else took it meanwhile: then the platform "repairs" it.
        if (!(await this.runtime.canBind(g.ip, tcpPorts(g)))) {
          await this.move(key, g, 'restart');
          return;
        }
        await this.network.syncListeners(key, g);
      });
    }
    this.store.changed();
  }

  /** Stops every timer and closes every port. */
  async stopAll(): Promise<void> {
    this.store.running = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.runtime.closeAll();
  }
}

/**
 * The chaos suite's world: the domain with its fakes, driven by a list of commands (pushes with duplicates,
 * reorders and image indexes, operator actions, timer ticks, the clock, ARM / Key Vault faults, and host kills at
 * named fault points), with the issue 16 invariants checked after every command and once everything converged.
 * `chaos.test.ts` generates the commands with fast-check; a failing list replays from the printed seed.
 */
import { expect } from 'vitest';
import { handleOperatorAction } from '../../../src/domain/actions/handleAction.js';
import type { DomainDeps } from '../../../src/domain/deps.js';
import { ConflictError, TerminalError, TransientError } from '../../../src/domain/errors.js';
import type { AppState, OperatorAction } from '../../../src/domain/model.js';
import { handleImagePushed } from '../../../src/domain/onImagePushed.js';
import { reconcile } from '../../../src/domain/reconcile.js';
import { advance } from '../../../src/domain/rollout/runner.js';
import {
  OCI_INDEX,
  VAULT,
  budget,
  digestOf,
  makeConfig,
  makeWorld,
  pushEvent,
  webApp,
  type Behaviour,
  type World,
} from '../support/fakes.js';

/** Where a host kill lands: just before a state write (the step's effect done, not recorded) or just after it. */
export type KillPoint = 'beforeWrite' | 'afterWrite';

export type Command =
  | { kind: 'push'; version: number; redelivery: boolean }
  | { kind: 'action'; action: OperatorAction }
  | { kind: 'tick' }
  | { kind: 'advance'; seconds: number }
  | { kind: 'time'; seconds: number }
  | { kind: 'fault'; service: 'arm' | 'keyvault'; calls: number; retryAfterMs?: number }
  | { kind: 'kill'; at: KillPoint; afterWrites: number };

export type Flavour = 'auto' | 'verifyAndWindow' | 'manual';

/** Six versions; what some of them do once they run, and which are pushed as an image index. */
export const VERSIONS = 6;
const BEHAVIOUR: Record<number, Behaviour> = { 3: 'unhealthy', 5: 'degrade' };
const INDEXED = new Set([2, 6]);

class HostKilled extends Error {}

const throttle = (retryAfterMs?: number) =>
  new TransientError('injected 429', {
    statusCode: 429,
    code: 'TooManyRequests',
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });

function config(flavour: Flavour) {
  const extra =
    flavour === 'verifyAndWindow'
      ? {
          verify: { intervalSeconds: 2, durationSeconds: 20, failureThreshold: 3 },
          rollbackWindowSeconds: 120,
        }
      : flavour === 'manual'
        ? { promotion: { mode: 'manual' } }
        : {};
  return makeConfig([webApp({ drainSeconds: 5, ...extra })]);
}

export class ChaosWorld {
  readonly w: World;
  /** Digest of each version (an index digest for indexed versions). */
  readonly digests = new Map<number, string>();
  /** Event ids of deliveries that failed (answered 5xx): Event Grid redelivers them. */
  private readonly failedDeliveries: Array<{ version: number; id: string }> = [];
  /** Every rollout id seen in the stored state, for the history check. */
  readonly rolloutsSeen = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly ended = new Set<string>();
  /** Groups (name@rollout-id) that answered enough health probes to pass a gate. */
  private readonly healthy = new Map<string, number>();
  private seq = 0;
  /** ARM calls still to throttle (container groups and registries). */
  private armFaults = 0;
  private armRetryAfterMs: number | undefined;
  readonly log: string[] = [];

  constructor(readonly flavour: Flavour) {
    this.w = makeWorld(config(flavour));
    const { w } = this;
    w.groups.degradeAfterMs = 12_000;
    for (let v = 1; v <= VERSIONS; v++) {
      const digest = INDEXED.has(v)
        ? w.manifests.addIndex(['linux/amd64', 'linux/arm64'], `v${v}`).digest
        : digestOf(`v${v}`);
      this.digests.set(v, digest);
      const behaviour = BEHAVIOUR[v];
      if (behaviour) {
        w.groups.behaviourByDigest.set(digest, behaviour);
        if (INDEXED.has(v)) w.groups.behaviourByDigest.set(digestOf(`v${v}:linux/amd64`), behaviour);
      }
    }
    // Registries throttle with the rest of ARM.
    const registries = w.deps.registries;
    const armFault = () => {
      if (this.armFaults <= 0) return;
      this.armFaults--;
      throw throttle(this.armRetryAfterMs);
    };
    w.deps.registries = {
      get: async (id) => (armFault(), registries.get(id)),
      loginServer: async (id) => (armFault(), registries.loginServer(id)),
      privateEndpointSubnet: async (id) => (armFault(), registries.privateEndpointSubnet(id)),
    };
    // Count successful probes per group, as a gate would see them.
    const check = w.probe.check.bind(w.probe);
    w.probe.check = async (url, ...rest) => {
      const result = await check(url, ...rest);
      const g = w.groups.groupByIp(new URL(url).hostname);
      if (g && result.ok) {
        const key = `${g.name}@${g.tags['rollout-id'] ?? ''}`;
        this.healthy.set(key, (this.healthy.get(key) ?? 0) + 1);
      }
      return result;
    };
  }

  private get deps(): DomainDeps {
    return { ...this.w.deps };
  }

  state(): AppState | undefined {
    return this.w.store.state('web');
  }

  /** Run one command; a host kill or a failed delivery is an outcome, not a test failure. */
  async run(c: Command): Promise<void> {
    this.log.push(JSON.stringify(c));
    const { w } = this;
    try {
      switch (c.kind) {
        case 'push':
          await this.push(c.version, c.redelivery);
          break;
        case 'action':
          await handleOperatorAction({ app: 'web', action: c.action, actor: 'chaos' }, this.deps, {
            ...budget(w, 10),
            maxSleepMs: 0,
          });
          break;
        case 'tick':
          await reconcile(this.deps, budget(w, 30), { rolloutSliceSeconds: 15 });
          break;
        case 'advance':
          w.clock.advance(c.seconds * 1000);
          await advance('web', this.deps, budget(w, 20));
          break;
        case 'time':
          w.clock.advance(c.seconds * 1000);
          break;
        case 'fault':
          this.inject(c);
          break;
        case 'kill':
          this.armKill(c.at, c.afterWrites);
          break;
      }
    } catch (e) {
      // A killed host, a 5xx delivery or a refused action: outcomes. Anything else is a bug.
      const expected = [HostKilled, TransientError, ConflictError, TerminalError].some((t) => e instanceof t);
      if (!expected) throw e;
      this.log.push(`  → ${(e as Error).name}: ${(e as Error).message}`);
    } finally {
      this.observe();
    }
  }

  private async push(version: number, redelivery: boolean): Promise<void> {
    const failed = redelivery ? this.failedDeliveries.shift() : undefined;
    const v = failed?.version ?? version;
    const id = failed?.id ?? `chaos-${++this.seq}`;
    const event = pushEvent({
      tag: `1.${v}.0`,
      digest: this.digests.get(v)!,
      at: this.w.clock.now(),
      id,
      ...(INDEXED.has(v) ? { mediaType: OCI_INDEX } : {}),
    });
    try {
      await handleImagePushed(event, this.deps, budget(this.w, 20));
    } catch (e) {
      // Answered 5xx: Event Grid delivers it again later.
      this.failedDeliveries.push({ version: v, id });
      throw e;
    }
  }

  private inject(c: Extract<Command, { kind: 'fault' }>): void {
    const { w } = this;
    let left = c.calls;
    if (c.service === 'keyvault') {
      w.secrets.fault = () => (left-- > 0 ? throttle(c.retryAfterMs) : undefined);
      return;
    }
    this.armFaults = c.calls;
    this.armRetryAfterMs = c.retryAfterMs;
    for (const op of ['list', 'get', 'create', 'delete'] as const)
      if (left-- > 0) w.groups.failNext[op] = throttle(c.retryAfterMs);
  }

  private armKill(at: KillPoint, afterWrites: number): void {
    const store = this.w.store;
    let left = afterWrites;
    const hook = () => {
      if (left-- > 0) return;
      store.beforeWrite = undefined;
      store.afterWrite = undefined;
      throw new HostKilled(`host killed ${at === 'beforeWrite' ? 'before' : 'after'} a state write`);
    };
    store.beforeWrite = at === 'beforeWrite' ? hook : undefined;
    store.afterWrite = at === 'afterWrite' ? hook : undefined;
  }

  /** Invariants that hold after every command. */
  observe(): void {
    const s = this.state();
    if (s?.rollout) this.rolloutsSeen.add(s.rollout.id);
    const { w } = this;
    const groups = w.groups.names();
    // Blue and green only: at most one rollout's group besides what serves.
    expect(
      groups.every((g) => g === 'web-blue' || g === 'web-green'),
      `groups ${groups.join(', ')}`,
    ).toBe(true);
    // The secret names a Running group that passed its health gate.
    const ip = w.secrets.value(VAULT, 'web-ip');
    if (ip !== undefined) {
      const g = w.groups.peekByIp(ip);
      expect(g, `web-ip=${ip} names no group`).toBeDefined();
      expect(g!.state, `web-ip names ${g!.name}, which is ${g!.state}`).toBe('Running');
      const key = `${g!.name}@${g!.tags['rollout-id'] ?? ''}`;
      const gate = w.deps.config.apps[0]!.health.consecutiveSuccesses;
      expect(
        this.healthy.get(key) ?? 0,
        `web-ip names ${key}, which never passed a gate`,
      ).toBeGreaterThanOrEqual(gate);
    }
    // At most one rollout in flight, the row's: any other rollout seen before has ended.
    if (s?.rollout?.state === 'inProgress') this.inFlight.add(s.rollout.id);
    for (const id of this.inFlight)
      if (id !== s?.rollout?.id || s.rollout.state !== 'inProgress') {
        this.inFlight.delete(id);
        this.ended.add(id);
      }
    if (s?.rollout?.state === 'inProgress')
      expect(this.ended.has(s.rollout.id), `rollout ${s.rollout.id} runs again after it ended`).toBe(false);
  }

  /** Clear every fault and let the timer and the operator finish what is open. */
  async converge(): Promise<void> {
    const { w } = this;
    w.secrets.fault = undefined;
    w.groups.failNext = {};
    this.armFaults = 0;
    w.store.beforeWrite = undefined;
    w.store.afterWrite = undefined;
    while (this.failedDeliveries.length > 0) await this.run({ kind: 'push', version: 1, redelivery: true });
    for (let i = 0; i < 80; i++) {
      const s = this.state();
      if (s?.paused) await this.run({ kind: 'action', action: 'resume' });
      if (s?.rollout?.state === 'inProgress' && s.rollout.step === 'awaitingPromotion')
        await this.run({ kind: 'action', action: 'promote' });
      await this.run({ kind: 'advance', seconds: 30 });
      await this.run({ kind: 'tick' });
      await this.run({ kind: 'time', seconds: 1_000 });
      await this.run({ kind: 'tick' });
      if (this.converged()) return;
    }
    throw new Error(`did not converge:\n${this.log.slice(-20).join('\n')}\n${JSON.stringify(this.state())}`);
  }

  private converged(): boolean {
    const s = this.state();
    if (!s) return true;
    const settled =
      s.rollout?.state !== 'inProgress' &&
      !s.queued &&
      s.pendingDeletions.length === 0 &&
      s.outbox.length === 0;
    const expected = new Set([s.active?.group, s.rollbackTarget?.group].filter((g) => g !== undefined));
    return settled && this.w.groups.names().every((g) => expected.has(g));
  }

  /** Invariants once converged. */
  checkConverged(): void {
    const s = this.state();
    if (!s) return;
    const { w } = this;
    // Exactly one active group, and nothing else but the rollback window's group: no orphan.
    if (s.active) {
      expect(w.groups.peek(s.active.resourceGroup, s.active.group)?.state).toBe('Running');
      expect(w.secrets.value(VAULT, 'web-ip')).toBe(
        w.groups.peek(s.active.resourceGroup, s.active.group)!.ip,
      );
    }
    const allowed = [s.active?.group, s.rollbackTarget?.group].filter(Boolean);
    expect(w.groups.names().filter((g) => !allowed.includes(g))).toEqual([]);
    // History records every rollout that ran, interrupted or not, once each; one push rollout per digest.
    const history = [...(w.store.history.get('web')?.values() ?? [])];
    const recorded = new Set(history.map((h) => h.rolloutId));
    expect([...this.rolloutsSeen].filter((id) => !recorded.has(id))).toEqual([]);
    const pushes = history.filter((h) => (h.kind ?? 'push') === 'push').map((h) => h.digest);
    expect(pushes.length).toBe(new Set(pushes).size);
  }
}

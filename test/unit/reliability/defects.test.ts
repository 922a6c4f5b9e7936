/**
 * Issue 16's defects, each by its number and name, at the level where the fix lives: the domain with its fakes,
 * the adapters' retry policy through a real SDK client over a fake transport, the loggers, the host's pieces, the
 * docs. The host, the emulator and the whole stack are tested in test/integration/reliability/.
 */
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import type { InvocationContext } from '@azure/functions';
import fc from 'fast-check';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handleEventGridWebhook } from '../../../host/src/eventGridWebhook.js';
import type { FunctionsCore, RegisteredFunction } from '../../../host/src/functionsCore.js';
import { consoleLogger } from '../../../host/src/hostLog.js';
import type { InvocationOutcome } from '../../../host/src/invoker.js';
import { EVENTGRID_SYSTEM_KEY, type HostKeys } from '../../../host/src/keys.js';
import { jsonNestsDeeperThan } from '../../../host/src/requestBody.js';
import { AZURITE_FLAGS } from '../../../scripts/lib/localStack.js';
import { RestartPolicy } from '../../../scripts/lib/restartPolicy.js';
import { CachedRegistries } from '../../../src/adapters/cachedRegistries.js';
import { invocationLogger } from '../../../src/adapters/invocationLogger.js';
import { renderDashboard } from '../../../src/dashboard/renderDashboard.js';
import { jitteredRetryPolicy } from '../../../src/adapters/jitteredRetryPolicy.js';
import { redactSecrets } from '../../../src/adapters/logRedaction.js';
import { retryingClientOptions } from '../../../src/composition.js';
import { TransientError } from '../../../src/domain/errors.js';
import { handleImagePushed } from '../../../src/domain/onImagePushed.js';
import type { Registries } from '../../../src/domain/ports.js';
import { collectStatus } from '../../../src/domain/status.js';
import { parseRegistryEvent } from '../../../src/events/imagePushed.js';
import { seededRandom } from '../../../emulator/src/core/faults.js';
import { REGISTRY_ID, T0, budget, digestOf, makeWorld, pushEvent, type World } from '../support/fakes.js';
import { deployInitial, push, settle } from '../support/scenario.js';

const SYSTEM_KEY = 'Zq3ySystemKeyOfTheWebhook0123456789abcdefXYZ==';
const throttled = () => new TransientError('throttled', { statusCode: 429, code: 'TooManyRequests' });

/** Registries that throttle every call while `throttling`, counting the calls that reached them. */
function throttlingRegistries(w: World): { calls: () => number; throttling: { on: boolean } } {
  const inner = w.deps.registries;
  let calls = 0;
  const throttling = { on: false };
  const gate = () => {
    calls++;
    if (throttling.on) throw throttled();
  };
  w.deps.registries = {
    get: async (id) => (gate(), inner.get(id)),
    loginServer: async (id) => (gate(), inner.loginServer(id)),
    privateEndpointSubnet: async (id) => (gate(), inner.privateEndpointSubnet(id)),
  };
  return { calls: () => calls, throttling };
}

describe('defect 1: deeply nested JSON never answers 500, and no log line carries a key', () => {
  it('the webhook sees 10,000 nested arrays as too deep before parsing, and an ordinary event as fine', () => {
    const deep = `[{"id":"x","data":${'['.repeat(10_000)}${']'.repeat(10_000)}}]`;
    expect(jsonNestsDeeperThan(deep, 64)).toBe(true);
    expect(jsonNestsDeeperThan('[{"id":"x","data":{"target":{"tag":"[[[[[[[[["}}}]', 64)).toBe(false);
  });

  it('the app parses a deeply nested event as malformed instead of throwing', () => {
    let data: unknown = {};
    for (let i = 0; i < 10_000; i++) data = [data];
    const parsed = parseRegistryEvent({
      id: 'deep',
      topic: REGISTRY_ID,
      eventType: 'Microsoft.ContainerRegistry.ImagePushed',
      eventTime: new Date(T0).toISOString(),
      data,
    });
    expect(parsed.kind).toBe('malformed');
  });

  it('one redaction, used by the host’s, the app’s and the emulator’s loggers, removes keys and tokens', () => {
    const line = `Request POST /runtime/webhooks/eventgrid?functionName=onImagePushed&code=${SYSTEM_KEY} failed; Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl HOST_READY {"masterKey":"m4sterKeyValue1234","systemKey":"${SYSTEM_KEY}","baseUrl":"http://127.0.0.1:7071"} AccountKey=Eby8vdM02xNOcqFl;`;
    const out = redactSecrets(line);
    expect(out).not.toContain(SYSTEM_KEY);
    expect(out).not.toContain('m4sterKeyValue1234');
    expect(out).not.toContain('eyJhbGciOiJSUzI1NiJ9');
    expect(out).not.toContain('Eby8vdM02xNOcqFl');
    expect(out).toContain('functionName=onImagePushed&code=[redacted]');
    expect(out).toContain('"baseUrl":"http://127.0.0.1:7071"');
    // An Azure error code is not a key.
    expect(redactSecrets('{"code":"ResourceNotFound"}')).toBe('{"code":"ResourceNotFound"}');

    const hostLines: string[] = [];
    const host = consoleLogger({ out: (l) => hostLines.push(l), err: (l) => hostLines.push(l) });
    host.addSecrets?.(['a-host-key-value-123']);
    host.system(`Request POST /x?code=${SYSTEM_KEY} failed`, 'error');
    host.invocation('status', 'abcdef12-0000', 'information', 'called with a-host-key-value-123');
    const appLines: string[] = [];
    const context = {
      debug: (m: string) => appLines.push(m),
      info: (m: string) => appLines.push(m),
      warn: (m: string) => appLines.push(m),
      error: (m: string) => appLines.push(m),
    } as unknown as InvocationContext;
    invocationLogger(context).error(`GET https://x/api/status?code=${SYSTEM_KEY}`, {
      url: `?sig=${SYSTEM_KEY}`,
    });
    for (const l of [...hostLines, ...appLines]) {
      expect(l).not.toContain(SYSTEM_KEY);
      expect(l).not.toContain('a-host-key-value-123');
    }
    expect(hostLines).toHaveLength(2);
    expect(appLines).toHaveLength(1);
  });
});

describe('defect 2: duplicates are free', () => {
  it('a duplicate push is decided from stored state: no ARM call, and ARM throttling every call cannot fail it', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const registries = throttlingRegistries(w);
    registries.throttling.on = true;
    const before = registries.calls();
    for (let i = 0; i < 20; i++) {
      const r = await handleImagePushed(
        pushEvent({ tag: '1.0.0', digest: digestOf(1), at: w.clock.now(), id: `dup-${i}` }),
        w.deps,
        budget(w, 20),
      );
      expect(r.outcome).toBe('ignored');
      expect(r.reason).toMatch(/^duplicate/);
    }
    expect(registries.calls() - before).toBe(0);
  });

  it('the login server is cached for a short while: two new pushes read the registry once', async () => {
    const w = makeWorld();
    const inner = w.deps.registries;
    let reads = 0;
    const counting: Registries = {
      get: (id) => inner.get(id),
      privateEndpointSubnet: (id) => inner.privateEndpointSubnet(id),
      loginServer: (id) => (reads++, inner.loginServer(id)),
    };
    w.deps.registries = new CachedRegistries(counting, w.clock, 60_000);
    await push(w, '1.0.0', 1);
    await settle(w);
    await push(w, '1.1.0', 2);
    expect(reads).toBe(1);
    w.clock.advance(61_000);
    await push(w, '1.2.0', 3);
    expect(reads).toBe(2);
  });
});

/** A transport answering 429 without Retry-After (probability `p429`) or 500 (`p500`), else the group. */
function flakyArm(random: () => number, p429: number, p500: number) {
  const seen: number[] = [];
  const client: HttpClient = {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const r = random();
      const status = r < p429 ? 429 : r < p429 + p500 ? 500 : 200;
      seen.push(status);
      const body =
        status === 200
          ? JSON.stringify({
              name: 'web-blue',
              properties: { provisioningState: 'Succeeded', containers: [] },
            })
          : JSON.stringify({ error: { code: status === 429 ? 'TooManyRequests' : 'InternalServerError' } });
      return {
        request,
        status,
        headers: createHttpHeaders({ 'content-type': 'application/json' }),
        bodyAsText: body,
      };
    },
  };
  return { client, seen };
}

const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) };

describe('defect 3: throttling does not stall a rollout', () => {
  it('every ARM call succeeds under 50 % 429 without Retry-After + 5 % 500, each retry after a jittered wait', async () => {
    const seed = 16;
    const transport = flakyArm(seededRandom(seed), 0.5, 0.05);
    const waits: number[] = [];
    const policy = jitteredRetryPolicy({
      maxRetries: 8,
      baseDelayMs: 250,
      maxDelayMs: 8_000,
      random: seededRandom(seed + 1),
      sleep: async (ms) => void waits.push(ms),
    });
    const aci = new ContainerInstanceManagementClient(credential, '00000000-0000-0000-0000-000000000001', {
      httpClient: transport.client,
      ...retryingClientOptions(policy),
    });
    for (let i = 0; i < 100; i++) {
      const before = transport.seen.length;
      try {
        expect((await aci.containerGroups.get('rg-apps', 'web-blue')).name).toBe('web-blue');
      } catch (e) {
        throw new Error(
          `call ${i} failed after ${transport.seen.length - before} attempts: ${transport.seen.slice(before).join(',')}`,
          { cause: e },
        );
      }
    }
    expect(transport.seen.filter((s) => s === 429).length).toBeGreaterThan(50);
    // Full jitter: the waits of one attempt number differ (no lock-step), and none exceeds its cap.
    expect(new Set(waits).size).toBeGreaterThan(waits.length / 2);
    expect(Math.max(...waits)).toBeLessThanOrEqual(8_000);
  });

  it('status shows the attempts, the last error and when the step runs again', async () => {
    const w = makeWorld();
    await deployInitial(w);
    w.groups.failNext.create = throttled();
    await handleImagePushed(pushEvent({ tag: '1.1.0', digest: digestOf(2), at: w.clock.now() }), w.deps, {
      ...budget(w, 20),
      maxSleepMs: 0,
    });
    const rollout = (await collectStatus(w.deps)).apps[0]!.rollout!;
    expect(rollout.step).toBe('creating');
    expect(rollout.transient).toMatchObject({ attempts: 1, lastError: expect.stringContaining('throttled') });
    expect(Date.parse(rollout.transient!.nextRetryAt!)).toBeGreaterThan(w.clock.now());
    expect(renderDashboard(await collectStatus(w.deps))).toMatch(/data-testid="rollout-transient">attempt 1/);
    await settle(w);
    expect(w.store.state('web')!.active?.digest).toBe(digestOf(2));
  });
});

describe('defect 4: a batch does not overrun the delivery timeout', () => {
  it('the host starts every event of a delivery before any ends (the extension runs them in parallel)', async () => {
    const fn = { name: 'onImagePushed', trigger: { type: 'eventGridTrigger', name: 'event' } };
    const core = { find: () => fn, byTrigger: () => [fn] } as unknown as FunctionsCore;
    const keys: HostKeys = {
      masterKey: 'master-key-value',
      functionKeys: {},
      systemKeys: { [EVENTGRID_SYSTEM_KEY]: SYSTEM_KEY },
      functions: {},
    };
    const events = Array.from({ length: 7 }, (_, i) => ({ id: `e${i}`, eventType: 'x', data: {} }));
    const order: string[] = [];
    let release!: () => void;
    const allStarted = new Promise<void>((resolve) => (release = resolve));
    const invoke = async (
      _fn: RegisteredFunction,
      input: { inputData: unknown[] },
    ): Promise<InvocationOutcome> => {
      const id = (JSON.parse(JSON.stringify(input.inputData[0])) as { data: { json: string } }).data.json;
      order.push(`start ${JSON.parse(id).id}`);
      if (order.length === events.length) release();
      // A sequential host never starts the others: let it go on after a while instead of hanging.
      await Promise.race([allStarted, new Promise((r) => setTimeout(r, 100))]);
      order.push('end');
      return { ok: true, invocationId: id, response: {} as never, durationMs: 0 };
    };
    const reply = await handleEventGridWebhook(
      {
        method: 'POST',
        headers: { 'aeg-event-type': 'Notification' },
        query: new URLSearchParams({ functionName: 'onImagePushed', code: SYSTEM_KEY }),
        body: Buffer.from(JSON.stringify(events)),
      },
      { core, keys, logger: consoleLogger({ out: () => {}, err: () => {} }), invoke },
    );
    expect(reply.status).toBe(202);
    expect(order.slice(0, events.length).every((o) => o.startsWith('start'))).toBe(true);
  });
});

describe('defect 5: unbounded input is not stored', () => {
  it('an event id of 100 KB makes the event malformed, and nothing of it reaches the app’s row', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const longId = 'x'.repeat(100_000);
    const raw = {
      id: longId,
      topic: REGISTRY_ID,
      eventType: 'Microsoft.ContainerRegistry.ImagePushed',
      eventTime: new Date(w.clock.now()).toISOString(),
      data: {
        target: { digest: digestOf(2), repository: 'web', tag: '1.1.0' },
        request: { host: 'contoso.azurecr.io' },
      },
    };
    const parsed = parseRegistryEvent(raw);
    expect(parsed).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('id') });
    expect(JSON.stringify(parsed).length).toBeLessThan(1_000);
    expect(w.store.rows.get('web')!.json).not.toContain('xxxxxxxxxx');
  });

  it('whatever the fields of a push, the stored row stays small', async () => {
    const w = makeWorld();
    await deployInitial(w);
    const text = (max: number) => fc.string({ minLength: 1, maxLength: max });
    await fc.assert(
      fc.asyncProperty(text(300), text(3_000), text(2_000), async (id, tag, mediaType) => {
        const parsed = parseRegistryEvent({
          id,
          topic: REGISTRY_ID,
          eventType: 'Microsoft.ContainerRegistry.ImagePushed',
          eventTime: new Date(w.clock.now()).toISOString(),
          data: {
            target: { digest: digestOf(tag), repository: 'web', tag, mediaType },
            request: { host: 'contoso.azurecr.io' },
          },
        });
        if (parsed.kind === 'imagePushed') await handleImagePushed(parsed, w.deps, budget(w, 1));
        expect(w.store.rows.get('web')!.json.length).toBeLessThan(64_000);
      }),
      { seed: 5, numRuns: 60 },
    );
  });
});

describe('defect 6: the local host and npm start', () => {
  it('the separate-mode Azurite commands carry the flags npm start uses', () => {
    for (const doc of ['host/README.md', 'docs/local-stack.md']) {
      const commands = fs.readFileSync(doc, 'utf8').match(/npx azurite[^`\n]*/g) ?? [];
      expect(commands.length, doc).toBeGreaterThan(0);
      for (const c of commands) for (const flag of AZURITE_FLAGS) expect(c, doc).toContain(flag);
    }
  });

  it('a crashed host is restarted a few times, with a growing wait, then the stack gives up', () => {
    const policy = new RestartPolicy(3, 60_000, 500);
    const decisions = [0, 1_000, 2_000, 3_000].map((t) => policy.onCrash(t));
    expect(decisions.map((d) => d.restart)).toEqual([true, true, true, false]);
    expect(decisions.slice(0, 3).map((d) => d.delayMs)).toEqual([500, 1_000, 2_000]);
    // A crash long after the others starts the count again.
    expect(new RestartPolicy(3, 60_000).onCrash(0).restart).toBe(true);
    const later = new RestartPolicy(1, 60_000);
    later.onCrash(0);
    expect(later.onCrash(120_000).restart).toBe(true);
  });
});

describe('defect 7: one meaning per status field', () => {
  it('registry is the registry’s name before and after the first deploy; the login server has its own field', async () => {
    const w = makeWorld();
    const before = (await collectStatus(w.deps)).apps[0]!;
    expect(before).toMatchObject({ registry: 'contoso', registryLoginServer: null });
    await deployInitial(w);
    const after = (await collectStatus(w.deps)).apps[0]!;
    expect(after).toMatchObject({ registry: 'contoso', registryLoginServer: 'contoso.azurecr.io' });
    // Lists carry no instance view: there is no always-null group state, only the provisioning state lists have.
    expect(after).not.toHaveProperty('groupState');
    expect(after.provisioningState).toBe('Succeeded');
  });
});

/**
 * `npm run demo`: the whole story against a fresh local stack, with timings, exiting 0 only if every
 * expectation held.
 *
 *   1. first deploy of `web` 1.0.0 (push → Event Grid → onImagePushed → blue)
 *   2. two callers start (each its own process), calling web four times a second and counting failures: one
 *      re-reads the `web-ip` secret every second with SecretClient, the other resolves `web.apps.internal` through
 *      the emulator's DNS server and keeps the answer for its TTL
 *   3. push 1.1.0: blue/green to green with zero failed calls for both
 *   4. roll back inside the rollback window (the actions route): callers back on 1.0.0 at once, no group
 *      created; then retry 1.1.0
 *   5. push a broken 1.2.0 (`unhealthy`: health checks answer 503): rolled back, the reason shown, still zero
 *      failed calls
 *   6. push 1.3.0 that degrades 12 s after it starts: verify moves callers back after 3 failed probes
 *   7. manual promotion of `api`: 1.1.0 waits in the preview secret until promoted
 *   8. platform maintenance moves the active group to a new IP: the next reconcile tick repairs the secret and
 *      the DNS record, and both callers recover (the DNS one within the tick + the TTL)
 *   9. the final status (same document as GET /api/status)
 *
 *   --verbose        print every line of Azurite, the emulator, the host and the caller
 *   --keep-running   leave the stack up after the story (the dashboard URL is printed) until Ctrl-C
 *
 * Everything it starts (Azurite, emulator, host, caller) is stopped at the end, on failure and on Ctrl-C.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { installLocalhostResolver } from '../emulator/src/localhostDns.js';
import { formatDuration, shortDigest } from '../src/dashboard/format.js';
import type { AppStatus, StatusDocument } from '../src/domain/statusDocument.js';
import { parseCallerLine, type CallLine, type ResolveLine, type SecretLine } from './demo/callerProtocol.js';
import { startDemoStack, type DemoStack } from './demo/demoStack.js';
import { statusTables, textTable } from './demo/textTable.js';

const { values: args } = parseArgs({
  options: {
    verbose: { type: 'boolean', default: false },
    'keep-running': { type: 'boolean', default: false },
  },
});

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
/** The sample's health timeout is 60 s; the broken release fails faster with 20 s. */
const HEALTH_TIMEOUT_SECONDS = 20;
const WATCHED_GROUP = { resourceGroup: 'rg-apps', name: 'worker-1', secretName: 'worker-ip' };

// ---------------------------------------------------------------- output and expectations

const t0 = Date.now();
const stamp = (at = Date.now()) => `${((at - t0) / 1000).toFixed(1).padStart(6)} s`;
const say = (message: string) => console.log(`[${stamp()}] ${message}`);
const note = (message: string) => console.log(`${' '.repeat(12)}${message}`);
const heading = (title: string) => console.log(`\n== ${title}`);

interface Expectation {
  name: string;
  ok: boolean;
  detail: string;
}
const expectations: Expectation[] = [];

class StoryAborted extends Error {
  override name = 'StoryAborted';
}

function check(name: string, ok: boolean, detail = ''): boolean {
  expectations.push({ name, ok, detail });
  note(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? ` (${detail})` : ''}`);
  return ok;
}

/** An expectation the rest of the story depends on. */
function mustHold(name: string, ok: boolean, detail = ''): void {
  if (!check(name, ok, detail)) throw new StoryAborted(`${name}${detail ? `: ${detail}` : ''}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  read: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await sleep(intervalMs);
  }
  throw new StoryAborted(`${what}: not within ${formatDuration(timeoutMs)}`);
}

// ---------------------------------------------------------------- the caller's observations

const calls: CallLine[] = [];
const secretReads: SecretLine[] = [];
/** The DNS caller's observations (scripts/demo/dnsCaller.ts). */
const dnsCalls: CallLine[] = [];
const resolves: ResolveLine[] = [];
const DNS_NAME = 'web.apps.internal';

function callsIn(from: number, to = Number.POSITIVE_INFINITY, list: CallLine[] = calls): CallLine[] {
  return list.filter((c) => c.at >= from && c.at < to);
}

function describeCalls(list: CallLine[]): string {
  const failed = list.filter((c) => !c.ok);
  const byGroup = new Map<string, number>();
  for (const c of list) if (c.ok) byGroup.set(c.group ?? '?', (byGroup.get(c.group ?? '?') ?? 0) + 1);
  const served = [...byGroup].map(([g, n]) => `${g} ${n}`).join(', ');
  const reasons = [...new Set(failed.map((c) => c.error ?? `HTTP ${c.status}`))].join(', ');
  return `${list.length} calls, ${failed.length} failed${reasons ? ` (${reasons})` : ''}${served ? `; answered by ${served}` : ''}`;
}

// ---------------------------------------------------------------- the story

let stack: DemoStack | undefined;

async function appStatus(app = 'web'): Promise<AppStatus> {
  const res = await stack!.api<AppStatus>(`/api/status/${app}`);
  if (res.status !== 200) throw new StoryAborted(`GET /api/status/${app} → ${res.status}: ${res.text}`);
  return res.body;
}

/** An operator action through the route (the actions key), as `npx acibg <action> <app>` sends it. */
async function operatorAction(app: string, action: string, reason: string): Promise<void> {
  const res = await stack!.action<{ rolloutId?: string; message?: string }>(app, action, { reason });
  say(`POST /api/apps/${app}/${action} → ${res.status} ${res.text.slice(0, 160)}`);
  mustHold(`${action} ${app} accepted`, res.status === 202, res.text);
}

async function statusDocument(): Promise<StatusDocument> {
  const res = await stack!.api<StatusDocument>('/api/status');
  if (res.status !== 200) throw new StoryAborted(`GET /api/status → ${res.status}: ${res.text}`);
  return res.body;
}

async function push(
  tag: string,
  behavior?: string,
  repository = 'web',
): Promise<{ digest: string; at: number }> {
  const at = Date.now();
  const res = await stack!.control<{ digest: string }>('POST', '/_emulator/registries/contoso/push', {
    repository,
    tag,
    ...(behavior ? { behavior } : {}),
  });
  if (res.status !== 200) throw new StoryAborted(`push ${repository}:${tag} → ${res.status}: ${res.text}`);
  say(
    `pushed contoso.azurecr.io/${repository}:${tag}${behavior ? ` (behaviour: ${behavior})` : ''} → ${shortDigest(res.body.digest)}`,
  );
  return { digest: res.body.digest, at };
}

const FINISHED = new Set(['succeeded', 'failed', 'superseded', 'rolledBack', 'aborted']);

/** Prints the rollout's timeline as it grows (each entry at its own time) until it finishes. */
async function followRollout(
  digest: string,
  timeoutMs: number,
  app = 'web',
  until: (s: AppStatus) => boolean = (s) => FINISHED.has(s.rollout!.state),
): Promise<AppStatus> {
  const printed = new Set<string>();
  let last: AppStatus | undefined;
  try {
    return await waitFor(
      `rollout of ${shortDigest(digest)} to finish`,
      async () => {
        last = await appStatus(app);
        const r = last.rollout;
        if (!r || r.digest !== digest) return undefined;
        for (const c of r.timeline) {
          const key = `${c.at}|${c.step}|${c.message}`;
          if (printed.has(key)) continue;
          printed.add(key);
          console.log(`[${stamp(Date.parse(c.at))}]   ${c.step.padEnd(15)} ${c.message}`);
        }
        return until(last) ? last : undefined;
      },
      timeoutMs,
      300,
    );
  } catch (err) {
    if (err instanceof StoryAborted)
      throw new StoryAborted(`${err.message}; last status: ${JSON.stringify(last?.rollout ?? null)}`);
    throw err;
  }
}

function timeOf(app: AppStatus, step: string): number | undefined {
  const entry = app.rollout?.timeline.find((c) => c.step === step);
  return entry ? Date.parse(entry.at) : undefined;
}

async function firstDeploy(): Promise<{ digest: string }> {
  heading('1. First deploy of web 1.0.0');
  const { digest, at } = await push('1.0.0');
  const app = await followRollout(digest, 120_000);
  say(`rollout ${app.rollout!.state} in ${formatDuration(Date.now() - at)}`);
  mustHold('1.0.0 rollout succeeded', app.rollout!.state === 'succeeded', app.rollout!.error ?? '');
  // Listings in status are cached for STATUS_CACHE_SECONDS: wait until they show the new group and its IP.
  const live = await waitFor(
    'web-blue and web-ip in the status',
    async () => {
      const a = await appStatus();
      return a.ip && a.secret.inSync && a.dns?.inSync ? a : undefined;
    },
    20_000,
  ).catch(() => app);
  mustHold(
    'web 1.0.0 is active in web-blue',
    live.activeGroup === 'web-blue' && live.tag === '1.0.0' && live.digest === digest,
    `${live.activeGroup} ${live.tag} ${shortDigest(live.digest)} at ${live.ip}`,
  );
  mustHold(
    'Key Vault web-ip holds the IP of web-blue',
    live.secret.inSync,
    `${live.secret.name} = ${live.secret.ip}`,
  );
  mustHold(
    `the DNS record ${DNS_NAME} holds the IP of web-blue`,
    live.dns?.inSync === true && live.dns.recordIp === live.ip,
    `${live.dns?.name ?? 'no dns'} = ${live.dns?.recordIp ?? '-'}`,
  );
  return { digest };
}

async function startCaller(): Promise<void> {
  heading(
    `2. Two callers start, each calling web 4 times a second: one reads web-ip from Key Vault every second, one resolves ${DNS_NAME} (TTL-cached)`,
  );
  const caller = await stack!.startClient({
    name: 'caller',
    script: 'scripts/demo/caller.ts',
    env: {
      CALLER_VAULT_URL: stack!.keyVaultUrl('kv-apps'),
      CALLER_SECRET_NAME: 'web-ip',
      CALLER_PORT: '8080',
    },
    ready: (line) => (parseCallerLine(line)?.kind === 'ready' ? true : undefined),
    onLine: (line) => {
      const event = parseCallerLine(line);
      if (event?.kind === 'call') calls.push(event);
      else if (event?.kind === 'secret') secretReads.push(event);
      else if (!event && line.trim()) console.log(`            caller: ${line}`);
    },
  });
  void caller.exited.then(({ code, signal }) => {
    if (!shuttingDown) say(`caller exited (code ${code}, signal ${signal})`);
  });
  const first = await waitFor('first call', () => calls[0], 10_000);
  say(
    `caller (pid ${caller.pid}) read web-ip = ${secretReads[0]?.ip}; first call → ${first.ok ? `200 from ${first.group}` : first.error}`,
  );
  mustHold(
    'the caller reaches web 1.0.0 through Key Vault',
    first.ok && first.group === 'web-blue',
    describeCalls([first]),
  );
  await startDnsCaller();
}

/** The caller that knows web only by its name (scripts/demo/dnsCaller.ts), next to the Key Vault one. */
async function startDnsCaller(): Promise<void> {
  const caller = await stack!.startClient({
    name: 'dns-caller',
    script: 'scripts/demo/dnsCaller.ts',
    env: { CALLER_DNS_NAME: DNS_NAME, CALLER_DNS_SERVER: stack!.dnsServer, CALLER_PORT: '8080' },
    ready: (line) => (parseCallerLine(line)?.kind === 'ready' ? true : undefined),
    onLine: (line) => {
      const event = parseCallerLine(line);
      if (event?.kind === 'call') dnsCalls.push(event);
      else if (event?.kind === 'resolve') resolves.push(event);
      else if (!event && line.trim()) console.log(`            dns-caller: ${line}`);
    },
  });
  void caller.exited.then(({ code, signal }) => {
    if (!shuttingDown) say(`DNS caller exited (code ${code}, signal ${signal})`);
  });
  const first = await waitFor('first call of the DNS caller', () => dnsCalls[0], 10_000);
  const lookup = resolves[0];
  say(
    `DNS caller (pid ${caller.pid}) resolved ${DNS_NAME} = ${lookup?.ip} (TTL ${lookup?.ttl ?? '?'} s) at ${stack!.dnsServer}; first call → ${first.ok ? `200 from ${first.group}` : first.error}`,
  );
  mustHold(
    `the DNS caller reaches web 1.0.0 through ${DNS_NAME}`,
    first.ok && first.group === 'web-blue',
    describeCalls([first]),
  );
}

async function blueGreen(previousDigest: string): Promise<{ digest: string }> {
  heading('3. Push 1.1.0: blue/green with both callers running');
  const { digest, at } = await push('1.1.0');
  const app = await followRollout(digest, 120_000);
  say(`rollout ${app.rollout!.state} in ${formatDuration(Date.now() - at)}`);
  await sleep(1500); // calls in flight at the end
  const window = callsIn(at);
  const dnsWindow = callsIn(at, Number.POSITIVE_INFINITY, dnsCalls);
  note(`Key Vault caller during the rollout: ${describeCalls(window)}`);
  note(`DNS caller during the rollout:       ${describeCalls(dnsWindow)}`);
  mustHold('1.1.0 rollout succeeded', app.rollout!.state === 'succeeded', app.rollout!.error ?? '');
  check(
    'web 1.1.0 is active in web-green with the pushed digest',
    app.activeGroup === 'web-green' &&
      app.tag === '1.1.0' &&
      app.digest === digest &&
      app.digest !== previousDigest,
    `${app.activeGroup} ${app.tag} ${shortDigest(app.digest)} at ${app.ip}`,
  );
  check(
    'zero failed calls during the blue/green rollout',
    window.length > 0 && window.every((c) => c.ok),
    describeCalls(window),
  );
  const switchedAt = timeOf(app, 'switching');
  const firstGreen = window.find((c) => c.ok && c.group === 'web-green');
  const lag = switchedAt !== undefined && firstGreen ? firstGreen.at - switchedAt : undefined;
  check(
    'the caller moved to web-green within 3 s of the switch (before web-blue was deleted)',
    lag !== undefined && lag <= 3000,
    lag !== undefined ? `after ${formatDuration(Math.max(0, lag))}` : 'no call reached web-green',
  );
  const latest = callsIn(Date.now() - 1000);
  check(
    'the caller now gets 1.1.0',
    latest.length > 0 && latest.every((c) => c.ok && c.group === 'web-green' && c.digest === digest),
    describeCalls(latest),
  );
  dnsAfterSwitch(app, dnsWindow, digest);
  return { digest };
}

/** The DNS caller across the blue/green: no failure, on web-green within the TTL of the switch, now on 1.1.0. */
function dnsAfterSwitch(app: AppStatus, window: CallLine[], digest: string): void {
  check(
    `zero failed calls of the DNS caller (${DNS_NAME}) during the blue/green rollout`,
    window.length > 0 && window.every((c) => c.ok),
    describeCalls(window),
  );
  const ttl = app.dns?.ttlSeconds ?? 0;
  const switchedAt = timeOf(app, 'switching');
  const firstGreen = window.find((c) => c.ok && c.group === 'web-green');
  const lag = switchedAt !== undefined && firstGreen ? firstGreen.at - switchedAt : undefined;
  check(
    `the DNS caller moved to web-green within the TTL (${ttl} s) + 1 s of the switch, before web-blue was deleted`,
    lag !== undefined && lag <= (ttl + 1) * 1000,
    lag !== undefined ? `after ${formatDuration(Math.max(0, lag))}` : 'no call reached web-green',
  );
  const latest = callsIn(Date.now() - 1000, Number.POSITIVE_INFINITY, dnsCalls);
  check(
    'the DNS caller now gets 1.1.0',
    latest.length > 0 && latest.every((c) => c.ok && c.group === 'web-green' && c.digest === digest),
    describeCalls(latest),
  );
}

async function brokenRelease(goodDigest: string): Promise<void> {
  heading('5. Push a broken 1.2.0 (its health endpoint answers 503)');
  const { digest, at } = await push('1.2.0', 'unhealthy');
  const app = await followRollout(digest, (HEALTH_TIMEOUT_SECONDS + 90) * 1000);
  const r = app.rollout!;
  say(`rollout ${r.state} in ${formatDuration(Date.now() - at)}: ${r.reason ?? '-'}: ${r.error ?? '-'}`);
  check('1.2.0 rollout failed', r.state === 'failed', r.state);
  check(
    'the reason is a failed health check',
    r.reason === 'HealthCheckFailed' && !!r.error,
    `${r.reason}: ${r.error}`,
  );
  check(
    '1.1.0 keeps serving from web-green',
    app.activeGroup === 'web-green' && app.tag === '1.1.0' && app.digest === goodDigest && app.secret.inSync,
    `${app.activeGroup} ${app.tag} ${shortDigest(app.digest)}, web-ip ${app.secret.inSync ? 'in sync' : 'out of sync'}`,
  );
  const cleaned = await waitFor(
    `the failed group ${r.group} to be removed`,
    async () => {
      const res = await stack!.control<{ value: Array<{ resourceGroup: string; name: string }> }>(
        'GET',
        '/_emulator/containerGroups',
      );
      return res.body.value.some((g) => g.resourceGroup === 'rg-apps' && g.name === r.group)
        ? undefined
        : true;
    },
    60_000,
  ).catch(() => false);
  check(`the failed group ${r.group} was deleted`, cleaned === true);
  await sleep(1000);
  const window = callsIn(at);
  const dnsWindow = callsIn(at, Number.POSITIVE_INFINITY, dnsCalls);
  note(`Key Vault caller during the failed rollout: ${describeCalls(window)}`);
  note(`DNS caller during the failed rollout:       ${describeCalls(dnsWindow)}`);
  for (const [who, list] of [
    ['Key Vault caller', window],
    ['DNS caller', dnsWindow],
  ] as const)
    check(
      `${who}: zero failed calls, all answered by 1.1.0`,
      list.length > 0 && list.every((c) => c.ok && c.group === 'web-green' && c.digest === goodDigest),
      describeCalls(list),
    );
}

async function secretIs(ip: string, since: number): Promise<number> {
  return waitFor(
    `web-ip to hold ${ip}`,
    async () => ((await stack!.readSecret('kv-apps', 'web-ip')) === ip ? Date.now() - since : undefined),
    10_000,
    50,
  );
}

async function rollbackInWindow(d1: string, d2: string): Promise<void> {
  heading('4. Roll back inside the rollback window, then retry 1.1.0');
  const before = await appStatus();
  const target = before.rollbackTarget;
  mustHold(
    'web-blue (1.0.0) is kept as the rollback target',
    target?.group === 'web-blue',
    JSON.stringify(target),
  );
  const blue = await stack!.control<{ value: Array<{ name: string; ip?: string }> }>(
    'GET',
    '/_emulator/containerGroups',
  );
  const blueIp = blue.body.value.find((g) => g.name === 'web-blue')?.ip ?? '';
  const mark = (await stack!.control<{ lastSeq: number }>('GET', '/_emulator/requests')).body.lastSeq;
  const at = Date.now();
  await operatorAction('web', 'rollback', 'demo: roll back inside the window');
  const switchMs = await secretIs(blueIp, at);
  check('rollback inside the window switched web-ip in under 3 s', switchMs < 3000, formatDuration(switchMs));
  const creates = await stack!.control<{ entries: unknown[] }>(
    'GET',
    `/_emulator/requests?since=${mark}&operation=ContainerGroups_CreateOrUpdate&entries=true`,
  );
  check(
    'the rollback created no group',
    creates.body.entries.length === 0,
    `${creates.body.entries.length} creates`,
  );
  const rolledBack = await followRollout(d1, 60_000);
  await sleep(2500);
  const window = callsIn(at);
  check(
    'zero failed calls across the rollback',
    window.length > 0 && window.every((c) => c.ok),
    describeCalls(window),
  );
  check(
    'web 1.0.0 serves again from web-blue',
    rolledBack.activeGroup === 'web-blue' && rolledBack.digest === d1,
  );

  await operatorAction('web', 'retry', 'demo: 1.1.0 again');
  const retried = await followRollout(d2, 120_000);
  mustHold('retry of 1.1.0 succeeded', retried.rollout!.state === 'succeeded', retried.rollout!.error ?? '');
  check(
    'web 1.1.0 is active again in web-green',
    retried.activeGroup === 'web-green' && retried.digest === d2,
  );
}

async function degradingRelease(goodDigest: string): Promise<void> {
  heading('6. Push 1.3.0, which answers 503 from 12 s after it starts: verify moves callers back');
  const { digest, at } = await push('1.3.0', 'degrade:12');
  const app = await followRollout(digest, 120_000);
  const r = app.rollout!;
  check(
    '1.3.0 was rolled back by verify',
    r.state === 'rolledBack' && r.reason === 'VerifyFailed',
    `${r.state} ${r.reason}: ${r.error}`,
  );
  const firstFail = r.timeline.find((c) => c.step === 'verifying' && c.message.startsWith('probe failed'));
  const reverted = r.timeline.find((c) => c.step === 'rolledBack');
  const lag = firstFail && reverted ? Date.parse(reverted.at) - Date.parse(firstFail.at) : undefined;
  // The sample's verify: a probe every 1 s, 3 failures in a row.
  check(
    'callers moved back within interval × threshold + 2 s of the first failing probe',
    lag !== undefined && lag <= 1000 * 3 + 2000,
    lag !== undefined ? formatDuration(lag) : 'no failing probe or revert on the timeline',
  );
  check('1.1.0 serves again from web-green', app.activeGroup === 'web-green' && app.digest === goodDigest);
  await sleep(2500);
  const failed = callsIn(at).filter((c) => !c.ok).length;
  note(`caller: ${failed} call(s) answered 503 while 1.3.0 degraded, until verify moved web-ip back`);
  const latest = callsIn(Date.now() - 1000);
  check(
    'the caller gets 1.1.0 again',
    latest.length > 0 && latest.every((c) => c.ok && c.digest === goodDigest),
    describeCalls(latest),
  );
}

async function manualPromotion(): Promise<void> {
  heading('7. Manual promotion of api: 1.1.0 waits in api-ip-preview until promoted');
  const { digest: a1 } = await push('1.0.0', undefined, 'api');
  const first = await followRollout(a1, 120_000, 'api');
  check('api 1.0.0 (its first deploy) promoted itself', first.rollout!.state === 'succeeded');
  const { digest: a2 } = await push('1.1.0', undefined, 'api');
  const waiting = await followRollout(a2, 120_000, 'api', (s) => s.rollout!.state !== 'inProgress');
  check(
    'api 1.1.0 awaits promotion with its IP in api-ip-preview',
    waiting.rollout!.state === 'awaitingPromotion' && !!waiting.previewIp,
    `${waiting.rollout!.state}, preview ${waiting.previewIp}`,
  );
  check('api-ip still names 1.0.0', waiting.digest === a1 && waiting.secret.ip !== waiting.previewIp);
  await operatorAction('api', 'promote', 'demo: QA passed');
  const promoted = await followRollout(a2, 120_000, 'api');
  check(
    'api 1.1.0 is active after promote and verify',
    promoted.rollout!.state === 'succeeded' && promoted.digest === a2,
  );
}

async function maintenance(): Promise<void> {
  heading('8. Platform maintenance moves the active group to another host (new IP)');
  const app = await appStatus();
  const group = app.activeGroup!;
  const period = stack!.reconcileSchedule;
  const at = Date.now();
  const res = await stack!.control<{ oldIp: string; newIp: string }>('POST', '/_emulator/maintenance', {
    resourceGroup: 'rg-apps',
    name: group,
  });
  if (res.status !== 200) throw new StoryAborted(`maintenance → ${res.status}: ${res.text}`);
  const { oldIp, newIp } = res.body;
  say(
    `emulator: ${group} moved: ${oldIp} → ${newIp}; web-ip still says ${oldIp} (reconcile timer: ${period})`,
  );
  const repaired = await waitFor(
    'the caller to read the new IP from Key Vault',
    () => secretReads.find((s) => s.at >= at && s.ip === newIp),
    60_000,
  );
  const repairMs = repaired.at - at;
  say(`caller read web-ip = ${newIp}, ${formatDuration(repairMs)} after the move`);
  const tick = await waitFor(
    'a reconcile tick after the move that rewrote web-ip',
    async () => {
      const lr = (await statusDocument()).lastReconcile;
      if (!lr || Date.parse(lr.at) < at) return undefined;
      const change = lr.changed.find((c) => c.kind === 'secret' && c.target.includes('web-ip'));
      return change ? { lr, change } : undefined;
    },
    30_000,
  ).catch(() => undefined);
  check(
    'the next reconcile tick repaired web-ip',
    tick !== undefined,
    tick
      ? `tick at ${stamp(Date.parse(tick.lr.at)).trim()}: ${tick.change.message}`
      : 'no secret change recorded',
  );
  check('repaired within one timer period (5 s) plus 10 s', repairMs <= 15_000, formatDuration(repairMs));
  await sleep(3000);
  const gap = callsIn(at, repaired.at + 1500);
  note(`caller between the move and its next read: ${describeCalls(gap)} (stale IP: what callers see today)`);
  const after = callsIn(repaired.at + 1500);
  check(
    'the caller recovered: every call after reading the new IP succeeded',
    after.length > 0 && after.every((c) => c.ok && c.ip === newIp),
    describeCalls(after),
  );
  await dnsAfterMaintenance(at, newIp);
}

/**
 * The DNS record after the host move: the tick that repaired it, and the DNS caller back within that tick plus the
 * record's TTL (its cached answer expires by then and the next lookup gets the new address).
 */
async function dnsAfterMaintenance(movedAt: number, newIp: string): Promise<void> {
  const tick = await waitFor(
    `a reconcile tick after the move that rewrote ${DNS_NAME}`,
    async () => {
      const lr = (await statusDocument()).lastReconcile;
      if (!lr || Date.parse(lr.at) < movedAt) return undefined;
      const change = lr.changed.find((c) => c.kind === 'dnsRecord' && c.target === DNS_NAME);
      return change ? { lr, change } : undefined;
    },
    30_000,
  ).catch(() => undefined);
  check(
    `the next reconcile tick repaired ${DNS_NAME}`,
    tick !== undefined,
    tick
      ? `tick at ${stamp(Date.parse(tick.lr.at)).trim()}: ${tick.change.message}`
      : 'no DNS change recorded',
  );
  const resolved = await waitFor(
    'the DNS caller to resolve the new IP',
    () => resolves.find((r) => r.at >= movedAt && r.ip === newIp),
    60_000,
  );
  const ttl = (await appStatus()).dns?.ttlSeconds ?? 0;
  const tickEnd = tick ? Date.parse(tick.lr.at) + tick.lr.durationMs : movedAt;
  say(`DNS caller resolved ${DNS_NAME} = ${newIp}, ${formatDuration(resolved.at - movedAt)} after the move`);
  check(
    `the DNS caller recovered within the tick + the TTL (${ttl} s)`,
    resolved.at <= tickEnd + (ttl + 1) * 1000,
    `${formatDuration(Math.max(0, resolved.at - tickEnd))} after the tick`,
  );
  await sleep(2000);
  const after = callsIn(resolved.at + 500, Number.POSITIVE_INFINITY, dnsCalls);
  check(
    'the DNS caller: every call after resolving the new IP succeeded',
    after.length > 0 && after.every((c) => c.ok && c.ip === newIp),
    describeCalls(after),
  );
}

async function watchedGroup(): Promise<void> {
  heading(
    `6. A group tagged ip-secret=${WATCHED_GROUP.secretName} and ip-dns=${WATCHED_GROUP.name} is mirrored without a sidecar`,
  );
  const res = await stack!.control('POST', '/_emulator/containerGroups/seed', {
    resourceGroup: WATCHED_GROUP.resourceGroup,
    count: 1,
    namePrefix: WATCHED_GROUP.name.replace(/-1$/, ''),
    subnetId: (stack!.appsConfig['apps'] as Array<{ subnetId: string }>)[0]!.subnetId,
    tags: { 'ip-secret': WATCHED_GROUP.secretName, 'ip-dns': WATCHED_GROUP.name },
  });
  if (res.status >= 300) throw new StoryAborted(`seed → ${res.status}: ${res.text}`);
  say(
    `emulator: created ${WATCHED_GROUP.resourceGroup}/${WATCHED_GROUP.name} tagged ip-secret=${WATCHED_GROUP.secretName}`,
  );
  const watched = await waitFor(
    `${WATCHED_GROUP.secretName} in sync`,
    async () =>
      (await statusDocument()).watched.find(
        (w) => w.name === WATCHED_GROUP.name && w.inSync && w.ip !== null,
      ),
    30_000,
  ).catch(() => undefined);
  check(
    `${WATCHED_GROUP.name}'s IP is in Key Vault (${WATCHED_GROUP.secretName})`,
    watched !== undefined,
    watched ? `${watched.ip}` : 'not in sync',
  );
  const named = await waitFor(
    `${WATCHED_GROUP.name}.apps.internal in sync`,
    async () => (await statusDocument()).watchedDns?.find((w) => w.name === WATCHED_GROUP.name && w.inSync),
    30_000,
  ).catch(() => undefined);
  check(
    `${WATCHED_GROUP.name} (tag ip-dns) has the name ${WATCHED_GROUP.name}.apps.internal`,
    named !== undefined,
    named ? `${named.dnsName} = ${named.recordIp}` : 'not in sync',
  );
}

async function finalStatus(): Promise<void> {
  heading('Final status (GET /api/status)');
  const doc = await statusDocument();
  console.log(statusTables(doc));
  console.log('');
  const deployed = doc.apps.filter((a) => a.activeGroup !== null);
  check(
    'every deployed app secret is in sync',
    deployed.length > 0 && deployed.every((a) => a.secret.inSync),
    deployed.map((a) => `${a.name}: ${a.secret.inSync ? 'in sync' : a.secret.problem}`).join(', '),
  );
  check(
    'every deployed app DNS name is in sync',
    deployed.length > 0 && deployed.every((a) => !a.dns || a.dns.inSync),
    deployed
      .map(
        (a) => `${a.dns?.name ?? a.name}: ${a.dns ? (a.dns.inSync ? 'in sync' : a.dns.problem) : 'no name'}`,
      )
      .join(', '),
  );
  check('the status document reports no read errors', doc.errors.length === 0, doc.errors.join('; '));
  // The container's secure environment value lives in Key Vault; neither the JSON nor the page may show it.
  const dbPassword = await stack!.readSecret('kv-apps', 'web-db-password');
  check('no secret value in GET /api/status', !JSON.stringify(doc).includes(dbPassword));
  if (stack!.functions.some((f) => f.name === 'dashboard')) {
    const page = await stack!.api('/api/dashboard');
    check(
      'the dashboard shows web in sync, without secret values',
      page.status === 200 &&
        page.text.includes('data-app="web"') &&
        page.text.includes('Key Vault in sync') &&
        !page.text.includes(dbPassword),
      `HTTP ${page.status}`,
    );
  }
}

// ---------------------------------------------------------------- run, report, shut down

let shuttingDown = false;

async function shutdown(exitCode: number, reason?: string): Promise<never> {
  if (shuttingDown) return new Promise<never>(() => undefined);
  shuttingDown = true;
  if (reason) say(reason);
  say('stopping the caller, the host, the emulator and Azurite...');
  await stack?.stop();
  say('stopped.');
  process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => void shutdown(130, `${signal}: interrupted`));
}

function summary(): boolean {
  heading('Expectations');
  console.log(
    textTable(
      ['Result', 'Expectation'],
      expectations.map((e) => [
        e.ok ? 'PASS' : 'FAIL',
        `${e.name}${!e.ok && e.detail ? ` (${e.detail})` : ''}`,
      ]),
    ),
  );
  const failed = expectations.filter((e) => !e.ok).length;
  const allTimes = calls.length ? describeCalls(calls) : 'no calls';
  console.log(`\n  Key Vault caller over the whole demo: ${allTimes}`);
  console.log(
    `  DNS caller over the whole demo:       ${dnsCalls.length ? describeCalls(dnsCalls) : 'no calls'}`,
  );
  console.log(
    `  ${failed === 0 && expectations.length > 0 ? 'DEMO PASSED' : 'DEMO FAILED'}: ${expectations.length - failed}/${expectations.length} expectations held, ${formatDuration(Date.now() - t0)} in all`,
  );
  return failed === 0 && expectations.length > 0;
}

async function main(): Promise<void> {
  installLocalhostResolver();
  say('starting a fresh local stack (Azurite in memory, emulator with fast timings, functions host)...');
  stack = await startDemoStack({
    rootDir: ROOT,
    editConfig: (config) => {
      const web = (config['apps'] as Array<Record<string, Record<string, unknown>>>)[0]!;
      web['health']!['timeoutSeconds'] = HEALTH_TIMEOUT_SECONDS;
      // The sample also watches rg-legacy/legacy-worker, which this fresh emulator does not have.
      (config['watch'] as Record<string, unknown>)['groups'] = [];
    },
    ...(args.verbose
      ? { onLine: (service: string, line: string) => console.log(`${service.padEnd(8)} | ${line}`) }
      : {}),
  });
  const dashboard = stack.functions.some((f) => f.name === 'dashboard')
    ? `${stack.functionsBaseUrl}/api/dashboard?code=${stack.functionKey}`
    : '(not registered)';
  say(`stack ready in ${stack.dir}`);
  note(`functions host ${stack.functionsBaseUrl}   emulator ${stack.emulatorUrl}`);
  note(`dashboard ${dashboard}`);
  note(
    `sample configuration: app web (semver >=1.0.0, blue/green in rg-apps), health timeout ${HEALTH_TIMEOUT_SECONDS} s, drain 5 s, reconcile ${stack.reconcileSchedule}`,
  );

  let failure: unknown;
  try {
    const { digest: d1 } = await firstDeploy();
    await startCaller();
    const { digest: d2 } = await blueGreen(d1);
    await rollbackInWindow(d1, d2);
    await brokenRelease(d2);
    await degradingRelease(d2);
    await manualPromotion();
    await maintenance();
    await watchedGroup();
  } catch (err) {
    failure = err;
  }
  // Interrupted: shutdown() is stopping everything and exits; what failed after that is no news.
  const interrupted = () => new Promise<never>(() => undefined);
  if (shuttingDown) return interrupted();
  try {
    await finalStatus();
  } catch (err) {
    failure ??= err;
  }
  if (shuttingDown) return interrupted();
  if (failure) {
    check(
      'the story ran to the end',
      false,
      failure instanceof StoryAborted ? failure.message : ((failure as Error).stack ?? String(failure)),
    );
    if (!(failure instanceof StoryAborted) || args.verbose) {
      console.log('\n  Last lines of the services:');
      for (const line of stack.recentOutput().slice(-40)) console.log(`    ${line}`);
    }
  }
  const ok = summary();
  if (args['keep-running'] && !shuttingDown) {
    say(`--keep-running: the stack stays up (dashboard ${dashboard}); Ctrl-C stops it.`);
    await new Promise(() => undefined);
  }
  await shutdown(ok ? 0 : 1);
}

main().catch(async (err: unknown) => {
  console.error(`[demo] ${(err as Error).stack ?? String(err)}`);
  await shutdown(1);
});

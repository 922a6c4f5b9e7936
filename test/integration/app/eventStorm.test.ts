/**
 * The event storm's correctness (issue 15, part 5), end to end on the local stack: 1,000 Event Grid deliveries over
 * 20 apps, sent concurrently to the host's webhook (bench/lib/stormPlan.ts: the newest allowed tag pushed twice,
 * redeliveries of the same event, older tags after the newer one, tags the policy refuses), then the reconcile
 * timer settles what the deliveries left. Each app must end with exactly one push rollout, of its newest allowed
 * tag, serving from its one group, and no delivery may get a 5xx. The same storm, timed, is `npm run bench -- --part
 * storm`; nothing here is timed. STORM_TEST_SEED replays a run (the seed is printed).
 */
import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appStatusReader } from '../../../bench/lib/appStatus.js';
import { benchAppNames, benchAppsConfig } from '../../../bench/lib/benchApps.js';
import type { PushedImage } from '../../../bench/lib/imagePushedEvent.js';
import { STORM_NEWEST, STORM_TAGS, stormPlan } from '../../../bench/lib/stormPlan.js';
import { newestRecorded, sendWave, settleStorm, type StormTarget } from '../../../bench/lib/stormRun.js';
import { useManagedIdentity } from '../support/emulator.js';
import { SUB, registryId } from '../support/fastApp.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { stackDriver } from '../support/stackDriver.js';

const APPS = benchAppNames('storm', 20);
const DELIVERIES = 1_000;
/** Deliveries in flight at once. */
const CONCURRENCY = 50;
const SEED = Number(process.env['STORM_TEST_SEED']) || Math.floor(Math.random() * 2 ** 31);

describe('event storm: 1,000 deliveries over 20 apps', () => {
  let stack: TestStack;
  let aci: ContainerInstanceManagementClient;
  let kv: SecretClient;
  let restoreIdentity: () => void;
  const driver = stackDriver(() => ({ stack, aci, kv }));

  beforeAll(async () => {
    stack = await startTestStack({
      appsConfig: ({ vaultUrl }) => benchAppsConfig(APPS, vaultUrl('kv-apps'), 'storm-it'),
      // The test sends every delivery itself.
      subscribe: false,
    });
    restoreIdentity = useManagedIdentity(stack.emulator);
    const credential = new DefaultAzureCredential();
    aci = new ContainerInstanceManagementClient(credential, SUB, {
      endpoint: stack.emulator.url,
      credentialScopes: ['https://management.azure.com/.default'],
    });
    kv = new SecretClient(stack.emulator.vaultUrl('kv-apps'), credential);
  });

  afterAll(async () => {
    restoreIdentity?.();
    await stack?.stop();
  });

  it('ends with exactly one push rollout per app, of its newest allowed tag, one group each, and no 5xx', async () => {
    console.log(`event storm seed ${SEED} (STORM_TEST_SEED=${SEED} replays it)`);
    const images = new Map<string, Map<string, PushedImage>>();
    for (const app of APPS) {
      const tags = new Map<string, PushedImage>();
      for (const tag of STORM_TAGS) tags.set(tag, { repository: app, tag, ...(await driver.push(app, tag)) });
      images.set(app, tags);
    }
    const plan = stormPlan(images, DELIVERIES, SEED);
    expect(plan.first.length + plan.second.length).toBe(DELIVERIES);
    const target: StormTarget = {
      webhookUrl: `${stack.host.baseUrl}/runtime/webhooks/eventgrid?functionName=onImagePushed&code=${encodeURIComponent(stack.host.systemKey)}`,
      registry: {
        name: 'contoso',
        resourceId: registryId('contoso'),
        loginServer: String(stack.emulator.stack['registryLoginServer']),
      },
      ...appStatusReader(stack.host.baseUrl, stack.host.functionKey ?? ''),
      runTimer: () => stack.runFunction('reconcile'),
    };

    const firstWave = sendWave(target, plan.first, CONCURRENCY);
    expect(await newestRecorded(target, plan, 60_000)).toBe(true);
    const answers = [...(await firstWave), ...(await sendWave(target, plan.second, CONCURRENCY))];
    const { settled, apps } = await settleStorm(target, plan, 120_000);

    expect(answers.filter((a) => a.status < 200 || a.status > 299).map((a) => a.status)).toEqual([]);
    expect(settled).toBe(true);
    for (const name of APPS) {
      const app = apps.find((a) => a.name === name)!;
      const newest = plan.newest.get(name)!;
      const pushes = app.history.filter((h) => h.kind === 'push');
      const groups = (await driver.groupsOf(name)).map((g) => g.name);
      expect({
        app: name,
        pushes: pushes.map((h) => `${h.tag} ${h.digest} ${h.outcome}`),
        serves: app.digest,
        secretInSync: app.secret.inSync,
        groups,
      }).toEqual({
        app: name,
        pushes: [`${STORM_NEWEST} ${newest.digest} succeeded`],
        serves: newest.digest,
        secretInSync: true,
        groups: [app.activeGroup],
      });
    }
  });
});

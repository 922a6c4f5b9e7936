/**
 * What end-to-end tests do to and read from a running local stack, written once: push an image (emulator control
 * API), read an app's status (the host's status route), wait for a rollout's outcome, read secrets and groups with
 * the real SDK clients, call a group's IP, and read the emulator's request log.
 *
 * ```ts
 * const { push, status, rolloutOutcome } = stackDriver<MyStatusView, MyAnswer>(() => ({ stack, aci, kv }));
 * ```
 * The clients are read lazily, so the driver can be made before `beforeAll` starts the stack.
 */
import type { ContainerGroup, ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import type { KeyVaultSecret, SecretClient } from '@azure/keyvault-secrets';
import { waitFor } from '../../support/waiting.js';
import { PORT, RG } from './fastApp.js';
import type { TestStack } from './stack.js';

/** The least a status view must have for the driver to follow rollouts. */
export interface RolloutStatusView {
  rollout: { digest: string; tag: string; state: string; step: string } | null;
  history: Array<{ digest: string }>;
}

export interface StackClients {
  stack: TestStack;
  aci: ContainerInstanceManagementClient;
  kv: SecretClient;
}

const CREATE = 'ContainerGroups_CreateOrUpdate';
/** Rollout states that are outcomes (status shows `awaitingPromotion` and `verifying` for rollouts in progress). */
const FINISHED = new Set(['succeeded', 'failed', 'superseded', 'rolledBack', 'aborted']);

export function stackDriver<S extends RolloutStatusView, A>(clients: () => StackClients) {
  const push = async (
    repository: string,
    tag: string,
    extra: { behavior?: string; digest?: string; registry?: string } = {},
  ): Promise<{ digest: string }> => {
    const { registry = 'contoso', ...body } = extra;
    const res = await clients().stack.emulator.control<{ digest: string }>(
      'POST',
      `/_emulator/registries/${registry}/push`,
      { repository, tag, ...body },
    );
    if (res.status !== 200)
      throw new Error(`push ${repository}:${tag}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  const status = async (app: string): Promise<S> => {
    const res = await clients().stack.call(`/api/status/${app}`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /api/status/${app}: ${res.status} ${text}`);
    return JSON.parse(text) as S;
  };

  /** The app's status once the rollout of `digest` has an outcome (succeeded, failed or superseded). */
  const rolloutOutcome = (app: string, digest: string, timeoutMs = 40_000): Promise<S> => {
    let seen = '';
    return waitFor(
      () => `the rollout of ${app} ${digest.slice(7, 19)} to finish (last seen: ${seen})`,
      async () => {
        const s = await status(app);
        const r = s.rollout;
        seen = r ? `${r.tag} ${r.state} at ${r.step}` : 'no rollout';
        if (r?.digest === digest) return FINISHED.has(r.state) ? s : undefined;
        // Superseded by a newer rollout: only history knows it. (Status reads state before history, so while
        // the rollout is current its history row can show up a poll before its state does: not used then.)
        return s.history.some((h) => h.digest === digest) ? s : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  };

  const readSecret = (name: string): Promise<KeyVaultSecret> => clients().kv.getSecret(name);

  const groupsOf = async (app: string): Promise<ContainerGroup[]> => {
    const out: ContainerGroup[] = [];
    for await (const g of clients().aci.containerGroups.listByResourceGroup(RG))
      if (g.name === `${app}-blue` || g.name === `${app}-green`) out.push(g);
    return out;
  };

  const groupExists = async (name: string): Promise<boolean> => {
    try {
      await clients().aci.containerGroups.get(RG, name);
      return true;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return false;
      throw e;
    }
  };

  /** Waits until the app has exactly these groups (drain and deletes over). */
  const onlyGroups = (app: string, names: string[], timeoutMs = 20_000): Promise<ContainerGroup[]> =>
    waitFor(
      `${app}'s groups to be exactly [${names.join(', ')}]`,
      async () => {
        const groups = await groupsOf(app);
        const got = groups.map((g) => g.name!).sort();
        return JSON.stringify(got) === JSON.stringify([...names].sort()) ? groups : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );

  const callIp = async (ip: string): Promise<A> => {
    const res = await fetch(`http://${ip}:${PORT}/`, { signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) throw new Error(`GET http://${ip}:${PORT}/ → ${res.status}`);
    return (await res.json()) as A;
  };

  const requestMark = async (): Promise<number> => (await clients().stack.emulator.requestCounts()).lastSeq;

  /** ACI create requests for the app's groups since `since` (request log), with the group name and status. */
  const createsOf = async (app: string, since: number): Promise<{ path: string; status: number }[]> => {
    const res = await clients().stack.emulator.control<{ entries: { path: string; status: number }[] }>(
      'GET',
      `/_emulator/requests?since=${since}&operation=${CREATE}`,
    );
    return res.body.entries.filter((e) =>
      new RegExp(`/containerGroups/${app}-(blue|green)(\\?|$)`, 'i').test(e.path),
    );
  };

  return {
    push,
    status,
    rolloutOutcome,
    readSecret,
    groupsOf,
    groupExists,
    onlyGroups,
    callIp,
    requestMark,
    createsOf,
  };
}

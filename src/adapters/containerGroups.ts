/**
 * Azure Container Instances through `@azure/arm-containerinstance`: one paged list per resource group, get,
 * and the create/delete/restart LROs started without waiting for them (the domain re-reads the group across
 * steps and ticks, so a function never blocks on a provisioning that takes minutes).
 */
import type {
  Container,
  ContainerGroup,
  ContainerInstanceManagementClient,
  ContainerState,
} from '@azure/arm-containerinstance';
import { getContinuationToken } from '@azure/arm-containerinstance';
import type {
  ContainerEvent,
  ContainerGroupSpec,
  ContainerGroupView,
  ContainerGroups,
  ContainerStateView,
  ContainerView,
  GroupDefinition,
} from '../domain/ports.js';
import { NotFoundError } from '../domain/errors.js';
import { fromAzureError, statusOf } from './azureErrors.js';
import { toArmGroup, toGroupDefinition } from './containerGroupSpecs.js';

export { toArmGroup } from './containerGroupSpecs.js';

export interface ContainerGroupsOptions {
  /** Per call (for a list: all its pages). Hung calls become TransientErrors instead of eating the budget. */
  requestTimeoutMs?: number;
}

type RawEvent = NonNullable<NonNullable<ContainerGroup['instanceView']>['events']>[number];

function isoOf(d: Date | string | undefined): string | undefined {
  if (d === undefined) return undefined;
  const t = d instanceof Date ? d : new Date(d);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

function eventView(e: RawEvent): ContainerEvent {
  const out: ContainerEvent = {};
  if (e.name !== undefined) out.name = e.name;
  if (e.message !== undefined) out.message = e.message;
  if (e.type !== undefined) out.type = e.type;
  if (e.count !== undefined) out.count = e.count;
  const first = isoOf(e.firstTimestamp);
  const last = isoOf(e.lastTimestamp);
  if (first) out.firstTimestamp = first;
  if (last) out.lastTimestamp = last;
  return out;
}

function stateView(s: ContainerState | undefined): ContainerStateView | undefined {
  if (!s) return undefined;
  const out: ContainerStateView = {};
  if (s.state !== undefined) out.state = s.state;
  if (s.exitCode !== undefined && s.exitCode !== null) out.exitCode = s.exitCode;
  if (s.detailStatus !== undefined) out.detailStatus = s.detailStatus;
  const start = isoOf(s.startTime);
  const finish = isoOf(s.finishTime);
  if (start) out.startTime = start;
  if (finish) out.finishTime = finish;
  return out;
}

function containerView(c: Container): ContainerView {
  const iv = c.instanceView;
  const out: ContainerView = { name: c.name, image: c.image, events: (iv?.events ?? []).map(eventView) };
  if (iv?.restartCount !== undefined) out.restartCount = iv.restartCount;
  const current = stateView(iv?.currentState);
  const previous = stateView(iv?.previousState);
  if (current) out.currentState = current;
  if (previous) out.previousState = previous;
  return out;
}

/** `/subscriptions/{s}/resourceGroups/{rg}/...` → rg. */
export function resourceGroupOf(id: string | undefined): string | undefined {
  return id ? /\/resourceGroups\/([^/]+)\//i.exec(id)?.[1] : undefined;
}

/** ARM shape → the domain's view (the SDK flattens `properties`). */
export function toGroupView(g: ContainerGroup, resourceGroup: string): ContainerGroupView {
  const view: ContainerGroupView = {
    name: g.name ?? '',
    resourceGroup: resourceGroupOf(g.id) ?? resourceGroup,
    tags: { ...(g.tags ?? {}) },
    containers: (g.containers ?? []).map(containerView),
    events: (g.instanceView?.events ?? []).map(eventView),
  };
  if (g.id) view.id = g.id;
  if (g.location) view.location = g.location;
  if (g.provisioningState) view.provisioningState = g.provisioningState;
  if (g.instanceView?.state) view.state = g.instanceView.state;
  if (g.ipAddress?.ip) view.ip = g.ipAddress.ip;
  return view;
}

type OnResponse = (raw: { status: number }) => void;

export class ContainerGroupsAdapter implements ContainerGroups {
  private readonly timeoutMs: number;

  constructor(
    private readonly client: ContainerInstanceManagementClient,
    options: ContainerGroupsOptions = {},
  ) {
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  private signal(): AbortSignal {
    return AbortSignal.timeout(this.timeoutMs);
  }

  async listByResourceGroup(resourceGroup: string): Promise<ContainerGroupView[]> {
    const out: ContainerGroupView[] = [];
    let pages = 0;
    let continuationToken: string | undefined;
    try {
      do {
        // One pager per page, each with its own abort signal: the SDK hands a listing's one signal to every
        // page, so the timeout would be the whole listing's, and a resource group of 20 pages in a row at ARM's
        // latency (or a throttled page's retries) must not fail for being long rather than hung.
        const pager = this.client.containerGroups
          .listByResourceGroup(resourceGroup, { abortSignal: this.signal() })
          .byPage(continuationToken ? { continuationToken } : undefined);
        const next = await pager.next();
        if (next.done) break;
        pages++;
        for (const g of next.value) out.push(toGroupView(g, resourceGroup));
        continuationToken = getContinuationToken(next.value);
      } while (continuationToken);
    } catch (e) {
      // A resource group that does not exist has no groups; a 404 on a later page is a real failure.
      if (pages === 0 && statusOf(e) === 404) return [];
      throw fromAzureError(`ACI list ${resourceGroup}`, e);
    }
    return out;
  }

  async get(resourceGroup: string, name: string): Promise<ContainerGroupView | undefined> {
    try {
      const g = await this.client.containerGroups.get(resourceGroup, name, { abortSignal: this.signal() });
      return toGroupView(g, resourceGroup);
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw fromAzureError(`ACI get ${resourceGroup}/${name}`, e);
    }
  }

  async getDefinition(resourceGroup: string, name: string): Promise<GroupDefinition | undefined> {
    try {
      const g = await this.client.containerGroups.get(resourceGroup, name, { abortSignal: this.signal() });
      return toGroupDefinition(g, resourceGroup);
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw fromAzureError(`ACI get ${resourceGroup}/${name}`, e);
    }
  }

  async beginCreate(resourceGroup: string, spec: ContainerGroupSpec): Promise<void> {
    await this.startLro(`ACI create ${resourceGroup}/${spec.name}`, (onResponse) =>
      this.client.containerGroups.beginCreateOrUpdate(resourceGroup, spec.name, toArmGroup(spec), {
        abortSignal: this.signal(),
        onResponse,
      }),
    );
  }

  async delete(resourceGroup: string, name: string): Promise<void> {
    try {
      await this.startLro(`ACI delete ${resourceGroup}/${name}`, (onResponse) =>
        this.client.containerGroups.beginDelete(resourceGroup, name, {
          abortSignal: this.signal(),
          onResponse,
        }),
      );
    } catch (e) {
      if (e instanceof NotFoundError) return;
      throw e;
    }
  }

  async restart(resourceGroup: string, name: string): Promise<void> {
    await this.startLro(`ACI restart ${resourceGroup}/${name}`, (onResponse) =>
      this.client.containerGroups.beginRestart(resourceGroup, name, {
        abortSignal: this.signal(),
        onResponse,
      }),
    );
  }

  /**
   * Sends the LRO's initial request and returns once ARM accepted it. The SDK's `begin*` also makes one status
   * poll; when that poll fails or reports the operation failed, the request was still accepted: the domain
   * reads the outcome from the group itself (provisioningState, events), so that is not an error here. The
   * poller is dropped without `pollUntilDone`, so nothing keeps polling (or rejects) in the background.
   */
  private async startLro(what: string, start: (onResponse: OnResponse) => Promise<unknown>): Promise<void> {
    let initialStatus: number | undefined;
    const onResponse: OnResponse = (raw) => {
      initialStatus ??= raw.status;
    };
    try {
      await start(onResponse);
    } catch (e) {
      if (initialStatus !== undefined && initialStatus >= 200 && initialStatus < 300) return;
      throw fromAzureError(what, e);
    }
  }
}

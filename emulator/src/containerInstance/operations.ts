/**
 * ACI's long-running operations: each create, update, start, restart and delete is an operation whose status URL
 * the response's Azure-AsyncOperation header names (ARM's async contract, azure-resource-manager-rpc
 * v1.0/async-api-reference.md), kept until it ends (bounded), and the status body ACI answers at that URL.
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';
import type { EmuRequest } from '../core/router.js';
import type { OperationError } from '../core/errors.js';
import { aciErrors } from './aciErrors.js';
import type { GroupStore } from './groupStore.js';
import {
  groupId,
  locationSlug,
  type StoredGroup,
  type StoredOperation,
  type TransitionKind,
} from './groupTypes.js';
import { containerView } from './groupRendering.js';
import type { GroupViews } from './groupViews.js';

/** The api-version real ACI puts in its Azure-AsyncOperation URLs. */
const OPERATION_STATUS_API_VERSION = '2018-06-01';
/** Ended operations beyond this many are forgotten, oldest first. */
const MAX_OPERATIONS = 5000;

/** The scheme and host the client called, so the URLs we hand back reach us the same way. */
export function requestOrigin(ctx: EmulatorContext, req: EmuRequest): string {
  return `https://${req.headers.host ?? new URL(ctx.url).host}`;
}

export class Operations {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly store: GroupStore,
    private readonly views: GroupViews,
  ) {}

  begin(key: string, g: StoredGroup, kind: TransitionKind): StoredOperation {
    const ops = this.store.operations;
    const op: StoredOperation = {
      id: crypto.randomUUID(),
      location: locationSlug(g.location),
      groupKey: key,
      kind,
      status: 'InProgress',
      startTime: Date.now(),
    };
    ops[op.id] = op;
    const ids = Object.keys(ops);
    if (ids.length > MAX_OPERATIONS) {
      for (const id of ids.slice(0, ids.length - MAX_OPERATIONS)) {
        if (ops[id]?.status !== 'InProgress') delete ops[id];
      }
    }
    return op;
  }

  finish(id: string, status: StoredOperation['status'], error?: OperationError): void {
    const op = this.store.operations[id];
    if (!op || op.status !== 'InProgress') return;
    op.status = status;
    op.endTime = Date.now();
    if (error) op.error = error;
  }

  /** The headers of a 201/202 that starts an operation. */
  lroHeaders(req: EmuRequest, op: StoredOperation): Record<string, string> {
    const url = `${requestOrigin(this.ctx, req)}/subscriptions/${this.ctx.options.subscriptionId}/providers/Microsoft.ContainerInstance/locations/${op.location}/operations/${op.id}?api-version=${OPERATION_STATUS_API_VERSION}`;
    return {
      'azure-asyncoperation': url,
      'retry-after': String(this.ctx.options.timings.lroRetryAfterSeconds),
    };
  }

  /**
   * ACI's answer as recorded by the Azure CLI's tests (container/tests/latest/recordings/
   * test_container_create_with_vnet.yaml, AZURECLI/2.45.0): `id` is the container group's, `status` is Pending
   * until the operation ends, no `name` or `endTime`, and `properties.events` carries the containers' events.
   * `error` on failure is the ARM async contract's (azure-resource-manager-rpc v1.0/async-api-reference.md).
   */
  statusBody(id: string): Record<string, unknown> {
    const op = this.store.operations[id];
    if (!op) throw aciErrors.operationNotFound(id);
    const [rg = '', name = ''] = op.groupKey.split('/');
    const group = this.store.groups[op.groupKey];
    const opts = this.views.options(false);
    const events = group
      ? group.properties.containers.flatMap((c) => containerView(group, c, opts)?.events ?? [])
      : [];
    const body: Record<string, unknown> = {
      id: group?.id ?? groupId(this.ctx.options.subscriptionId, rg, name),
      status: op.status === 'InProgress' ? 'Pending' : op.status,
      startTime: new Date(op.startTime).toISOString(),
      properties: { events },
    };
    if (op.error) body['error'] = op.error;
    return body;
  }
}

/**
 * The cross-cutting part of the control API: health, request log, faults and reset. Each service adds its own
 * `/_emulator/...` routes (push, maintenance, restart, Event Grid subscriptions...).
 */
import type { EmulatorContext, EmulatorService } from '../core/context.js';
import { EmulatorHttpError } from '../core/errors.js';
import type { FaultRegistry, FaultSpec } from '../core/faults.js';
import type { RequestLog } from '../core/requestLog.js';
import type { Route } from '../core/router.js';

function badRequest(message: string): EmulatorHttpError {
  return new EmulatorHttpError(400, 'BadRequest', message, 'plain');
}

export function controlService(
  ctx: EmulatorContext,
  deps: {
    requestLog: RequestLog;
    faults: FaultRegistry;
    resetAll: () => Promise<void>;
    describe: () => Record<string, unknown>;
  },
): EmulatorService {
  const routes: Route[] = [
    {
      method: 'GET',
      pattern: '/_emulator/health',
      auth: 'none',
      operation: 'Emulator_Health',
      handler: () => ({ status: 200, body: { ok: true } }),
    },
    {
      method: 'GET',
      pattern: '/_emulator/info',
      auth: 'none',
      operation: 'Emulator_Info',
      handler: () => ({ status: 200, body: deps.describe() }),
    },
    {
      method: 'GET',
      pattern: '/_emulator/requests',
      auth: 'none',
      operation: 'Emulator_Requests',
      handler: (req) => {
        const since = Number(req.query.get('since') ?? 0);
        const operation = req.query.get('operation') ?? undefined;
        const summary = deps.requestLog.summary(since);
        const body: Record<string, unknown> = { ...summary };
        if (req.query.get('entries') === 'true' || operation)
          body['entries'] = deps.requestLog.list(since, operation);
        return { status: 200, body };
      },
    },
    {
      method: 'DELETE',
      pattern: '/_emulator/requests',
      auth: 'none',
      operation: 'Emulator_ClearRequests',
      handler: () => {
        deps.requestLog.clear();
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: '/_emulator/faults',
      auth: 'none',
      operation: 'Emulator_ListFaults',
      handler: () => ({ status: 200, body: { value: deps.faults.list() } }),
    },
    {
      method: 'POST',
      pattern: '/_emulator/faults',
      auth: 'none',
      operation: 'Emulator_AddFault',
      handler: (req) => {
        const spec = req.body as FaultSpec | undefined;
        if (!spec || typeof spec !== 'object')
          throw badRequest('Body must be a JSON fault spec: { kind, match?, share?, count?, ... }.');
        try {
          return { status: 201, body: deps.faults.add(spec) };
        } catch (err) {
          throw badRequest((err as Error).message);
        }
      },
    },
    {
      method: 'DELETE',
      pattern: '/_emulator/faults',
      auth: 'none',
      operation: 'Emulator_ClearFaults',
      handler: () => ({ status: 200, body: { removed: deps.faults.remove() } }),
    },
    {
      method: 'DELETE',
      pattern: '/_emulator/faults/:id',
      auth: 'none',
      operation: 'Emulator_RemoveFault',
      handler: (req) => ({ status: deps.faults.remove(req.params['id']) ? 204 : 404 }),
    },
    {
      method: 'POST',
      pattern: '/_emulator/reset',
      auth: 'none',
      operation: 'Emulator_Reset',
      handler: async () => {
        await deps.resetAll();
        ctx.log('state reset');
        return { status: 204 };
      },
    },
  ];
  return { name: 'control', routes };
}

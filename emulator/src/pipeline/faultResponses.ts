/**
 * What an injected fault (the control API's /_emulator/faults) does to a request: latency, a hang, a 429 in the
 * service's own words, or an error status. Returns undefined when the request should go on to its handler.
 */
import type http from 'node:http';
import { armErrors } from '../core/armErrors.js';
import { EmulatorHttpError, errorResponse } from '../core/errors.js';
import { latencyOf, type Fault } from '../core/faults.js';
import type { CompiledRoute, EmuResponse } from '../core/router.js';
import { dataPlaneErrors } from '../containerRegistry/dataPlaneErrors.js';
import { keyVaultErrors } from '../keyVault/keyVaultErrors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function applyFaults(
  fired: Fault[],
  route: CompiledRoute,
  res: http.ServerResponse,
): Promise<EmuResponse | 'hang' | undefined> {
  for (const f of fired.filter((x) => x.kind === 'latency')) await sleep(latencyOf(f));
  const timeout = fired.find((f) => f.kind === 'timeout');
  if (timeout) {
    // Never answer; drop the socket after a long while so nothing leaks.
    setTimeout(() => res.destroy(), timeout.latencyMs ?? 120_000).unref();
    return 'hang';
  }
  const throttle = fired.find((f) => f.kind === 'throttle');
  if (throttle) {
    const headers: Record<string, string> = {};
    if (throttle.retryAfterSeconds !== undefined) headers['retry-after'] = String(throttle.retryAfterSeconds);
    const err =
      route.host === 'registry'
        ? dataPlaneErrors.tooManyRequests(headers)
        : route.auth === 'keyvault'
          ? keyVaultErrors.throttled(headers)
          : armErrors.tooManyRequests(headers);
    return errorResponse(err, 'fault');
  }
  const error = fired.find((f) => f.kind === 'error');
  if (error) {
    const status = error.status ?? 500;
    const code = error.code ?? (status === 503 ? 'ServiceUnavailable' : 'InternalServerError');
    const style = route.host === 'registry' ? 'registry' : route.auth === 'keyvault' ? 'keyvault' : 'arm';
    // The code is the test's choice, so it cannot come from a factory.
    return errorResponse(new EmulatorHttpError(status, code, `Injected fault: ${code}.`, style), 'fault');
  }
  return undefined;
}

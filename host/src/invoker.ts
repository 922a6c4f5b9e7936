/**
 * Runs one invocation the way the Node.js worker does (worker `InvocationHandler.ts`): the programming model
 * set by the app's `@azure/functions` turns an RPC-shaped request into the real `InvocationContext` and trigger
 * input (`HttpRequest`, timer object, event), pre/post invocation hooks run around the handler, and the model
 * turns the result back into an RPC response (HTTP output, return value).
 */
import crypto from 'node:crypto';
import type { FunctionsCore, RegisteredFunction } from './functionsCore.js';
import type {
  CoreInvocationContext,
  InvocationState,
  RpcInvocationRequest,
  RpcInvocationResponse,
  RpcLogLevel,
  RpcParameterBinding,
  RpcTypedData,
} from './functionsCoreTypes.js';
import type { HostLogger } from './hostLog.js';

export interface InvocationInput {
  inputData: RpcParameterBinding[];
  triggerMetadata?: Record<string, RpcTypedData>;
  /** Why the function runs, as the Functions host logs it (`New events received`, `Timer fired at ...`). */
  reason: string;
}

export type InvocationOutcome =
  | { ok: true; invocationId: string; response: RpcInvocationResponse; durationMs: number }
  | { ok: false; invocationId: string; error: Error; durationMs: number };

export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : `Non-error thrown: ${JSON.stringify(value)}`);
}

export class Invoker {
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly core: FunctionsCore,
    private readonly logger: HostLogger,
  ) {}

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  async invoke(fn: RegisteredFunction, input: InvocationInput): Promise<InvocationOutcome> {
    const invocationId = crypto.randomUUID();
    const started = performance.now();
    this.logger.invocation(
      fn.name,
      invocationId,
      'information',
      `Executing 'Functions.${fn.name}' (Reason='${input.reason}', Id=${invocationId})`,
    );
    const run = this.#run(fn, invocationId, input);
    this.#inFlight.set(invocationId, run);
    try {
      const response = await run;
      const durationMs = Math.round(performance.now() - started);
      this.logger.invocation(
        fn.name,
        invocationId,
        'information',
        `Executed 'Functions.${fn.name}' (Succeeded, Id=${invocationId}, Duration=${durationMs}ms)`,
      );
      return { ok: true, invocationId, response, durationMs };
    } catch (thrown) {
      const error = ensureError(thrown);
      const durationMs = Math.round(performance.now() - started);
      this.logger.invocation(
        fn.name,
        invocationId,
        'error',
        `Executed 'Functions.${fn.name}' (Failed, Id=${invocationId}, Duration=${durationMs}ms)\n${error.stack ?? error.message}`,
      );
      return { ok: false, invocationId, error, durationMs };
    } finally {
      this.#inFlight.delete(invocationId);
    }
  }

  /** Waits for running invocations; true when none is left within `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) {
      const remaining = deadline - Date.now();
      await Promise.race([
        Promise.allSettled([...this.#inFlight.values()]),
        new Promise((resolve) => setTimeout(resolve, remaining).unref()),
      ]);
    }
    return this.#inFlight.size === 0;
  }

  async #run(
    fn: RegisteredFunction,
    invocationId: string,
    input: InvocationInput,
  ): Promise<RpcInvocationResponse> {
    const model = this.core.programmingModel;
    if (!model) {
      throw new Error(
        'No programming model was set: the app did not register its functions through @azure/functions v4.',
      );
    }
    // Known once the model built it; log hooks see it from then on.
    const current: { context?: unknown } = {};
    const request: RpcInvocationRequest = {
      invocationId,
      functionId: fn.metadata.functionId ?? fn.name,
      inputData: input.inputData,
      triggerMetadata: input.triggerMetadata ?? {},
      traceContext: {
        traceParent: `00-${crypto.randomBytes(16).toString('hex')}-${crypto.randomBytes(8).toString('hex')}-01`,
        traceState: '',
        attributes: {},
      },
      retryContext: null,
    };
    const log = (level: RpcLogLevel, message: string) => {
      if (!this.core.hasHooks('log')) {
        this.logger.invocation(fn.name, invocationId, level, message);
        return;
      }
      const hookContext = {
        level,
        message,
        category: 'user',
        invocationContext: current.context,
        hookData: {},
      };
      this.core.runLogHooks(hookContext);
      this.logger.invocation(fn.name, invocationId, hookContext.level, hookContext.message);
    };
    const coreCtx: CoreInvocationContext & { state?: InvocationState } = {
      invocationId,
      request,
      metadata: fn.metadata,
      log: (level, _category, message) => log(level, message),
    };

    const invocationModel = await model.getInvocationModel(coreCtx);
    const hookData: Record<string, unknown> = {};
    const appHookData = this.core.appHookData;
    const args = await invocationModel.getArguments();
    current.context = args.context;
    const context = args.context;

    const pre = {
      get hookData() {
        return hookData;
      },
      get appHookData() {
        return appHookData;
      },
      get invocationContext() {
        return context;
      },
      inputs: args.inputs,
      functionCallback: fn.callback,
    };
    coreCtx.state = 'preInvocationHooks';
    try {
      await this.core.runHooks('preInvocation', pre);
    } finally {
      coreCtx.state = undefined;
    }

    const post = {
      get hookData() {
        return hookData;
      },
      get appHookData() {
        return appHookData;
      },
      get invocationContext() {
        return context;
      },
      inputs: pre.inputs,
      result: null as unknown,
      error: null as unknown,
    };
    coreCtx.state = 'invocation';
    try {
      post.result = await invocationModel.invokeFunction(context, pre.inputs, pre.functionCallback);
    } catch (err) {
      post.error = err;
    } finally {
      coreCtx.state = undefined;
    }

    coreCtx.state = 'postInvocationHooks';
    try {
      await this.core.runHooks('postInvocation', post);
    } finally {
      coreCtx.state = undefined;
    }
    if (post.error !== null && post.error !== undefined) throw post.error;
    return invocationModel.getResponse(context, post.result);
  }
}

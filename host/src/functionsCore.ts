/**
 * Provides `@azure/functions-core`, the module the Azure Functions Node.js worker builds into itself. Inside a
 * real worker `@azure/functions` requires it lazily (CommonJS `require`), sets its programming model and hands
 * every `app.http/timer/eventGrid(...)` registration to `registerFunction`. Providing the same contract lets the
 * host capture the app's own registrations from its entry module: one list of functions for both worlds.
 *
 * The worker does the same thing (setupCoreModule.ts: a Proxy on `Module.prototype.require`); `Module._load`
 * is hooked too for loaders that call it directly.
 */
import Module from 'node:module';
import type {
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  ProgrammingModel,
  RpcBindingInfo,
  RpcFunctionMetadata,
  RpcLogCategory,
  RpcLogLevel,
} from './functionsCoreTypes.js';

export const CORE_MODULE_NAME = '@azure/functions-core';
/** Reported as the worker/host version; `@azure/functions` only checks that `log` exists (host >= 4.28). */
export const HOST_VERSION = '4.1040.0-local';

export class Disposable {
  static from(...disposables: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => disposables.forEach((d) => d.dispose()));
  }
  #callOnDispose: (() => unknown) | undefined;
  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }
  dispose(): unknown {
    const call = this.#callOnDispose;
    this.#callOnDispose = undefined;
    return call?.();
  }
}

export interface TriggerBinding extends RpcBindingInfo {
  name: string;
  type: string;
}

export interface RegisteredFunction {
  name: string;
  /** The trigger binding with its options (route, methods, authLevel, schedule, runOnStartup...). */
  trigger: TriggerBinding;
  /** Metadata as the worker passes it to the programming model (`bindings` keyed by binding name). */
  metadata: RpcFunctionMetadata & { name: string; bindings: Record<string, RpcBindingInfo> };
  callback: FunctionCallback;
}

/** A user error in the app's registrations (bad metadata, duplicate names): reported, not a host bug. */
export class FunctionRegistrationError extends Error {
  override name = 'FunctionRegistrationError';
}

export class FunctionsCore {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly #hooks = new Map<string, HookCallback[]>();
  programmingModel: ProgrammingModel | undefined;
  readonly appHookData: Record<string, unknown> = {};
  startupFinished = false;

  constructor(private readonly systemLog: (level: RpcLogLevel, message: string) => void) {}

  /** The object `require('@azure/functions-core')` returns to the app. */
  readonly api = {
    version: HOST_VERSION,
    hostVersion: HOST_VERSION,
    Disposable,
    registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback) =>
      this.registerFunction(metadata, callback),
    registerHook: (hookName: string, callback: HookCallback) => this.registerHook(hookName, callback),
    setProgrammingModel: (model: ProgrammingModel) => {
      if (this.programmingModel)
        this.systemLog(
          'debug',
          `Setting Node.js programming model to "${model.name}" version "${model.version}"`,
        );
      this.programmingModel = model;
    },
    getProgrammingModel: () => this.programmingModel,
    log: (level: RpcLogLevel, _category: RpcLogCategory, message: string) => this.systemLog(level, message),
  };

  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    if (this.startupFinished) {
      throw new FunctionRegistrationError('A function can only be registered during app startup.');
    }
    const name = metadata.name || metadata.functionId;
    if (!name) throw new FunctionRegistrationError('A registered function has no name.');
    if (typeof callback !== 'function') {
      throw new FunctionRegistrationError(`Function "${name}" has no handler.`);
    }
    const key = name.toLowerCase();
    // Function names are case-insensitive in Azure Functions, and must be unique.
    if (this.functions.has(key))
      throw new FunctionRegistrationError(`The function name "${name}" is duplicated.`);
    const triggers = Object.entries(metadata.bindings ?? {}).filter(([, b]) =>
      /trigger$/i.test(b.type ?? ''),
    );
    if (triggers.length !== 1) {
      throw new FunctionRegistrationError(
        `Function "${name}" must have exactly one trigger binding, found ${triggers.length}.`,
      );
    }
    const [triggerName, trigger] = triggers[0]!;
    const bindings = metadata.bindings;
    this.functions.set(key, {
      name,
      trigger: { ...trigger, name: triggerName, type: String(trigger.type) },
      metadata: {
        name,
        functionId: metadata.functionId ?? name,
        bindings,
        // What the worker sends the host; kept for fidelity (`registerFunction.ts` in the worker).
        rawBindings: Object.entries(bindings).map(([bindingName, b]) =>
          JSON.stringify({ ...b, name: bindingName }),
        ),
        scriptFile: 'n/a',
      },
      callback,
    });
    return new Disposable(() => {
      if (this.startupFinished) {
        throw new FunctionRegistrationError('A function can only be disposed during app startup.');
      }
      this.functions.delete(key);
    });
  }

  registerHook(hookName: string, callback: HookCallback): Disposable {
    const list = this.#hooks.get(hookName) ?? [];
    list.push(callback);
    this.#hooks.set(hookName, list);
    return new Disposable(() => {
      const current = this.#hooks.get(hookName) ?? [];
      this.#hooks.set(
        hookName,
        current.filter((c) => c !== callback),
      );
    });
  }

  hasHooks(hookName: string): boolean {
    return (this.#hooks.get(hookName)?.length ?? 0) > 0;
  }

  /** Runs hooks in registration order; a throwing hook stops the chain, as in the worker. */
  async runHooks(hookName: string, context: Record<string, unknown>): Promise<void> {
    for (const callback of [...(this.#hooks.get(hookName) ?? [])]) await callback(context);
  }

  /** Log hooks run synchronously (they may rewrite the message or level); their failures are reported, not thrown. */
  runLogHooks(context: Record<string, unknown>): void {
    for (const callback of [...(this.#hooks.get('log') ?? [])]) {
      try {
        void callback(context);
      } catch (err) {
        this.systemLog('warning', `A log hook failed: ${(err as Error).message}`);
      }
    }
  }

  find(name: string): RegisteredFunction | undefined {
    return this.functions.get(name.toLowerCase());
  }

  /** Functions whose trigger type matches (case-insensitive), in registration order. */
  byTrigger(type: string): RegisteredFunction[] {
    return [...this.functions.values()].filter((f) => f.trigger.type.toLowerCase() === type.toLowerCase());
  }
}

type RequireFn = (this: unknown, id: string) => unknown;
type LoadFn = (request: string, parent: unknown, isMain: boolean) => unknown;

/**
 * Makes `require('@azure/functions-core')` return `api` in this process. Returns a function that undoes it.
 * Must run before the app's `@azure/functions` first asks for the module (it caches the answer).
 */
export function provideFunctionsCoreModule(api: object): () => void {
  const proto = Module.prototype as unknown as { require: RequireFn };
  const moduleStatics = Module as unknown as { _load: LoadFn };
  const originalRequire = proto.require;
  const originalLoad = moduleStatics._load;
  proto.require = new Proxy(originalRequire, {
    apply(target, thisArg, args: [string]) {
      return args[0] === CORE_MODULE_NAME ? api : Reflect.apply(target, thisArg, args);
    },
  });
  moduleStatics._load = function load(this: unknown, request: string, parent: unknown, isMain: boolean) {
    return request === CORE_MODULE_NAME ? api : originalLoad.call(this, request, parent, isMain);
  };
  return () => {
    proto.require = originalRequire;
    moduleStatics._load = originalLoad;
  };
}

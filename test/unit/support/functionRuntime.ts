/**
 * Calling a binding as the Functions host does: a real `InvocationContext` (test mode) whose log lines are kept,
 * and the runtime composed the way production composes it (`composeRuntime`) over the domain's fakes.
 */
import { InvocationContext } from '@azure/functions';
import { composeRuntime, setRuntimeForTesting, type AppRuntime } from '../../../src/composition.js';
import type { DomainDeps } from '../../../src/domain/deps.js';
import type { World } from './fakes.js';

export interface Logged {
  level: string;
  text: string;
}

export function context(functionName: string, logs: Logged[] = []): InvocationContext {
  return new InvocationContext({
    functionName,
    invocationId: `test-${functionName}`,
    logHandler: (level, ...args) => logs.push({ level, text: args.map(String).join(' ') }),
  });
}

export function useWorld(
  w: World,
  opts: {
    statusCacheSeconds?: number;
    budgetSeconds?: number;
    easyAuthEnabled?: boolean;
    actionsRequireSignIn?: boolean;
    override?: (d: DomainDeps) => DomainDeps;
  } = {},
): AppRuntime {
  const {
    rolloutStore,
    containerGroups,
    registries,
    registryManifests,
    secrets,
    dnsRecords,
    healthProbe,
    notifier,
    config,
    clock,
  } = w.deps;
  const runtime = composeRuntime(
    {
      apps: config,
      rolloutEventBudgetSeconds: opts.budgetSeconds ?? 20,
      operatorActionBudgetSeconds: 10,
      easyAuthEnabled: opts.easyAuthEnabled ?? false,
      actionsRequireSignIn: opts.actionsRequireSignIn ?? false,
      reconcileBudgetSeconds: 240,
      reconcileRolloutSliceSeconds: 20,
      statusCacheSeconds: opts.statusCacheSeconds ?? 0,
      reconcileSchedule: '0 * * * * *',
    },
    {
      rolloutStore,
      containerGroups,
      registries,
      registryManifests,
      secrets,
      dnsRecords,
      healthProbe,
      ...(notifier ? { notifier } : {}),
    },
    clock,
  );
  const wrapped: AppRuntime = {
    settings: runtime.settings,
    deps: (logger) => {
      const d = { ...runtime.deps(logger), options: w.deps.options ?? {} };
      return opts.override ? opts.override(d) : d;
    },
    statusDeps: (logger) => runtime.statusDeps(logger),
  };
  setRuntimeForTesting(wrapped);
  return wrapped;
}

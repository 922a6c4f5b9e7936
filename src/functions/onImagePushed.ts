/**
 * Event Grid trigger for ACR pushes (Event Grid schema or CloudEvents 1.0). Thin: parse, hand the event to the
 * domain within ROLLOUT_EVENT_BUDGET_SECONDS, log the outcome. Events that are not ours, malformed, stale or
 * duplicate return normally (2xx: Event Grid must not retry them), and so do terminal failures; transient and
 * unexpected errors are rethrown, so Event Grid redelivers (a redelivery is harmless: the same app + digest is one rollout).
 */
import { app, type InvocationContext } from '@azure/functions';
import { invocationLogger } from '../adapters/invocationLogger.js';
import { getRuntime } from '../composition.js';
import { budgetFrom } from '../domain/deps.js';
import { TerminalError, TransientError, errorMessage } from '../domain/errors.js';
import { handleImagePushed, nonPushOutcome, type PushResult } from '../domain/onImagePushed.js';
import { parseRegistryEvent } from '../events/imagePushed.js';

/** Past the budget the domain stops on its own; this is the backstop for a call that hangs. */
const HARD_LIMIT_GRACE_MS = 5_000;
/** Event Grid gives up on a delivery after 30 s. */
const DELIVERY_TIMEOUT_MS = 29_000;

function withHardLimit<T>(work: Promise<T>, limitMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TransientError(
            `the event was not handled within ${Math.round(limitMs / 1000)} s; Event Grid will redeliver it`,
          ),
        ),
      limitMs,
    );
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

export async function onImagePushed(event: unknown, context: InvocationContext): Promise<void> {
  const logger = invocationLogger(context);
  const parsed = parseRegistryEvent(event);
  if (parsed.kind !== 'imagePushed') {
    const { outcome, reason } = nonPushOutcome(parsed);
    logger.info(`onImagePushed ${parsed.id ?? '(no id)'}: ${outcome}: ${reason}`);
    return;
  }

  // A settings error is thrown here: the event is fine, so Event Grid should redeliver once the app is fixed.
  const runtime = getRuntime();
  const deps = runtime.deps(logger);
  const budgetMs = runtime.settings.rolloutEventBudgetSeconds * 1000;
  const hardLimitMs = Math.max(budgetMs + 500, Math.min(budgetMs + HARD_LIMIT_GRACE_MS, DELIVERY_TIMEOUT_MS));
  let result: PushResult;
  try {
    result = await withHardLimit(
      handleImagePushed(parsed, deps, budgetFrom(deps.clock, runtime.settings.rolloutEventBudgetSeconds)),
      hardLimitMs,
    );
  } catch (e) {
    if (e instanceof TransientError) {
      logger.warn(
        `onImagePushed ${parsed.id}: transient failure, Event Grid will redeliver: ${errorMessage(e)}`,
        {
          repository: parsed.repository,
          tag: parsed.tag,
        },
      );
      throw e;
    }
    if (e instanceof TerminalError) {
      // Retrying cannot help (the domain records terminal failures on the rollout): answer 2xx, log the reason.
      logger.error(`onImagePushed ${parsed.id}: failed, not retried: ${errorMessage(e)}`, {
        repository: parsed.repository,
        tag: parsed.tag,
        digest: parsed.digest,
      });
      return;
    }
    // Anything unclassified is a bug or an unexpected failure: let Event Grid redeliver (with its backoff) rather
    // than lose the push. Redelivery is safe: every step is idempotent and the same digest is one rollout.
    logger.error(
      `onImagePushed ${parsed.id}: unexpected failure, Event Grid will redeliver: ${errorMessage(e)}`,
      {
        repository: parsed.repository,
        tag: parsed.tag,
        digest: parsed.digest,
      },
    );
    throw e;
  }
  // The domain logged the decision when it made it; add how far the rollout got within this delivery.
  const a = result.advance;
  if (!a) return;
  const props = {
    app: result.app,
    outcome: result.outcome,
    rolloutState: a.rolloutState,
    waitUntil: a.waitUntil,
    error: a.error,
  };
  if (result.supersededBy)
    logger.info(
      `onImagePushed ${parsed.id}: ${result.app} rollout ${result.rolloutId ?? '?'} was superseded by rollout ${result.supersededBy} (a newer push), now at ${a.step ?? '?'} (${a.status}: ${a.message})`,
      { ...props, supersededBy: result.supersededBy },
    );
  else
    logger.info(
      `onImagePushed ${parsed.id}: ${result.app} rollout ${a.rolloutId ?? result.rolloutId ?? '?'} at ${a.step ?? '?'} (${a.status}: ${a.message})${a.status === 'finished' ? '' : '; the reconcile timer continues it'}`,
      props,
    );
}

app.eventGrid('onImagePushed', { handler: onImagePushed });

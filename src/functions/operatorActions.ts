/**
 * `POST /api/apps/{app}/{action}`: an operator's rollback, promote, abort, pause, resume, retry or redeploy
 * (docs/design.md, "Operator actions"). Its own function so it has its own keys: a key of the status function does
 * not open it (Functions' function keys belong to one function). The actor is the signed-in principal when App
 * Service authentication fronts the app, else "function key".
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invocationLogger } from '../adapters/invocationLogger.js';
import { getRuntime, type AppRuntime } from '../composition.js';
import { handleOperatorAction } from '../domain/actions/handleAction.js';
import { budgetFrom } from '../domain/deps.js';
import { errorMessage, isRetryable } from '../domain/errors.js';
import { ACTOR_MAX, clip } from '../events/fieldLimits.js';
import { ACTION_BODY_MAX_BYTES, parseActionRequest } from '../events/actionRequest.js';

const HEADERS = { 'cache-control': 'no-store' };

function json(status: number, body: unknown): HttpResponseInit {
  return { status, headers: HEADERS, jsonBody: body };
}

/**
 * Easy Auth's principal (only when it fronts the app: otherwise anyone could send the header), else the key; or
 * why the caller is refused when actions require sign-in.
 */
function actorOf(
  request: HttpRequest,
  settings: AppRuntime['settings'],
): { actor: string } | { refused: string } {
  const name = request.headers.get('x-ms-client-principal-name')?.trim();
  if (settings.easyAuthEnabled && name) return { actor: clip(name, ACTOR_MAX) };
  if (!settings.actionsRequireSignIn) return { actor: 'function key' };
  return {
    refused: settings.easyAuthEnabled
      ? 'operator actions require a signed-in caller: send an Entra ID bearer token for this app'
      : 'operator actions require sign-in, but App Service authentication is not enabled on this app',
  };
}

/** Read at most `max` bytes of the body: the declared length is checked first, the read is bounded too. */
async function boundedText(request: HttpRequest, max: number): Promise<string | undefined> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > max) return undefined;
  const text = await request.text();
  return Buffer.byteLength(text) > max ? undefined : text;
}

export async function operatorActions(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const logger = invocationLogger(context);
  let runtime: AppRuntime;
  try {
    runtime = getRuntime();
  } catch (e) {
    logger.error(`operator action: the app settings are unusable: ${errorMessage(e)}`);
    return json(500, { error: 'ConfigurationError', message: errorMessage(e) });
  }
  const text = await boundedText(request, ACTION_BODY_MAX_BYTES);
  if (text === undefined)
    return json(413, {
      error: 'BodyTooLarge',
      message: `the body is larger than ${ACTION_BODY_MAX_BYTES} bytes`,
    });
  const parsed = parseActionRequest(request.params['action'] ?? '', text);
  if (!parsed.ok) return json(400, { error: 'BadRequest', message: parsed.message });
  const who = actorOf(request, runtime.settings);
  if ('refused' in who) return json(401, { error: 'SignInRequired', message: who.refused });
  const appName = request.params['app'] ?? '';
  const deps = runtime.deps(logger);
  try {
    const result = await handleOperatorAction(
      { app: appName, ...parsed, actor: who.actor },
      deps,
      // Answer once the action has taken effect (a switch, a create request): the timer carries on from there.
      { ...budgetFrom(deps.clock, runtime.settings.operatorActionBudgetSeconds), maxSleepMs: 0 },
    );
    if (result.outcome === 'unknownApp') return json(404, { error: 'AppNotFound', message: result.reason });
    if (result.outcome === 'notApplicable')
      return json(409, {
        error: 'NotApplicable',
        app: result.app,
        action: result.action,
        message: result.reason,
      });
    const { outcome: _outcome, ...body } = result;
    return json(202, body);
  } catch (e) {
    logger.error(`${parsed.action} ${appName} failed: ${errorMessage(e)}`);
    return json(isRetryable(e) ? 503 : 500, { error: 'ActionFailed', message: errorMessage(e) });
  }
}

app.http('operatorActions', {
  route: 'apps/{app}/{action}',
  methods: ['POST'],
  authLevel: 'function',
  handler: operatorActions,
});

/**
 * `POST /api/apps/{app}/{action}` as the Functions host calls it: status codes of the contract (202, 409, 404,
 * 400, 413), the actor (Easy Auth's principal only when Easy Auth fronts the app), and bounded input.
 */
import { HttpRequest } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { setRuntimeForTesting } from '../../../src/composition.js';
import { operatorActions } from '../../../src/functions/operatorActions.js';
import { makeConfig, makeWorld, webApp, type World } from '../support/fakes.js';
import { context, useWorld } from '../support/functionRuntime.js';
import { deployInitial } from '../support/scenario.js';

function request(
  app: string,
  action: string,
  body?: string,
  headers: Record<string, string> = {},
): HttpRequest {
  return new HttpRequest({
    url: `http://127.0.0.1:7071/api/apps/${app}/${action}`,
    method: 'POST',
    params: { app, action },
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: { string: body } } : {}),
  });
}

async function call(app: string, action: string, body?: string, headers?: Record<string, string>) {
  const res = await operatorActions(request(app, action, body, headers), context('operatorActions'));
  return { status: res.status, body: res.jsonBody as Record<string, unknown> };
}

async function deployed(easyAuthEnabled = false, actionsRequireSignIn = false): Promise<World> {
  const w = makeWorld(makeConfig([webApp({ drainSeconds: 5 })]));
  await deployInitial(w);
  useWorld(w, { easyAuthEnabled, actionsRequireSignIn });
  return w;
}

afterEach(() => setRuntimeForTesting(undefined));

describe('operatorActions binding', () => {
  it('202 with the app and action when accepted; 409 with the reason when it does not apply', async () => {
    const w = await deployed();
    expect(await call('web', 'pause', '{"reason":"freeze"}')).toMatchObject({
      status: 202,
      body: { app: 'web', action: 'pause' },
    });
    expect(w.store.state('web')!.paused).toMatchObject({ actor: 'function key', reason: 'freeze' });
    const again = await call('web', 'pause');
    expect(again.status).toBe(409);
    expect(again.body['message']).toContain('already paused');
  });

  it('404 for an unknown app, 400 for an unknown action or a bad body, 413 for a large one', async () => {
    await deployed();
    expect((await call('nope', 'pause')).status).toBe(404);
    expect((await call('web', 'explode')).status).toBe(400);
    expect((await call('web', 'pause', '[1]')).status).toBe(400);
    expect((await call('web', 'pause', '{"reason": 7}')).status).toBe(400);
    expect((await call('web', 'pause', '{"extra": 1}')).status).toBe(400);
    expect((await call('web', 'rollback', '{"to": "latest"}')).status).toBe(400);
    expect((await call('web', 'pause', '{"to": "sha256:' + 'a'.repeat(64) + '"}')).status).toBe(400);
    expect((await call('web', 'pause', JSON.stringify({ reason: 'x'.repeat(5_000) }))).status).toBe(413);
  });

  it('names the Easy Auth principal only when Easy Auth fronts the app (otherwise anyone could send the header)', async () => {
    const w = await deployed(false);
    await call('web', 'pause', undefined, { 'x-ms-client-principal-name': 'mallory@contoso.com' });
    expect(w.store.state('web')!.paused!.actor).toBe('function key');
    await call('web', 'resume');

    const v = await deployed(true);
    await call('web', 'pause', undefined, { 'x-ms-client-principal-name': 'alice@contoso.com' });
    expect(v.store.state('web')!.paused!.actor).toBe('alice@contoso.com');
  });

  it('with OPERATOR_ACTIONS_REQUIRE_SIGN_IN a key alone is not enough: 401 without a signed-in principal', async () => {
    const w = await deployed(true, true);
    const anonymous = await call('web', 'pause');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body['message']).toContain('signed-in caller');
    expect(w.store.state('web')!.paused).toBeUndefined();
    const signedIn = await call('web', 'pause', undefined, {
      'x-ms-client-principal-name': 'alice@contoso.com',
    });
    expect(signedIn.status).toBe(202);

    await deployed(false, true);
    const noEasyAuth = await call('web', 'pause', undefined, {
      'x-ms-client-principal-name': 'alice@contoso.com',
    });
    expect(noEasyAuth.status).toBe(401);
    expect(noEasyAuth.body['message']).toContain('App Service authentication is not enabled');
  });
});

/**
 * Managed identity as App Service exposes it: `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=…`
 * with `X-IDENTITY-HEADER` (what DefaultAzureCredential uses in Functions), and the older MSI_ENDPOINT form
 * (`api-version=2017-09-01`, header `secret`, or a POST form with `Metadata: true`, as the Azure CLI sends).
 */
import crypto from 'node:crypto';
import { DEFAULT_PRINCIPAL_ID, type EmulatorContext, type EmulatorService } from '../core/context.js';
import { EmulatorHttpError } from '../core/errors.js';
import type { EmuRequest, EmuResponse } from '../core/router.js';
import { AUDIENCES, normaliseResource } from '../core/tokens.js';

const KNOWN_RESOURCES = new Set<string>([
  ...AUDIENCES.arm,
  ...AUDIENCES.keyvault,
  ...AUDIENCES.eventgrid,
  ...AUDIENCES.registry,
]);

function identityError(status: number, message: string): EmulatorHttpError {
  return new EmulatorHttpError(status, status === 401 ? 'Unauthorized' : 'BadRequest', message, 'plain');
}

/** Stable principal for a user-assigned identity's client id, so role checks could key on it. */
function principalFor(clientId: string | undefined): { oid: string; appid: string } {
  if (!clientId) return { oid: DEFAULT_PRINCIPAL_ID, appid: DEFAULT_PRINCIPAL_ID };
  const hash = crypto.createHash('sha256').update(clientId).digest('hex');
  const oid = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`;
  return { oid, appid: clientId };
}

export function identityService(ctx: EmulatorContext): EmulatorService {
  const tokenFor = (req: EmuRequest, resource: string | null, clientId: string | undefined): EmuResponse => {
    if (!resource) throw identityError(400, 'The resource parameter is required.');
    const normalised = normaliseResource(resource);
    if (!KNOWN_RESOURCES.has(normalised)) {
      throw identityError(
        400,
        `Unknown resource '${resource}': the emulator issues tokens for ${[...KNOWN_RESOURCES].join(', ')}.`,
      );
    }
    const principal = principalFor(clientId);
    const issued = ctx.tokens.issue(normalised, principal);
    return {
      status: 200,
      body: {
        access_token: issued.token,
        expires_on: String(issued.exp),
        expires_in: String(issued.exp - issued.iat),
        not_before: String(issued.nbf),
        resource: normalised,
        token_type: 'Bearer',
        client_id: principal.appid,
      },
    };
  };

  const handleGet = (req: EmuRequest): EmuResponse => {
    const apiVersion = req.query.get('api-version');
    const header = req.headers['x-identity-header'] ?? req.headers['secret'];
    if (apiVersion !== '2019-08-01' && apiVersion !== '2017-09-01') {
      throw identityError(400, `Unsupported api-version '${apiVersion ?? ''}'. Use 2019-08-01.`);
    }
    if (header !== ctx.options.identityHeader) {
      throw identityError(401, 'The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.');
    }
    return tokenFor(
      req,
      req.query.get('resource'),
      req.query.get('client_id') ?? req.query.get('clientid') ?? undefined,
    );
  };

  const handlePost = (req: EmuRequest): EmuResponse => {
    if (String(req.headers['metadata'] ?? '').toLowerCase() !== 'true') {
      throw identityError(400, "The 'Metadata: true' header is required.");
    }
    const form = new URLSearchParams(req.rawBody.toString('utf8'));
    return tokenFor(
      req,
      form.get('resource') ?? req.query.get('resource'),
      form.get('client_id') ?? undefined,
    );
  };

  return {
    name: 'identity',
    routes: [
      {
        method: 'GET',
        pattern: '/msi/token',
        auth: 'none',
        operation: 'ManagedIdentity_GetToken',
        handler: handleGet,
      },
      {
        method: 'POST',
        pattern: '/msi/token',
        auth: 'none',
        operation: 'ManagedIdentity_GetToken',
        handler: handlePost,
      },
    ],
    describe: () => ({
      identityEndpoint: `${ctx.url}/msi/token`,
      identityHeader: ctx.options.identityHeader,
      msiEndpoint: `${ctx.url}/msi/token`,
    }),
  };
}

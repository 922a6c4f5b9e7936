/**
 * Access tokens as compact JWTs signed with HS256 by a key kept in state, so tokens outlive an emulator restart
 * as Entra ID tokens outlive nothing in particular. Each names its audience; services accept only their own.
 */
import crypto from 'node:crypto';

export interface TokenClaims {
  aud: string;
  iss: string;
  tid: string;
  oid: string;
  appid: string;
  iat: number;
  nbf: number;
  exp: number;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Resource (audience) names each service accepts, with and without trailing slash. */
export const AUDIENCES = {
  arm: ['https://management.azure.com', 'https://management.core.windows.net'],
  keyvault: ['https://vault.localhost', 'https://vault.azure.net'],
  eventgrid: ['https://eventgrid.azure.net'],
  /** Azure Container Registry's data plane (the token exchanged at `/oauth2/exchange`). */
  registry: ['https://containerregistry.azure.net'],
} as const;

export function normaliseResource(resource: string): string {
  return resource.replace(/\/\.default$/, '').replace(/\/+$/, '');
}

export class TokenService {
  constructor(
    private readonly key: Buffer,
    private readonly tenantId: string,
  ) {}

  issue(
    resource: string,
    principal: { oid: string; appid: string },
    lifetimeSeconds = 3600,
  ): TokenClaims & { token: string } {
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = {
      aud: normaliseResource(resource),
      iss: `https://sts.windows.net/${this.tenantId}/`,
      tid: this.tenantId,
      oid: principal.oid,
      appid: principal.appid,
      iat: now,
      nbf: now - 5,
      exp: now + lifetimeSeconds,
    };
    const unsigned = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
    const signature = crypto.createHmac('sha256', this.key).update(unsigned).digest('base64url');
    return { ...claims, token: `${unsigned}.${signature}` };
  }

  /** The verified claims, or a reason the token is not acceptable. */
  verify(token: string): { ok: true; claims: TokenClaims } | { ok: false; reason: string } {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'The access token is not a JWT.' };
    const [header, payload, signature] = parts as [string, string, string];
    const expected = crypto.createHmac('sha256', this.key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'The access token signature is invalid.' };
    }
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { ok: false, reason: 'The access token payload is not JSON.' };
    }
    if (claims.exp * 1000 < Date.now()) return { ok: false, reason: 'The access token has expired.' };
    return { ok: true, claims };
  }
}

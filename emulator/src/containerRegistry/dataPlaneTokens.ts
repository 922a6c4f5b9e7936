/**
 * ACR's own tokens for its data plane: the refresh token `/oauth2/exchange` returns for an Entra ID token, and
 * the access token `/oauth2/token` returns for a refresh token and a scope. Claims follow the claim sets in
 * "Azure Container Registry integration with Azure Active Directory" (Azure/acr docs/AAD-OAuth.md): issuer
 * "Azure Container Registry", audience the login server, `grant_type`, `tenant`, and for access tokens
 * `access: [{ type, name, actions }]`. As the Docker token specification says of a token server, an access token
 * grants what was asked for *and* is allowed, possibly nothing; the registry then answers 401.
 *
 * Signed with HS256 by a key of this emulator's own (kept in state, so tokens survive a restart). Which principals
 * may pull is the emulator's stand-in for role assignments (AcrPull): everyone, unless a test denies one through
 * `POST /_emulator/registries/{name}/dataPlaneAccess`.
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';

interface DataPlaneSlice {
  signingKey: string;
  /** lower-case registry name → principal ids (oid) refused pull access */
  deniedPull: Record<string, string[]>;
}

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface AcrClaims {
  jti: string;
  sub: string;
  nbf: number;
  exp: number;
  iat: number;
  iss: 'Azure Container Registry';
  aud: string;
  version: '1.0';
  grant_type: 'refresh_token' | 'access_token';
  tenant: string;
  access?: AccessEntry[];
}

const REFRESH_LIFETIME_S = 3 * 3600;
const ACCESS_LIFETIME_S = 75 * 60;

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export class DataPlaneTokens {
  constructor(private readonly ctx: EmulatorContext) {}

  private get slice(): DataPlaneSlice {
    return this.ctx.state.slice<DataPlaneSlice>('containerRegistryDataPlane', () => ({
      signingKey: crypto.randomBytes(32).toString('base64'),
      deniedPull: {},
    }));
  }

  private sign(claims: AcrClaims): string {
    const unsigned = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
    const key = Buffer.from(this.slice.signingKey, 'base64');
    return `${unsigned}.${crypto.createHmac('sha256', key).update(unsigned).digest('base64url')}`;
  }

  private claims(
    principal: string,
    tenant: string,
    loginServer: string,
    grant: AcrClaims['grant_type'],
    lifetime: number,
  ): AcrClaims {
    const now = Math.floor(Date.now() / 1000);
    return {
      jti: crypto.randomUUID(),
      sub: principal,
      nbf: now - 5,
      exp: now + lifetime,
      iat: now,
      iss: 'Azure Container Registry',
      aud: loginServer,
      version: '1.0',
      grant_type: grant,
      tenant,
    };
  }

  refreshToken(principal: string, tenant: string, loginServer: string): string {
    this.ctx.state.changed(); // keep the signing key across restarts
    return this.sign(this.claims(principal, tenant, loginServer, 'refresh_token', REFRESH_LIFETIME_S));
  }

  /**
   * An access token for what the principal asked for and may do: `pull` and `metadata_read` on repositories, unless
   * denied. AcrPull grants both (reading content and reading metadata such as tag lists: "Azure Container Registry
   * built-in roles directory reference", container-registry/container-registry-rbac-built-in-roles-directory-reference);
   * the emulator's denial stands in for a missing role assignment, so it takes both away.
   */
  accessToken(refresh: AcrClaims, registryName: string, scopes: string[]): string {
    const denied = (this.slice.deniedPull[registryName.toLowerCase()] ?? []).includes(refresh.sub);
    const access: AccessEntry[] = [];
    for (const scope of scopes) {
      const m = /^repository:([^:]+):([a-z_*,]+)$/.exec(scope);
      if (!m || denied) continue;
      const wanted = m[2]!.split(',');
      const actions = [
        ...(wanted.includes('pull') || wanted.includes('*') ? ['pull'] : []),
        ...(wanted.includes('metadata_read') ? ['metadata_read'] : []),
      ];
      if (actions.length > 0) access.push({ type: 'repository', name: m[1]!, actions });
    }
    return this.sign({
      ...this.claims(refresh.sub, refresh.tenant, refresh.aud, 'access_token', ACCESS_LIFETIME_S),
      access,
    });
  }

  /** The verified claims of one of this registry's tokens, or why it is not acceptable. */
  verify(
    token: string,
    loginServer: string,
    grant: AcrClaims['grant_type'],
  ): { ok: true; claims: AcrClaims } | { ok: false; reason: string } {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'the token is not a JWT' };
    const [header, payload, signature] = parts as [string, string, string];
    const key = Buffer.from(this.slice.signingKey, 'base64');
    const expected = crypto.createHmac('sha256', key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected))
      return { ok: false, reason: 'the token signature is invalid' };
    let claims: AcrClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AcrClaims;
    } catch {
      return { ok: false, reason: 'the token payload is not JSON' };
    }
    if (claims.iss !== 'Azure Container Registry') return { ok: false, reason: 'not a registry token' };
    if (claims.aud !== loginServer) return { ok: false, reason: `the token is for ${claims.aud}` };
    if (claims.grant_type !== grant) return { ok: false, reason: `not a ${grant.replace('_', ' ')}` };
    if (claims.exp * 1000 < Date.now()) return { ok: false, reason: 'the token has expired' };
    return { ok: true, claims };
  }

  setPullAccess(registryName: string, principal: string, allowed: boolean): string[] {
    const key = registryName.toLowerCase();
    const current = new Set(this.slice.deniedPull[key] ?? []);
    if (allowed) current.delete(principal);
    else current.add(principal);
    this.slice.deniedPull[key] = [...current].sort();
    this.ctx.state.changed();
    return this.slice.deniedPull[key];
  }
}

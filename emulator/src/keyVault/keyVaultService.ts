/**
 * Key Vault secrets at `https://{vault}.vault.localhost:{port}` (the core answers the 401 challenge and checks
 * the api-version): set, get (current or by version), list properties and versions (paged with `$skiptoken`),
 * update properties, soft delete with get/list/recover/purge of deleted secrets. Several independent vaults;
 * control routes add vaults and list their secrets for debugging.
 */
import type { EmulatorContext, EmulatorService } from '../core/context.js';
import { EmulatorHttpError, keyVaultError } from '../core/errors.js';
import type { EmuRequest, EmuResponse, Route } from '../core/router.js';
import {
  latest,
  newVersionId,
  nowSeconds,
  RECOVERABLE_DAYS,
  RECOVERY_LEVEL,
  SECRET_NAME_PATTERN,
  SecretStore,
  VAULT_NAME_PATTERN,
  type SecretRecord,
  type SecretVersionRecord,
  type VaultRecord,
} from './secretStore.js';
import { vaultNextLinkBase } from './vaultAddress.js';

/** Key Vault data-plane versions: 7.x (the Azure CLI and older SDKs) and 2025-07-01 (keyvault-secrets 4.11). */
export const KEY_VAULT_API_VERSIONS = [
  '2016-10-01',
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '7.5',
  '7.6-preview.2',
  '7.6',
  '2025-07-01',
] as const;

/** Key Vault refuses pages above 25 items. */
const MAX_PAGE = 25;
const MAX_TAGS = 15;
/** 25 KB: the largest secret value Key Vault stores. */
const MAX_VALUE_BYTES = 25 * 1024;

const NOT_FOUND_HINT =
  'If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182';

function badParameter(message: string): EmulatorHttpError {
  return keyVaultError(400, 'BadParameter', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface AttributeInput {
  enabled?: boolean;
  nbf?: number;
  exp?: number;
}

function parseAttributes(value: unknown): AttributeInput {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw badParameter('Property attributes has invalid value.');
  const out: AttributeInput = {};
  if (value['enabled'] !== undefined) {
    if (typeof value['enabled'] !== 'boolean')
      throw badParameter('Property attributes.enabled has invalid value.');
    out.enabled = value['enabled'];
  }
  for (const key of ['nbf', 'exp'] as const) {
    const v = value[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw badParameter(`Property attributes.${key} has invalid value.`);
    out[key] = v;
  }
  return out;
}

function parseTags(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw badParameter('Property tags has invalid value.');
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS) throw badParameter(`The number of tags exceeds the maximum of ${MAX_TAGS}.`);
  for (const [k, v] of entries) {
    if (typeof v !== 'string')
      throw badParameter(`Tag '${k}' has invalid value: tag values must be strings.`);
    if (k.length > 512 || v.length > 512)
      throw badParameter('Tag names and values are limited to 512 characters.');
  }
  return value as Record<string, string>;
}

function parseContentType(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badParameter('Property contentType has invalid value.');
  return value;
}

export function keyVaultService(ctx: EmulatorContext): EmulatorService {
  const store = new SecretStore(ctx);

  const vaultOf = (req: EmuRequest): VaultRecord => {
    const name = req.vaultName ?? '';
    const vault = store.vault(name);
    // In Azure an unknown vault name does not resolve in DNS; locally every *.vault.localhost reaches us.
    if (!vault) {
      throw keyVaultError(
        404,
        'VaultNotFound',
        `The vault '${name}' does not exist. (In Azure its host name would not resolve; add it with POST /_emulator/vaults.)`,
      );
    }
    return vault;
  };

  const secretName = (req: EmuRequest): string => {
    const name = req.params['name'] ?? '';
    if (!SECRET_NAME_PATTERN.test(name))
      throw badParameter(`The request URI contains an invalid name: ${name}`);
    return name;
  };

  const notFound = (ref: string) =>
    keyVaultError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${ref} was not found in this key vault. ${NOT_FOUND_HINT}`,
    );

  const liveSecret = (vault: VaultRecord, name: string): SecretRecord | undefined => {
    const s = vault.secrets[name.toLowerCase()];
    return s && !s.deleted && s.versions.length > 0 ? s : undefined;
  };

  const findVersion = (vault: VaultRecord, name: string, version: string | undefined) => {
    const secret = liveSecret(vault, name);
    if (!secret) throw notFound(name);
    const record = version
      ? secret.versions.find((v) => v.version === version.toLowerCase())
      : latest(secret);
    if (!record) throw notFound(`${name}/${version ?? ''}`);
    return { secret, record };
  };

  const attributes = (v: SecretVersionRecord) => ({
    enabled: v.enabled,
    ...(v.nbf !== undefined ? { nbf: v.nbf } : {}),
    ...(v.exp !== undefined ? { exp: v.exp } : {}),
    created: v.created,
    updated: v.updated,
    recoveryLevel: RECOVERY_LEVEL,
    recoverableDays: RECOVERABLE_DAYS,
  });

  const base = (vault: VaultRecord) => ctx.vaultUrl(vault.name);

  /** SecretBundle; `withValue: false` for the answers that carry no value (update, delete, recover). */
  const bundle = (vault: VaultRecord, secret: SecretRecord, v: SecretVersionRecord, withValue = true) => ({
    ...(withValue ? { value: v.value } : {}),
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
    id: `${base(vault)}/secrets/${secret.name}/${v.version}`,
    attributes: attributes(v),
    ...(v.tags !== undefined ? { tags: v.tags } : {}),
  });

  /** SecretItem (list entries): no value. `versioned` ids name the version (GetSecretVersions). */
  const item = (vault: VaultRecord, secret: SecretRecord, v: SecretVersionRecord, versioned: boolean) => ({
    id: `${base(vault)}/secrets/${secret.name}${versioned ? `/${v.version}` : ''}`,
    attributes: attributes(v),
    ...(v.tags !== undefined ? { tags: v.tags } : {}),
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
  });

  const deletedBundle = (vault: VaultRecord, secret: SecretRecord, withValue: boolean) => {
    const v = latest(secret)!;
    return {
      ...bundle(vault, secret, v, withValue),
      recoveryId: `${base(vault)}/deletedsecrets/${secret.name}`,
      deletedDate: secret.deleted?.deletedDate,
      scheduledPurgeDate: secret.deleted?.scheduledPurgeDate,
    };
  };

  /**
   * A page of `entries` from the position named by `$skiptoken`, with an absolute nextLink carrying the
   * api-version and page size, as Key Vault returns it. `value` is always present, even when empty.
   */
  const paged = <T>(
    req: EmuRequest,
    vault: VaultRecord,
    listPath: string,
    entries: T[],
    map: (e: T) => unknown,
  ) => {
    const raw = req.query.get('maxresults');
    let size = Math.min(MAX_PAGE, Math.max(1, ctx.options.pageSize.secrets));
    if (raw !== null && raw !== '') {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE)
        throw badParameter(
          `Invalid value for maxresults: ${raw}. It must be an integer between 1 and ${MAX_PAGE}.`,
        );
      size = n;
    }
    let offset = 0;
    const token = req.query.get('$skiptoken');
    if (token) {
      try {
        offset = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset: number }).offset;
      } catch {
        offset = NaN;
      }
      if (!Number.isInteger(offset) || offset < 0)
        throw badParameter(`The skip token '${token}' is invalid.`);
    }
    const slice = entries.slice(offset, offset + size);
    const next = offset + size < entries.length;
    const apiVersion = req.query.get('api-version') ?? '';
    const skip = Buffer.from(JSON.stringify({ offset: offset + size })).toString('base64url');
    return {
      status: 200,
      body: {
        value: slice.map(map),
        nextLink: next
          ? `${vaultNextLinkBase(vault.name, ctx.port)}${listPath}?api-version=${encodeURIComponent(apiVersion)}&$skiptoken=${skip}&maxresults=${size}`
          : null,
      },
    };
  };

  const sortedLive = (vault: VaultRecord) =>
    Object.values(vault.secrets)
      .filter((s) => !s.deleted && s.versions.length > 0)
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));

  // ---- handlers ----------------------------------------------------------------------------------------------

  const setSecret = (req: EmuRequest): EmuResponse => {
    const vault = vaultOf(req);
    const name = secretName(req);
    if (!isObject(req.body)) throw badParameter('The request body must be a JSON object with a value.');
    const body = req.body;
    if (typeof body['value'] !== 'string')
      throw badParameter('Property value is required and must be a string.');
    if (Buffer.byteLength(body['value']) > MAX_VALUE_BYTES)
      throw badParameter(`The secret value exceeds the maximum size of ${MAX_VALUE_BYTES} bytes.`);
    const attrs = parseAttributes(body['attributes']);
    const tags = parseTags(body['tags']);
    const contentType = parseContentType(body['contentType']);
    const key = name.toLowerCase();
    const existing = vault.secrets[key];
    if (existing?.deleted) {
      throw keyVaultError(
        409,
        'Conflict',
        `Secret ${existing.name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
      );
    }
    const secret = existing ?? { name, versions: [] };
    const now = nowSeconds();
    const record: SecretVersionRecord = {
      version: newVersionId(),
      value: body['value'],
      enabled: attrs.enabled ?? true,
      created: now,
      updated: now,
      ...(attrs.nbf !== undefined ? { nbf: attrs.nbf } : {}),
      ...(attrs.exp !== undefined ? { exp: attrs.exp } : {}),
      ...(tags !== undefined ? { tags } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
    };
    secret.versions.push(record);
    vault.secrets[key] = secret;
    store.changed();
    return { status: 200, body: bundle(vault, secret, record) };
  };

  const getSecret = (req: EmuRequest): EmuResponse => {
    const vault = vaultOf(req);
    const name = secretName(req);
    const version = req.params['version'] || undefined;
    const { secret, record } = findVersion(vault, name, version);
    if (!record.enabled)
      throw keyVaultError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.');
    return { status: 200, body: bundle(vault, secret, record) };
  };

  const updateSecret = (req: EmuRequest): EmuResponse => {
    const vault = vaultOf(req);
    const name = secretName(req);
    const version = req.params['version'] || undefined;
    const { secret, record } = findVersion(vault, name, version);
    const body = req.body === undefined ? {} : req.body;
    if (!isObject(body)) throw badParameter('The request body must be a JSON object.');
    const attrs = parseAttributes(body['attributes']);
    const tags = parseTags(body['tags']);
    const contentType = parseContentType(body['contentType']);
    if (attrs.enabled !== undefined) record.enabled = attrs.enabled;
    if (attrs.nbf !== undefined) record.nbf = attrs.nbf;
    if (attrs.exp !== undefined) record.exp = attrs.exp;
    if (tags !== undefined) record.tags = tags;
    if (contentType !== undefined) record.contentType = contentType;
    record.updated = nowSeconds();
    store.changed();
    return { status: 200, body: bundle(vault, secret, record, false) };
  };

  const deleteSecret = (req: EmuRequest): EmuResponse => {
    const vault = vaultOf(req);
    const name = secretName(req);
    const secret = liveSecret(vault, name);
    if (!secret) throw notFound(name);
    const now = nowSeconds();
    secret.deleted = { deletedDate: now, scheduledPurgeDate: now + RECOVERABLE_DAYS * 86_400 };
    store.changed();
    return { status: 200, body: deletedBundle(vault, secret, false) };
  };

  const deletedSecret = (vault: VaultRecord, name: string): SecretRecord => {
    const s = vault.secrets[name.toLowerCase()];
    if (!s?.deleted) throw keyVaultError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
    return s;
  };

  const vaultRoute = (
    method: string,
    pattern: string,
    operation: string,
    handler: (req: EmuRequest) => EmuResponse,
  ): Route => ({
    method,
    pattern,
    host: 'vault',
    auth: 'keyvault',
    operation,
    apiVersions: KEY_VAULT_API_VERSIONS,
    handler,
  });

  const notImplemented = (what: string) => () => {
    throw keyVaultError(501, 'NotImplemented', `The local emulator does not implement ${what}.`);
  };

  // Order matters: `/secrets/{name}/versions` before `/secrets/{name}/{version}`.
  const routes: Route[] = [
    vaultRoute('GET', '/secrets', 'GetSecrets', (req) => {
      const vault = vaultOf(req);
      return paged(req, vault, '/secrets', sortedLive(vault), (s) => item(vault, s, latest(s)!, false));
    }),
    vaultRoute('POST', '/secrets/restore', 'RestoreSecret', notImplemented('RestoreSecret')),
    vaultRoute('GET', '/secrets/:name/versions', 'GetSecretVersions', (req) => {
      const vault = vaultOf(req);
      const name = secretName(req);
      const secret = liveSecret(vault, name);
      const versions = secret ? [...secret.versions] : [];
      return paged(req, vault, `/secrets/${secret?.name ?? name}/versions`, versions, (v) =>
        item(vault, secret!, v, true),
      );
    }),
    vaultRoute('POST', '/secrets/:name/backup', 'BackupSecret', notImplemented('BackupSecret')),
    vaultRoute('PUT', '/secrets/:name', 'SetSecret', setSecret),
    vaultRoute('GET', '/secrets/:name', 'GetSecret', getSecret),
    vaultRoute('GET', '/secrets/:name/:version', 'GetSecret', getSecret),
    vaultRoute('PATCH', '/secrets/:name', 'UpdateSecret', updateSecret),
    vaultRoute('PATCH', '/secrets/:name/:version', 'UpdateSecret', updateSecret),
    vaultRoute('DELETE', '/secrets/:name', 'DeleteSecret', deleteSecret),
    vaultRoute('GET', '/deletedsecrets', 'GetDeletedSecrets', (req) => {
      const vault = vaultOf(req);
      const deleted = Object.values(vault.secrets)
        .filter((s) => s.deleted)
        .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
      return paged(req, vault, '/deletedsecrets', deleted, (s) => {
        const { id: _id, ...rest } = item(vault, s, latest(s)!, false);
        return {
          id: `${base(vault)}/secrets/${s.name}`,
          ...rest,
          recoveryId: `${base(vault)}/deletedsecrets/${s.name}`,
          deletedDate: s.deleted?.deletedDate,
          scheduledPurgeDate: s.deleted?.scheduledPurgeDate,
        };
      });
    }),
    vaultRoute('GET', '/deletedsecrets/:name', 'GetDeletedSecret', (req) => {
      const vault = vaultOf(req);
      return { status: 200, body: deletedBundle(vault, deletedSecret(vault, secretName(req)), false) };
    }),
    vaultRoute('DELETE', '/deletedsecrets/:name', 'PurgeDeletedSecret', (req) => {
      const vault = vaultOf(req);
      const secret = deletedSecret(vault, secretName(req));
      delete vault.secrets[secret.name.toLowerCase()];
      store.changed();
      return { status: 204 };
    }),
    vaultRoute('POST', '/deletedsecrets/:name/recover', 'RecoverDeletedSecret', (req) => {
      const vault = vaultOf(req);
      const secret = deletedSecret(vault, secretName(req));
      delete secret.deleted;
      store.changed();
      return { status: 200, body: bundle(vault, secret, latest(secret)!, false) };
    }),
  ];

  // ---- control API -------------------------------------------------------------------------------------------

  const controlError = (status: number, code: string, message: string) =>
    new EmulatorHttpError(status, code, message, 'plain');

  const controlRoutes: Route[] = [
    {
      method: 'GET',
      pattern: '/_emulator/vaults',
      auth: 'none',
      operation: 'Emulator_ListVaults',
      handler: () => ({
        status: 200,
        body: {
          value: store.vaults().map((v) => ({
            name: v.name,
            vaultUrl: ctx.vaultUrl(v.name),
            secrets: sortedLive(v).length,
          })),
        },
      }),
    },
    {
      method: 'POST',
      pattern: '/_emulator/vaults',
      auth: 'none',
      operation: 'Emulator_AddVault',
      handler: (req) => {
        const name = isObject(req.body) ? req.body['name'] : undefined;
        if (typeof name !== 'string' || !VAULT_NAME_PATTERN.test(name)) {
          throw controlError(
            400,
            'BadRequest',
            "'name' must be a vault name: 3-24 letters, digits and single dashes, starting with a letter.",
          );
        }
        if (store.vault(name))
          throw controlError(409, 'VaultAlreadyExists', `The vault '${name}' exists already.`);
        const vault = store.addVault(name);
        return { status: 201, body: { name: vault.name, vaultUrl: ctx.vaultUrl(vault.name) } };
      },
    },
    {
      method: 'GET',
      pattern: '/_emulator/vaults/:vaultName/secrets',
      auth: 'none',
      operation: 'Emulator_ListVaultSecrets',
      handler: (req) => {
        const vault = store.vault(req.params['vaultName'] ?? '');
        if (!vault)
          throw controlError(
            404,
            'VaultNotFound',
            `The emulator has no vault named '${req.params['vaultName']}'.`,
          );
        const withValues = req.query.get('values') === 'true';
        return {
          status: 200,
          body: {
            vault: vault.name,
            vaultUrl: ctx.vaultUrl(vault.name),
            value: Object.values(vault.secrets)
              .filter((s) => s.versions.length > 0)
              .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
              .map((s) => {
                const v = latest(s)!;
                return {
                  name: s.name,
                  version: v.version,
                  versions: s.versions.length,
                  enabled: v.enabled,
                  deleted: Boolean(s.deleted),
                  tags: v.tags ?? {},
                  ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
                  updated: new Date(v.updated * 1000).toISOString(),
                  ...(withValues ? { value: v.value } : {}),
                };
              }),
          },
        };
      },
    },
  ];

  return {
    name: 'keyVault',
    routes: [...routes, ...controlRoutes],
    start: () => store.ensureSeeded(),
    reset: () => store.ensureSeeded(),
    describe: () => ({ vaults: store.vaults().map((v) => v.name) }),
  };
}

/**
 * Key Vault's answers for secrets: SecretBundle, SecretItem (list entries, no value), DeletedSecretBundle, and
 * the paged list envelope `{ value, nextLink }` with `$skiptoken` (Key Vault REST reference, GetSecrets).
 */
import type { EmulatorContext } from '../core/context.js';
import type { EmuRequest, EmuResponse } from '../core/router.js';
import { keyVaultErrors } from './keyVaultErrors.js';
import {
  latest,
  RECOVERABLE_DAYS,
  RECOVERY_LEVEL,
  type SecretRecord,
  type SecretVersionRecord,
  type VaultRecord,
} from './secretStore.js';
import { vaultNextLinkBase } from './vaultAddress.js';

/** Key Vault refuses pages above 25 items. */
const MAX_PAGE = 25;

export class SecretViews {
  constructor(private readonly ctx: EmulatorContext) {}

  private base(vault: VaultRecord): string {
    return this.ctx.vaultUrl(vault.name);
  }

  private attributes(v: SecretVersionRecord) {
    return {
      enabled: v.enabled,
      ...(v.nbf !== undefined ? { nbf: v.nbf } : {}),
      ...(v.exp !== undefined ? { exp: v.exp } : {}),
      created: v.created,
      updated: v.updated,
      recoveryLevel: RECOVERY_LEVEL,
      recoverableDays: RECOVERABLE_DAYS,
    };
  }

  /** SecretBundle; `withValue: false` for the answers that carry no value (update, delete, recover). */
  bundle(vault: VaultRecord, secret: SecretRecord, v: SecretVersionRecord, withValue = true) {
    return {
      ...(withValue ? { value: v.value } : {}),
      ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
      id: `${this.base(vault)}/secrets/${secret.name}/${v.version}`,
      attributes: this.attributes(v),
      ...(v.tags !== undefined ? { tags: v.tags } : {}),
    };
  }

  /** SecretItem (list entries): no value. `versioned` ids name the version (GetSecretVersions). */
  item(vault: VaultRecord, secret: SecretRecord, v: SecretVersionRecord, versioned: boolean) {
    return {
      id: `${this.base(vault)}/secrets/${secret.name}${versioned ? `/${v.version}` : ''}`,
      attributes: this.attributes(v),
      ...(v.tags !== undefined ? { tags: v.tags } : {}),
      ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
    };
  }

  deletedBundle(vault: VaultRecord, secret: SecretRecord, withValue: boolean) {
    const v = latest(secret)!;
    return {
      ...this.bundle(vault, secret, v, withValue),
      recoveryId: `${this.base(vault)}/deletedsecrets/${secret.name}`,
      deletedDate: secret.deleted?.deletedDate,
      scheduledPurgeDate: secret.deleted?.scheduledPurgeDate,
    };
  }

  /** DeletedSecretItem: the item of the current version with the deletion's dates. */
  deletedItem(vault: VaultRecord, s: SecretRecord) {
    const { id: _id, ...rest } = this.item(vault, s, latest(s)!, false);
    return {
      id: `${this.base(vault)}/secrets/${s.name}`,
      ...rest,
      recoveryId: `${this.base(vault)}/deletedsecrets/${s.name}`,
      deletedDate: s.deleted?.deletedDate,
      scheduledPurgeDate: s.deleted?.scheduledPurgeDate,
    };
  }

  /**
   * A page of `entries` from the position named by `$skiptoken`, with an absolute nextLink carrying the
   * api-version and page size, as Key Vault returns it. `value` is always present, even when empty.
   */
  paged<T>(
    req: EmuRequest,
    vault: VaultRecord,
    listPath: string,
    entries: readonly T[],
    map: (e: T) => unknown,
  ): EmuResponse {
    const size = this.pageSize(req);
    const offset = skipOffset(req.query.get('$skiptoken'));
    const slice = entries.slice(offset, offset + size);
    const next = offset + size < entries.length;
    const apiVersion = req.query.get('api-version') ?? '';
    const skip = Buffer.from(JSON.stringify({ offset: offset + size })).toString('base64url');
    return {
      status: 200,
      body: {
        value: slice.map(map),
        nextLink: next
          ? `${vaultNextLinkBase(vault.name, this.ctx.port)}${listPath}?api-version=${encodeURIComponent(apiVersion)}&$skiptoken=${skip}&maxresults=${size}`
          : null,
      },
    };
  }

  private pageSize(req: EmuRequest): number {
    const raw = req.query.get('maxresults');
    if (raw === null || raw === '') return Math.min(MAX_PAGE, Math.max(1, this.ctx.options.pageSize.secrets));
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE)
      throw keyVaultErrors.badParameter(
        `Invalid value for maxresults: ${raw}. It must be an integer between 1 and ${MAX_PAGE}.`,
      );
    return n;
  }
}

function skipOffset(token: string | null): number {
  if (!token) return 0;
  let offset: number;
  try {
    offset = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset: number }).offset;
  } catch {
    offset = NaN;
  }
  if (!Number.isInteger(offset) || offset < 0)
    throw keyVaultErrors.badParameter(`The skip token '${token}' is invalid.`);
  return offset;
}

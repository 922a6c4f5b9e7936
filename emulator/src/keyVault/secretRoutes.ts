/**
 * Key Vault's secret operations at `https://{vault}.vault.localhost:{port}` (the server answers the 401 challenge
 * and checks the api-version first): set, get (current or by version), list properties and versions, update
 * properties, soft delete, and get/list/recover/purge of deleted secrets. Backup and restore answer 501.
 */
import type { EmulatorContext } from '../core/context.js';
import type { EmuRequest, EmuResponse, Route } from '../core/router.js';
import { KEY_VAULT_API_VERSIONS } from './apiVersions.js';
import { keyVaultErrors } from './keyVaultErrors.js';
import { isObject, parseAttributes, parseContentType, parseTags } from './secretInput.js';
import {
  latest,
  newVersionId,
  nowSeconds,
  RECOVERABLE_DAYS,
  SECRET_NAME_PATTERN,
  type SecretRecord,
  type SecretStore,
  type SecretVersionRecord,
  type VaultRecord,
} from './secretStore.js';
import { SecretViews } from './secretViews.js';

/** 25 KB: the largest secret value Key Vault stores. */
const MAX_VALUE_BYTES = 25 * 1024;

export class SecretRoutes {
  private readonly views: SecretViews;

  constructor(
    ctx: EmulatorContext,
    private readonly store: SecretStore,
  ) {
    this.views = new SecretViews(ctx);
  }

  routes(): Route[] {
    const route = (method: string, pattern: string, operation: string, handler: Route['handler']): Route => ({
      method,
      pattern,
      host: 'vault',
      auth: 'keyvault',
      operation,
      apiVersions: KEY_VAULT_API_VERSIONS,
      handler,
    });
    const notImplemented = (what: string) => () => {
      throw keyVaultErrors.notImplemented(what);
    };
    // Order matters: `/secrets/{name}/versions` before `/secrets/{name}/{version}`.
    return [
      route('GET', '/secrets', 'GetSecrets', (req) => this.listSecrets(req)),
      route('POST', '/secrets/restore', 'RestoreSecret', notImplemented('RestoreSecret')),
      route('GET', '/secrets/:name/versions', 'GetSecretVersions', (req) => this.listVersions(req)),
      route('POST', '/secrets/:name/backup', 'BackupSecret', notImplemented('BackupSecret')),
      route('PUT', '/secrets/:name', 'SetSecret', (req) => this.setSecret(req)),
      route('GET', '/secrets/:name', 'GetSecret', (req) => this.getSecret(req)),
      route('GET', '/secrets/:name/:version', 'GetSecret', (req) => this.getSecret(req)),
      route('PATCH', '/secrets/:name', 'UpdateSecret', (req) => this.updateSecret(req)),
      route('PATCH', '/secrets/:name/:version', 'UpdateSecret', (req) => this.updateSecret(req)),
      route('DELETE', '/secrets/:name', 'DeleteSecret', (req) => this.deleteSecret(req)),
      route('GET', '/deletedsecrets', 'GetDeletedSecrets', (req) => this.listDeleted(req)),
      route('GET', '/deletedsecrets/:name', 'GetDeletedSecret', (req) => this.getDeleted(req)),
      route('DELETE', '/deletedsecrets/:name', 'PurgeDeletedSecret', (req) => this.purge(req)),
      route('POST', '/deletedsecrets/:name/recover', 'RecoverDeletedSecret', (req) => this.recover(req)),
    ];
  }

  private vaultOf(req: EmuRequest): VaultRecord {
    const name = req.vaultName ?? '';
    const vault = this.store.vault(name);
    if (!vault) throw keyVaultErrors.vaultNotFound(name);
    return vault;
  }

  private secretName(req: EmuRequest): string {
    const name = req.params['name'] ?? '';
    if (!SECRET_NAME_PATTERN.test(name))
      throw keyVaultErrors.badParameter(`The request URI contains an invalid name: ${name}`);
    return name;
  }

  private liveSecret(vault: VaultRecord, name: string): SecretRecord | undefined {
    const s = vault.secrets[name.toLowerCase()];
    return s && !s.deleted && s.versions.length > 0 ? s : undefined;
  }

  private findVersion(vault: VaultRecord, name: string, version: string | undefined) {
    const secret = this.liveSecret(vault, name);
    if (!secret) throw keyVaultErrors.secretNotFound(name);
    const record = version
      ? secret.versions.find((v) => v.version === version.toLowerCase())
      : latest(secret);
    if (!record) throw keyVaultErrors.secretNotFound(`${name}/${version ?? ''}`);
    return { secret, record };
  }

  private deletedSecret(vault: VaultRecord, name: string): SecretRecord {
    const s = vault.secrets[name.toLowerCase()];
    if (!s?.deleted) throw keyVaultErrors.deletedSecretNotFound(name);
    return s;
  }

  private listSecrets(req: EmuRequest): EmuResponse {
    const vault = this.vaultOf(req);
    return this.views.paged(req, vault, '/secrets', this.store.sortedLive(vault), (s) =>
      this.views.item(vault, s, latest(s)!, false),
    );
  }

  private listVersions(req: EmuRequest): EmuResponse {
    const vault = this.vaultOf(req);
    const name = this.secretName(req);
    const secret = this.liveSecret(vault, name);
    const versions = secret ? [...secret.versions] : [];
    return this.views.paged(req, vault, `/secrets/${secret?.name ?? name}/versions`, versions, (v) =>
      this.views.item(vault, secret!, v, true),
    );
  }

  private setSecret(req: EmuRequest): EmuResponse {
    const vault = this.vaultOf(req);
    const name = this.secretName(req);
    if (!isObject(req.body))
      throw keyVaultErrors.badParameter('The request body must be a JSON object with a value.');
    const body = req.body;
    if (typeof body['value'] !== 'string')
      throw keyVaultErrors.badParameter('Property value is required and must be a string.');
    if (Buffer.byteLength(body['value']) > MAX_VALUE_BYTES)
      throw keyVaultErrors.badParameter(
        `The secret value exceeds the maximum size of ${MAX_VALUE_BYTES} bytes.`,
      );
    const attrs = parseAttributes(body['attributes']);
    const tags = parseTags(body['tags']);
    const contentType = parseContentType(body['contentType']);
    const key = name.toLowerCase();
    const existing = vault.secrets[key];
    if (existing?.deleted) throw keyVaultErrors.secretDeletedButRecoverable(existing.name);
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
    this.store.changed();
    return { status: 200, body: this.views.bundle(vault, secret, record) };
  }

  private getSecret(req: EmuRequest): EmuResponse {
    const vault = this.vaultOf(req);
    const name = this.secretName(req);
    const { secret, record } = this.findVersion(vault, name, req.params['version'] || undefined);
    if (!record.enabled) throw keyVaultErrors.secretDisabled();
    return { status: 200, body: this.views.bundle(vault, secret, record) };
  }

  private updateSecret(req: EmuRequest): EmuResponse {
    const vault = this.vaultOf(req);
    const name = this.secretName(req);
    const { secret, record } = this.findVersion(vault, name, req.params['version'] || undefined);
    const body = req.body === undefined ? {} : req.body;
    if (!isObject(body)) throw keyVaultErrors.badParameter('The request body must be a JSON object.');
    const attrs = parseAttributes(body['attributes']);
    const tags = parseTags(body['tags']);
    const contentType = parseContentType(body['contentType']);
    if (attrs.enabled !== undefined) record.enabled = attrs.enabled;
    if (attrs.nbf !== undefined) record.nbf = attrs.nbf;
    if (attrs.exp !== undefined) record.exp = attrs.exp;
    if (tags !== undefined) record.tags = tags;
    if (contentType !== undefined) record.contentType = contentType;
    record.updated = nowSeconds();
    this.store.changed();
    return { status: 200, body: this.views.bundle(vault, secret, record, false) };
  }

  private deleteSecret(req: EmuRequest): EmuResponse {
    const vault = this.vaultOf(req);
    const name = this.secretName(req);
    const secret = this.liveSecret(vault, name);
    if (!secret) throw keyVaultErrors.secretNotFound(name);
    const now = nowSeconds();
    secret.deleted = { deletedDate: now, scheduledPurgeDate: now + RECOVERABLE_DAYS * 86_400 };
    this.store.changed();
    return { status: 200, body: this.views.deletedBundle(vault, secret, false) };
  }

  private listDeleted(req: EmuRequest): EmuResponse {
    const vault = this.vaultOf(req);
    const deleted = Object.values(vault.secrets)
      .filter((s) => s.deleted)
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
    return this.views.paged(req, vault, '/deletedsecrets', deleted, (s) => this.views.deletedItem(vault, s));
  }

  private getDeleted(req: EmuRequest): EmuResponse {
    const vault = this.vaultOf(req);
    const secret = this.deletedSecret(vault, this.secretName(req));
    return { status: 200, body: this.views.deletedBundle(vault, secret, false) };
  }

  private purge(req: EmuRequest): EmuResponse {
    const vault = this.vaultOf(req);
    const secret = this.deletedSecret(vault, this.secretName(req));
    delete vault.secrets[secret.name.toLowerCase()];
    this.store.changed();
    return { status: 204 };
  }

  private recover(req: EmuRequest): EmuResponse {
    const vault = this.vaultOf(req);
    const secret = this.deletedSecret(vault, this.secretName(req));
    delete secret.deleted;
    this.store.changed();
    return { status: 200, body: this.views.bundle(vault, secret, latest(secret)!, false) };
  }
}

/**
 * Vaults and their secrets in the persistent state slice `keyVault`. Secret names are case-insensitive in Key
 * Vault (the first spelling is kept for ids); every set adds a version; a delete is soft (recoverable, purgeable),
 * as on a vault with soft delete on, which is every vault since 2025.
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';

export interface SecretVersionRecord {
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  /** unix seconds */
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
}

export interface SecretRecord {
  name: string;
  /** Oldest first; the last one is the current version. */
  versions: SecretVersionRecord[];
  deleted?: { deletedDate: number; scheduledPurgeDate: number };
}

export interface VaultRecord {
  name: string;
  createdAt: string;
  /** lower-case name → secret */
  secrets: Record<string, SecretRecord>;
}

export interface KeyVaultStateSlice {
  /** lower-case vault name → vault */
  vaults: Record<string, VaultRecord>;
}

export const RECOVERABLE_DAYS = 90;
export const RECOVERY_LEVEL = 'Recoverable+Purgeable';
/** Key Vault object names: 1-127 letters, digits and dashes. */
export const SECRET_NAME_PATTERN = /^[0-9a-zA-Z-]{1,127}$/;
/** Vault names: 3-24 characters, letters, digits and dashes, starting with a letter, no double dash. */
export const VAULT_NAME_PATTERN = /^(?!.*--)[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;

function newVault(name: string): VaultRecord {
  return { name, createdAt: new Date().toISOString(), secrets: {} };
}

/** Fresh state: the vaults the sample configuration names (CONTEXT.md, "Emulator seed"). */
function seed(): KeyVaultStateSlice {
  return { vaults: { 'kv-apps': newVault('kv-apps'), 'kv-legacy': newVault('kv-legacy') } };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
export const newVersionId = (): string => crypto.randomBytes(16).toString('hex');

export class SecretStore {
  /** Counts changes (every change to a vault calls `changed()`): a kept listing is good until the next one. */
  private revision = 0;
  private readonly liveListings = new WeakMap<VaultRecord, { revision: number; secrets: SecretRecord[] }>();

  constructor(private readonly ctx: EmulatorContext) {}

  private get slice(): KeyVaultStateSlice {
    return this.ctx.state.slice<KeyVaultStateSlice>('keyVault', seed);
  }

  changed(): void {
    this.revision++;
    this.ctx.state.changed();
  }

  /**
   * A vault's live secrets by name (case-insensitive), as GetSecrets lists them; shared, not to be changed. Kept
   * until the next change (a reset makes new vault records, which the kept listings are keyed by): a vault of
   * 10,000 secrets is 400 pages, and sorting it again for each page cost the emulator more CPU than the audit it
   * served (the tick benchmark, issue 15).
   */
  sortedLive(vault: VaultRecord): readonly SecretRecord[] {
    const kept = this.liveListings.get(vault);
    if (kept?.revision === this.revision) return kept.secrets;
    const secrets = Object.values(vault.secrets)
      .filter((s) => !s.deleted && s.versions.length > 0)
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
    this.liveListings.set(vault, { revision: this.revision, secrets });
    return secrets;
  }

  ensureSeeded(): void {
    void this.slice;
    this.changed();
  }

  vault(name: string): VaultRecord | undefined {
    return this.slice.vaults[name.toLowerCase()];
  }

  vaults(): VaultRecord[] {
    return Object.values(this.slice.vaults).sort((a, b) => a.name.localeCompare(b.name));
  }

  addVault(name: string): VaultRecord {
    const vault = newVault(name.toLowerCase());
    this.slice.vaults[vault.name] = vault;
    this.changed();
    return vault;
  }
}

export function latest(secret: SecretRecord): SecretVersionRecord | undefined {
  return secret.versions.at(-1);
}

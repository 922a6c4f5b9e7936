/**
 * What each vault's IP secrets held when this process last looked (a full listing) or wrote, kept across ticks
 * so a steady tick needs no vault listing at all (issue 15).
 *
 * Why it is safe to trust: the group listings, read every tick, say what every secret should hold. Where the
 * remembered secret agrees with its group, the secret was right at the last audit and nothing this process
 * knows of changed it; where they disagree (Azure moved the group, a rollout switched, the secret is new), the
 * tick reads that one secret afresh before writing (`reconcile/vaultReads.ts`). What it cannot see is a change
 * made behind its back to a secret whose group did not move (a hand edit, a deletion): the full listing every
 * `reconcile.secretAuditSeconds` repairs those, and a new process (a cold start, another instance) always
 * starts with one.
 *
 * Memory: one SecretProperties per IP-vault secret (the listing's own shape), replaced wholesale by each audit.
 */
import type { SecretProperties } from './ports.js';

interface VaultMemory {
  /** When the last full listing of this vault completed (clock ms). */
  auditedAt: number;
  /** Keyed by lower-case name (Key Vault names are case-insensitive). */
  secrets: Map<string, SecretProperties>;
}

export class SecretMirror {
  private readonly vaults = new Map<string, VaultMemory>();

  /** The remembered listing of a vault, unless it was never listed or its audit is due. */
  remembered(vaultUrl: string, now: number, auditMs: number): Map<string, SecretProperties> | undefined {
    const m = this.vaults.get(vaultUrl);
    if (!m || auditMs <= 0 || now - m.auditedAt >= auditMs) return undefined;
    return m.secrets;
  }

  /** A full listing (keyed by lower-case name) replaces what was remembered of the vault. */
  audited(vaultUrl: string, listing: Map<string, SecretProperties>, now: number): void {
    this.vaults.set(vaultUrl, { auditedAt: now, secrets: new Map(listing) });
  }

  /** A single fresh read (or a write) of one secret: undefined when it does not exist. */
  learnt(vaultUrl: string, name: string, props: SecretProperties | undefined): void {
    const m = this.vaults.get(vaultUrl);
    if (!m) return; // never audited: the first listing will say
    if (props) m.secrets.set(name.toLowerCase(), props);
    else m.secrets.delete(name.toLowerCase());
  }

  /** When the vault was last listed in full (clock ms), if ever. */
  auditedAt(vaultUrl: string): number | undefined {
    return this.vaults.get(vaultUrl)?.auditedAt;
  }
}

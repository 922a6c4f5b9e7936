/**
 * The state every part of the Container Instances service shares: the stored groups and operations (in the
 * emulator's state document), the per-group lock and the address-allocation queue, and whether the service is
 * started (timers and listeners run only then). Passed explicitly to each part instead of one big closure.
 */
import type { EmulatorContext } from '../core/context.js';
import type { StoredGroup, StoredOperation } from './groupTypes.js';

export interface AciState {
  groups: Record<string, StoredGroup>;
  operations: Record<string, StoredOperation>;
  settings: { imageValidation: 'async' | 'sync' };
}

export class GroupStore {
  /** True between start() and stop(): timers fire and ports are bound only then. */
  running = false;
  private readonly locks = new Map<string, Promise<unknown>>();
  private allocationQueue: Promise<unknown> = Promise.resolve();
  private membershipVersion = 0;
  private listing?: {
    groups: Record<string, StoredGroup>;
    version: number;
    all: StoredGroup[];
    byResourceGroup: Map<string, StoredGroup[]>;
  };

  constructor(private readonly ctx: EmulatorContext) {}

  /** Always read through here: a reset replaces the whole document. */
  state(): AciState {
    return this.ctx.state.slice<AciState>('containerInstance', () => ({
      groups: {},
      operations: {},
      settings: { imageValidation: 'async' },
    }));
  }

  get groups(): Record<string, StoredGroup> {
    return this.state().groups;
  }

  /** Adds a group. Every add and removal goes through here (or `remove`), so `listed` stays right. */
  put(key: string, g: StoredGroup): void {
    this.groups[key] = g;
    this.membershipVersion++;
  }

  remove(key: string): void {
    delete this.groups[key];
    this.membershipVersion++;
  }

  /**
   * The groups in listing order (by lower-case id), of one resource group or of all, shared and not to be
   * changed. Kept until a group is added or removed or the state document is replaced: a listing of 20,000 groups
   * is 200 pages, and walking the whole store for each page cost the emulator more CPU than the app it served
   * (the tick benchmark, issue 15). A group's own fields change in place, so the kept list shows them.
   */
  listed(resourceGroup?: string): readonly StoredGroup[] {
    const groups = this.groups;
    if (this.listing?.groups !== groups || this.listing.version !== this.membershipVersion) {
      const all = Object.values(groups).sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()));
      const byResourceGroup = new Map<string, StoredGroup[]>();
      for (const g of all) {
        const rg = g.resourceGroup.toLowerCase();
        const list = byResourceGroup.get(rg);
        if (list) list.push(g);
        else byResourceGroup.set(rg, [g]);
      }
      this.listing = { groups, version: this.membershipVersion, all, byResourceGroup };
    }
    return resourceGroup === undefined
      ? this.listing.all
      : (this.listing.byResourceGroup.get(resourceGroup.toLowerCase()) ?? []);
  }

  get operations(): Record<string, StoredOperation> {
    return this.state().operations;
  }

  /** Marks the state document dirty (it is saved later). */
  changed(): void {
    this.ctx.state.changed();
  }

  /** Serialises everything that changes one group (timers, ARM calls, control calls). */
  withLock<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return next;
  }

  /** IPs are chosen one group at a time, so two groups never pick the same free address. */
  withAllocation<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.allocationQueue.then(fn, fn);
    this.allocationQueue = next.catch(() => undefined);
    return next;
  }
}

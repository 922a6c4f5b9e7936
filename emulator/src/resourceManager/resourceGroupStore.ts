/**
 * The resource groups the emulator knows: the ones the local sample names (seeded), the ones created through
 * ResourceGroups_CreateOrUpdate, and every group another service's resources live in (ARM never holds a resource
 * outside an existing group, so a group that holds one exists). Stored groups live in the `resourceManager` state
 * slice; groups in use are asked of the services on every read, so a deleted resource takes its implied group
 * with it unless the group was seeded or created.
 */
import type { ResourceGroupUse } from '../core/context.js';
import type { StateStore } from '../core/stateStore.js';

export interface ResourceGroupRecord {
  name: string;
  location: string;
  tags: Record<string, string>;
  /** seeded, created through ARM, or implied by a resource in it. */
  origin: 'seed' | 'arm' | 'inUse';
}

interface ResourceManagerState {
  /** lower-case name → group */
  resourceGroups: Record<string, ResourceGroupRecord>;
}

/** The groups the local sample configuration and the seeded registries name (local.settings.sample.json). */
const SEEDED_GROUPS = ['rg-apps', 'rg-platform', 'rg-network', 'rg-legacy'];
const SEED_LOCATION = 'westeurope';

/** ARM reports locations as lower-case names without spaces ("West Europe" → "westeurope"). */
export const normaliseLocation = (location: string): string => location.toLowerCase().replace(/\s+/g, '');

export class ResourceGroupStore {
  constructor(
    private readonly state: StateStore,
    private readonly inUse: () => ResourceGroupUse[],
  ) {}

  /** Always through the store: a reset replaces the whole document. */
  private slice(): ResourceManagerState {
    return this.state.slice<ResourceManagerState>('resourceManager', () => ({
      resourceGroups: Object.fromEntries(
        SEEDED_GROUPS.map((name) => [
          name,
          { name, location: SEED_LOCATION, tags: {}, origin: 'seed' as const },
        ]),
      ),
    }));
  }

  find(name: string): ResourceGroupRecord | undefined {
    return this.all().find((g) => g.name.toLowerCase() === name.toLowerCase());
  }

  /** Every known group, sorted by name; a stored group wins over one implied by a resource. */
  all(): ResourceGroupRecord[] {
    const groups = new Map<string, ResourceGroupRecord>();
    for (const g of Object.values(this.slice().resourceGroups)) groups.set(g.name.toLowerCase(), g);
    for (const use of this.inUse()) {
      const key = use.name.toLowerCase();
      if (!groups.has(key)) {
        groups.set(key, {
          name: use.name,
          location: normaliseLocation(use.location),
          tags: {},
          origin: 'inUse',
        });
      }
    }
    return [...groups.values()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  }

  /** Creates or replaces a stored group; `created` says which. */
  put(group: Omit<ResourceGroupRecord, 'origin'>): { record: ResourceGroupRecord; created: boolean } {
    const groups = this.slice().resourceGroups;
    const key = group.name.toLowerCase();
    const previous = groups[key] ?? this.find(group.name);
    // ARM keeps the name's first spelling.
    const record: ResourceGroupRecord = {
      ...group,
      name: previous?.name ?? group.name,
      location: normaliseLocation(group.location),
      origin: previous?.origin === 'seed' ? 'seed' : 'arm',
    };
    groups[key] = record;
    this.state.changed();
    return { record, created: previous === undefined };
  }
}

/**
 * Renders stored groups at the current time: the options groupRendering.ts needs (now, the crash step, stable
 * container ids that change when the group moves host), bound to the service's store and timings.
 */
import crypto from 'node:crypto';
import type { EmulatorContext } from '../core/context.js';
import type { GroupStore } from './groupStore.js';
import type { StoredGroup } from './groupTypes.js';
import { renderGroup, type RenderOptions } from './groupRendering.js';

export class GroupViews {
  constructor(
    private readonly ctx: EmulatorContext,
    private readonly store: GroupStore,
  ) {}

  /** One provisioning phase (and a crashing container's base back-off). */
  stepMs(): number {
    return this.ctx.options.timings.provisioningStepMs;
  }

  options(list: boolean): RenderOptions {
    return {
      list,
      now: Date.now(),
      crashBaseMs: this.stepMs(),
      containerId: (key, container, n) =>
        crypto
          .createHash('sha256')
          .update(`${key}/${container}/${n}/${this.store.groups[key]?.hostname ?? ''}`)
          .digest('hex'),
    };
  }

  render(g: StoredGroup, list = false): Record<string, unknown> {
    return renderGroup(g, this.options(list));
  }
}

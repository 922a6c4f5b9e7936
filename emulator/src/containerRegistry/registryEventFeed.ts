/**
 * Where the registry's events go: onto the emulator's bus (Event Grid's system topic picks them up), and into a
 * short in-memory list (not persisted) for GET /_emulator/registries/{name}/events.
 */
import type { EmulatorContext, RegistryEvent } from '../core/context.js';

const KEPT = 200;

export class RegistryEventFeed {
  private readonly recent: (RegistryEvent & { emittedAt: string })[] = [];

  constructor(private readonly ctx: EmulatorContext) {}

  emit(event: RegistryEvent): void {
    this.recent.push({ ...event, emittedAt: new Date().toISOString() });
    if (this.recent.length > KEPT) this.recent.splice(0, this.recent.length - KEPT);
    this.ctx.bus.emit('registryEvent', event);
  }

  forRegistry(name: string): (RegistryEvent & { emittedAt: string })[] {
    return this.recent.filter((e) => e.registryName.toLowerCase() === name.toLowerCase());
  }

  clear(): void {
    this.recent.length = 0;
  }
}

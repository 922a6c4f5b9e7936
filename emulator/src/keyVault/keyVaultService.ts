import type { EmulatorContext, EmulatorService } from '../core/context.js';

// Placeholder until the service lands; it registers no routes, so every call to it answers 404.
export function keyVaultService(_ctx: EmulatorContext): EmulatorService {
  return { name: 'keyVault', routes: [] };
}

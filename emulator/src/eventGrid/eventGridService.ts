import type { EmulatorContext, EmulatorService } from '../core/context.js';

// Placeholder until the service lands; it registers no routes, so every call to it answers 404.
export function eventGridService(_ctx: EmulatorContext): EmulatorService {
  return { name: 'eventGrid', routes: [] };
}

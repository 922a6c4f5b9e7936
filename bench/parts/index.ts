/** Every benchmark part, in the order `--part all` runs them. */
import type { BenchPart } from '../lib/benchPart.js';
import { rolloutPart } from './rollout.js';
import { sidecarPart } from './sidecar.js';
import { stormPart } from './storm.js';
import { tickPart } from './tick.js';
import { loadPart } from './webhookLoad.js';

// The sidecar before the tick: the tick's per-minute comparison reads the sidecar's measured figures.
export const PARTS: readonly BenchPart[] = [sidecarPart, tickPart, rolloutPart, stormPart, loadPart];

/**
 * What `npm run bench` runs with no `--part`: the reconcile tick, the figure most users ask for. Named, not "the
 * first part", since the order above serves `--part all`.
 */
export const DEFAULT_PART = tickPart.name;

/** Every benchmark part, in the order `--part all` runs them (the first is the default). */
import type { BenchPart } from '../lib/benchPart.js';
import { rolloutPart } from './rollout.js';
import { sidecarPart } from './sidecar.js';
import { stormPart } from './storm.js';
import { tickPart } from './tick.js';
import { loadPart } from './webhookLoad.js';

// The sidecar before the tick: the tick's per-minute comparison reads the sidecar's measured figures.
export const PARTS: readonly BenchPart[] = [sidecarPart, tickPart, rolloutPart, stormPart, loadPart];

/** Every benchmark part, in the order `--part all` runs them (the first is the default). */
import type { BenchPart } from '../lib/benchPart.js';
import { rolloutPart } from './rollout.js';
import { stormPart } from './storm.js';
import { tickPart } from './tick.js';
import { loadPart } from './webhookLoad.js';

export const PARTS: readonly BenchPart[] = [tickPart, loadPart, rolloutPart, stormPart];

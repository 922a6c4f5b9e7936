/**
 * Runs once in vitest's main process, before any worker starts: makes sure the shared local CA exists and points
 * NODE_EXTRA_CA_CERTS at it, so every worker (and every child process a test starts) trusts the emulator's HTTPS
 * certificates with no code change, exactly as a developer's shell would.
 */
import path from 'node:path';
import { ensureCa } from '../../emulator/src/core/ca.js';

export const TEST_CA_DIR = path.resolve('.local/ca');

export default function setup(): void {
  const ca = ensureCa(TEST_CA_DIR);
  process.env['NODE_EXTRA_CA_CERTS'] = ca.certPath;
}

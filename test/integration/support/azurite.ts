/**
 * Azurite's table service alone for one test file (scripts/lib/localStack.ts `startAzurite({ tableOnly })`): a
 * free loopback port, in memory, no access log. Returns the connection string the app uses (`AzureWebJobsStorage`)
 * and the table endpoint.
 */
import path from 'node:path';
import { startAzurite as startAzuriteService } from '../../../scripts/lib/localStack.js';
import { azuriteConnectionString } from '../../../scripts/lib/sampleConfig.js';

export interface TestAzurite {
  connectionString: string;
  tableEndpoint: string;
  stop(): Promise<void>;
}

export async function startAzurite(): Promise<TestAzurite> {
  const azurite = await startAzuriteService({
    rootDir: path.resolve('.'),
    tableOnly: true,
    onLine: () => {},
  });
  return {
    tableEndpoint: azurite.ready.tableEndpoint,
    connectionString: azuriteConnectionString(azurite.ready),
    async stop() {
      await azurite.stop();
    },
  };
}

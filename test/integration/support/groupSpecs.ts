/**
 * A container group spec (the ContainerGroups port's input) for a public image, which the emulator treats as
 * public and healthy: what adapter and contract tests create when the image does not matter.
 */
import type { ContainerGroupSpec } from '../../../src/domain/ports.js';

export function publicGroupSpec(
  name: string,
  subnetId: string,
  tags: Record<string, string>,
): ContainerGroupSpec {
  return {
    name,
    location: 'westeurope',
    tags,
    osType: 'Linux',
    restartPolicy: 'Always',
    subnetId,
    ports: [8080],
    registry: { server: 'contoso.azurecr.io' },
    containers: [
      {
        name: 'web',
        image: 'mcr.microsoft.com/azuredocs/aci-helloworld:latest',
        cpu: 0.5,
        memoryInGB: 1,
        ports: [8080],
        env: {},
        secureEnv: {},
      },
    ],
  };
}

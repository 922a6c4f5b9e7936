/**
 * What a container group is made of, both ways: the spec the domain creates a group from (secrets as values, for
 * the PUT only) and the definition ARM's GET shows of an existing one (no secrets). ports.ts re-exports them.
 */
export interface ProbeSpec {
  httpGet?: {
    port: number;
    path?: string;
    scheme?: 'http' | 'https';
    httpHeaders?: Array<{ name: string; value: string }>;
  };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
  timeoutSeconds?: number;
}

export interface VolumeMountSpec {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

/** A volume to create, with its secrets as values (resolved from Key Vault just before the PUT). */
export type VolumeSpec =
  | {
      name: string;
      kind: 'azureFile';
      shareName: string;
      storageAccountName: string;
      storageAccountKey: string;
      readOnly?: boolean;
    }
  | { name: string; kind: 'emptyDir' }
  /** File name → the file's content (the adapter base64-encodes it, as ARM wants). */
  | { name: string; kind: 'secret'; files: Record<string, string> }
  | { name: string; kind: 'gitRepo'; repository: string; directory?: string; revision?: string };

export interface ContainerSpec {
  name: string;
  image: string;
  cpu: number;
  memoryInGB: number;
  ports: number[];
  command?: string[];
  env: Record<string, string>;
  /** Values go to `secureValue`; never logged, never stored in rollout state. */
  secureEnv: Record<string, string>;
  volumeMounts?: VolumeMountSpec[];
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
}

/** An init container: runs to completion before the containers; no ports, no resources of its own. */
export interface InitContainerSpec {
  name: string;
  image: string;
  command?: string[];
  env: Record<string, string>;
  secureEnv: Record<string, string>;
  volumeMounts: VolumeMountSpec[];
}

export type RegistryCredentialSpec =
  { server: string; identity: string } | { server: string; username: string; password: string };

/** Everything needed for `PUT containerGroups/{name}`. The optional parts are left out of the PUT when absent. */
export interface ContainerGroupSpec {
  name: string;
  location: string;
  tags: Record<string, string>;
  osType: 'Linux' | 'Windows';
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** `subnetIds: [{ id }]`, `ipAddress: { type: 'Private', ports }`. */
  subnetId: string;
  /** TCP ports on the private IP (union of container ports). */
  ports: number[];
  /** `imageRegistryCredentials: [{ server, identity }]`; when `identity` is set it is also assigned to the group
   * (`identity: { type: 'UserAssigned', userAssignedIdentities: { [identity]: {} } }`). */
  registry: { server: string; identity?: string };
  /** More credentials (sidecar and init images); identities among them are assigned to the group too. */
  registryCredentials?: RegistryCredentialSpec[];
  /** Identities the containers use, assigned to the group besides the pull identities. */
  identity?: { userAssigned: string[]; systemAssigned: boolean };
  sku?: 'Standard' | 'Confidential';
  /** `confidentialComputeProperties.ccePolicy`. */
  ccePolicy?: string;
  priority?: 'Regular' | 'Spot';
  zones?: string[];
  dnsConfig?: { nameServers: string[]; searchDomains?: string[]; options?: string[] };
  /** `diagnostics.logAnalytics`, the key as a value. */
  logAnalytics?: {
    workspaceId: string;
    workspaceKey: string;
    logType?: string;
    metadata?: Record<string, string>;
  };
  volumes?: VolumeSpec[];
  initContainers?: InitContainerSpec[];
  containers: ContainerSpec[];
}

/** A container of a group as ARM's GET shows it: secure variables by name only. */
export interface ContainerDefinition {
  name: string;
  image: string;
  command?: string[];
  ports: Array<{ port: number; protocol: string }>;
  cpu: number;
  memoryInGB: number;
  gpu?: { count: number; sku: string };
  env: Record<string, string>;
  /** Names of the variables ARM shows without a value: secure ones (ARM never returns a `secureValue`). */
  secureEnvNames: string[];
  volumeMounts: VolumeMountSpec[];
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
}

/**
 * A group's definition as ARM's GET returns it, which holds no secret: ARM leaves out secure environment values,
 * storage account keys, secret volume files, registry passwords and the Log Analytics key, and the adapter drops
 * any it would return. What adoption copies (`adoptGroup.copySpec`).
 */
export interface GroupDefinition {
  name: string;
  resourceGroup: string;
  location: string;
  osType: string;
  restartPolicy: string;
  sku?: string;
  priority?: string;
  zones?: string[];
  ccePolicy?: string;
  ipAddress?: { type: string; ports: Array<{ port: number; protocol: string }>; dnsNameLabel?: string };
  subnetIds: string[];
  identity?: { userAssigned: string[]; systemAssigned: boolean };
  /** Passwords are never returned: a credential with a username had one. */
  imageRegistryCredentials: Array<{ server: string; username?: string; identity?: string }>;
  dnsConfig?: { nameServers: string[]; searchDomains?: string; options?: string };
  logAnalytics?: { workspaceId: string; logType?: string; metadata?: Record<string, string> };
  volumes: Array<
    | { name: string; kind: 'azureFile'; shareName: string; storageAccountName: string; readOnly?: boolean }
    | { name: string; kind: 'emptyDir' }
    /** Its files are never returned (ARM answers `secret: {}`). */
    | { name: string; kind: 'secret' }
    | { name: string; kind: 'gitRepo'; repository: string; directory?: string; revision?: string }
  >;
  initContainers: Array<
    Omit<ContainerDefinition, 'ports' | 'cpu' | 'memoryInGB' | 'livenessProbe' | 'readinessProbe'>
  >;
  containers: ContainerDefinition[];
  /** Fields the group has that a template cannot express (e.g. `containers[web].securityContext`). */
  unsupported: string[];
}

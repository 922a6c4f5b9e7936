/**
 * An app's `template`: everything its container groups are made of except the pushed image. Field names follow the
 * ACI REST schema (azure-rest-api-specs, specification/containerinstance/resource-manager/Microsoft.ContainerInstance/
 * stable/2023-05-01/containerInstance.json), so what users know from ARM templates reads the same here. Where ARM
 * takes a secret (a secure environment value, a storage account key, a secret volume's files, a registry password,
 * a Log Analytics key) the template takes a Key Vault reference instead (`…FromKeyVault`): the value is read at
 * deploy time and never stored, logged or shown.
 *
 * What ACI refuses for a group in a VNet is checked by vnetRules.ts; this file checks the template's own shape and
 * its internal consistency (names unique, mounts naming declared volumes, ports unique).
 */
import { z } from 'zod';
import { aciName, envName, GUID_PATTERN, identityId, keyVaultRef, port, volumeName } from './configFields.js';

/** An image platform `os/architecture[/variant]` as OCI image indexes name them (image-spec, image-index.md). */
export const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;

/**
 * Share names: 3-63 lowercase letters, digits and '-', starting with a letter or digit, no '--' ("Naming and
 * referencing shares, directories, files, and metadata", Azure Storage REST reference).
 */
const SHARE_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** Storage account names: 3-24 lowercase letters and digits (Azure resource naming rules, Microsoft.Storage). */
const STORAGE_ACCOUNT = /^[a-z0-9]{3,24}$/;
/**
 * A secret volume's file names. ACI's docs do not state a rule; these are Kubernetes' secret key characters
 * (`[-._a-zA-Z0-9]+`), which ACI's secret volumes (tmpfs files named by key) accept in every documented example.
 */
const SECRET_FILE = /^[-._a-zA-Z0-9]{1,253}$/;

const exactlyOne = (o: Record<string, unknown>, keys: string[]) =>
  keys.filter((k) => o[k] !== undefined).length === 1;

// ---------------------------------------------------------------- probes, mounts, volumes

/** ContainerProbe: one of httpGet or exec, with Kubernetes-style timings (seconds, counts). */
const probeSchema = z
  .strictObject({
    httpGet: z
      .strictObject({
        port,
        path: z.string().startsWith('/', { message: "must start with '/'" }).optional(),
        scheme: z.enum(['http', 'https']).optional(),
        httpHeaders: z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).optional(),
      })
      .optional(),
    exec: z.strictObject({ command: z.array(z.string()).min(1) }).optional(),
    initialDelaySeconds: z.number().int().min(0).max(3600).optional(),
    periodSeconds: z.number().int().min(1).max(3600).optional(),
    failureThreshold: z.number().int().min(1).max(100).optional(),
    successThreshold: z.number().int().min(1).max(100).optional(),
    timeoutSeconds: z.number().int().min(1).max(3600).optional(),
  })
  .refine((p) => exactlyOne(p, ['httpGet', 'exec']), { message: 'needs exactly one of httpGet or exec' });

const volumeMountSchema = z.strictObject({
  name: volumeName,
  /** The spec: "Must not contain colon (:)". */
  mountPath: z
    .string()
    .startsWith('/', { message: "must be an absolute path (start with '/')" })
    .refine((p) => !p.includes(':'), { message: "must not contain ':' (ACI's VolumeMount.mountPath)" }),
  readOnly: z.boolean().optional(),
});

const volumeSchema = z
  .strictObject({
    name: volumeName,
    azureFile: z
      .strictObject({
        shareName: z.string().refine((s) => SHARE_NAME.test(s), {
          message: "share names are 3-63 lowercase letters, digits or '-', without '--'",
        }),
        storageAccountName: z.string().refine((s) => STORAGE_ACCOUNT.test(s), {
          message: 'storage account names are 3-24 lowercase letters or digits',
        }),
        storageAccountKeyFromKeyVault: keyVaultRef,
        readOnly: z.boolean().optional(),
      })
      .optional(),
    emptyDir: z.strictObject({}).optional(),
    /** File name → the Key Vault secret whose value becomes the file (ACI takes it base64-encoded). */
    secret: z
      .record(
        z.string().regex(SECRET_FILE, { message: "file names are letters, digits, '-', '.' or '_'" }),
        keyVaultRef,
      )
      .refine((s) => Object.keys(s).length > 0, { message: 'needs at least one file' })
      .optional(),
    gitRepo: z
      .strictObject({
        repository: z.string().min(1),
        /** The spec: "Must not contain or start with '..'". */
        directory: z
          .string()
          .refine((d) => !d.includes('..'), { message: "must not contain '..'" })
          .optional(),
        revision: z.string().min(1).optional(),
      })
      .optional(),
  })
  .refine((v) => exactlyOne(v, ['azureFile', 'emptyDir', 'secret', 'gitRepo']), {
    message: 'needs exactly one of azureFile, emptyDir, secret or gitRepo',
  });

// ---------------------------------------------------------------- containers

const envSchemas = {
  env: z.record(envName, z.string()).default({}),
  secureEnvFromKeyVault: z.record(envName, keyVaultRef).default({}),
};

const containerSchema = z.strictObject({
  name: aciName('container name'),
  /** A fixed image for a sidecar; containers without `image` run the pushed image (by digest). */
  image: z.string().min(1).optional(),
  cpu: z.number().positive().max(32),
  memoryInGB: z.number().positive().max(256),
  ports: z.array(port).default([]),
  command: z.array(z.string()).optional(),
  ...envSchemas,
  volumeMounts: z.array(volumeMountSchema).default([]),
  livenessProbe: probeSchema.optional(),
  readinessProbe: probeSchema.optional(),
  /** Accepted so that it can be refused with its reason: ACI offers no GPU to groups in a VNet (vnetRules.ts). */
  gpu: z.strictObject({ count: z.number().int().min(1), sku: z.string().min(1) }).optional(),
});

/** Init containers run to completion, in order, before the containers; no ports, no resources of their own. */
const initContainerSchema = z.strictObject({
  name: aciName('init container name'),
  /** Without `image`, the init container runs the pushed image (e.g. a database migration). */
  image: z.string().min(1).optional(),
  command: z.array(z.string()).optional(),
  ...envSchemas,
  volumeMounts: z.array(volumeMountSchema).default([]),
});

// ---------------------------------------------------------------- the group

const registryCredentialSchema = z
  .strictObject({
    server: z.string().min(1),
    username: z.string().min(1).optional(),
    passwordFromKeyVault: keyVaultRef.optional(),
    identity: identityId.optional(),
  })
  .refine(
    (c) => (c.identity !== undefined) !== (c.username !== undefined && c.passwordFromKeyVault !== undefined),
    {
      message: 'needs either identity, or username and passwordFromKeyVault',
    },
  );

const dnsConfigSchema = z.strictObject({
  nameServers: z.array(z.string().min(1)).min(1),
  /** Joined with spaces for ARM's `searchDomains` string. */
  searchDomains: z.array(z.string().regex(/^\S+$/, { message: 'one domain per entry' })).optional(),
  /** Joined with spaces for ARM's `options` string (resolv.conf options, e.g. ndots:2). */
  options: z.array(z.string().regex(/^\S+$/, { message: 'one option per entry' })).optional(),
});

const diagnosticsSchema = z.strictObject({
  logAnalytics: z.strictObject({
    workspaceId: z.string().refine((s) => GUID_PATTERN.test(s), {
      message:
        "must be the workspace's id (a GUID; az monitor log-analytics workspace show --query customerId)",
    }),
    workspaceKeyFromKeyVault: keyVaultRef,
    logType: z.enum(['ContainerInsights', 'ContainerInstanceLogs']).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
  }),
});

export const templateSchema = z.strictObject({
  osType: z.enum(['Linux', 'Windows']).default('Linux'),
  restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).default('Always'),
  sku: z.enum(['Standard', 'Confidential']).default('Standard'),
  /** confidentialComputeProperties.ccePolicy (base64, from `az confcom acipolicygen`); Confidential sku only. */
  ccePolicy: z.string().min(1).optional(),
  priority: z.enum(['Regular', 'Spot']).default('Regular'),
  /** A zonal group is pinned to one zone. */
  zones: z.array(z.enum(['1', '2', '3'])).optional(),
  /** Accepted so that it can be refused with its reason: a VNet group has a private IP only (vnetRules.ts). */
  ipAddress: z
    .strictObject({ type: z.enum(['Private', 'Public']).optional(), dnsNameLabel: z.string().optional() })
    .optional(),
  imagePullIdentity: identityId.optional(),
  /** Identities the containers use (assigned to the group); the pull identities are added to them. */
  identity: z
    .strictObject({
      userAssigned: z.array(identityId).default([]),
      systemAssigned: z.boolean().default(false),
    })
    .optional(),
  /** Credentials for the registries of fixed (sidecar, init) images; the app's registry uses imagePullIdentity. */
  registryCredentials: z.array(registryCredentialSchema).default([]),
  /**
   * The platform to run when a push is a multi-platform image index: its manifest for this platform is
   * deployed. Default `linux/amd64` (`windows/amd64` for osType Windows), the platforms ACI runs.
   */
  platform: z
    .string()
    .refine((s) => PLATFORM.test(s), {
      message: "must be 'os/architecture' or 'os/architecture/variant', e.g. linux/amd64 or linux/arm64/v8",
    })
    .optional(),
  dnsConfig: dnsConfigSchema.optional(),
  diagnostics: diagnosticsSchema.optional(),
  volumes: z.array(volumeSchema).default([]),
  initContainers: z.array(initContainerSchema).default([]),
  containers: z.array(containerSchema).min(1, { message: 'needs at least one container' }),
});

export type TemplateConfig = z.output<typeof templateSchema>;
export type ContainerTemplate = z.output<typeof containerSchema>;
export type InitContainerTemplate = z.output<typeof initContainerSchema>;
export type VolumeTemplate = z.output<typeof volumeSchema>;
export type ProbeTemplate = z.output<typeof probeSchema>;
export type KeyVaultRef = z.output<typeof keyVaultRef>;

// ---------------------------------------------------------------- consistency

export interface TemplateIssue {
  path: PropertyKey[];
  message: string;
}

function checkNames(t: TemplateConfig, out: TemplateIssue[]): void {
  const names = new Map<string, string>();
  const check = (kind: 'containers' | 'initContainers', i: number, c: { name: string }) => {
    const first = names.get(c.name);
    if (first !== undefined)
      out.push({
        path: [kind, i, 'name'],
        message: `duplicate container name "${c.name}"${first === kind ? '' : ` (also in ${first})`}`,
      });
    else names.set(c.name, kind);
  };
  t.containers.forEach((c, i) => check('containers', i, c));
  t.initContainers.forEach((c, i) => check('initContainers', i, c));
  const volumes = new Set<string>();
  t.volumes.forEach((v, i) => {
    if (volumes.has(v.name))
      out.push({ path: ['volumes', i, 'name'], message: `duplicate volume "${v.name}"` });
    volumes.add(v.name);
  });
}

function checkContainer(
  t: TemplateConfig,
  kind: 'containers' | 'initContainers',
  i: number,
  c: TemplateConfig['initContainers'][number],
  out: TemplateIssue[],
): void {
  for (const k of Object.keys(c.secureEnvFromKeyVault))
    if (k in c.env)
      out.push({ path: [kind, i, 'secureEnvFromKeyVault', k], message: `"${k}" is also in env` });
  const declared = new Set(t.volumes.map((v) => v.name));
  const paths = new Set<string>();
  c.volumeMounts.forEach((m, j) => {
    if (!declared.has(m.name))
      out.push({
        path: [kind, i, 'volumeMounts', j, 'name'],
        message: `volume "${m.name}" is not declared in template.volumes`,
      });
    if (paths.has(m.mountPath))
      out.push({
        path: [kind, i, 'volumeMounts', j, 'mountPath'],
        message: `${m.mountPath} is mounted twice`,
      });
    paths.add(m.mountPath);
  });
}

/** The group's private IP exposes the union of the containers' ports; ACI refuses a port declared twice in a group. */
function checkPorts(t: TemplateConfig, out: TemplateIssue[]): void {
  const owner = new Map<number, string>();
  t.containers.forEach((c, i) =>
    c.ports.forEach((p, j) => {
      const first = owner.get(p);
      if (first !== undefined)
        out.push({
          path: ['containers', i, 'ports', j],
          message: `port ${p} is already declared by container "${first}"; ports must be unique in a container group`,
        });
      else owner.set(p, c.name);
    }),
  );
}

/** Checks that need the whole template. Paths are relative to the template. */
export function templateIssues(t: TemplateConfig): TemplateIssue[] {
  const out: TemplateIssue[] = [];
  checkNames(t, out);
  t.containers.forEach((c, i) => checkContainer(t, 'containers', i, c, out));
  t.initContainers.forEach((c, i) => checkContainer(t, 'initContainers', i, c, out));
  checkPorts(t, out);
  const platformOs = t.platform && PLATFORM.test(t.platform) ? t.platform.split('/')[0] : undefined;
  if (platformOs !== undefined && platformOs !== t.osType.toLowerCase())
    out.push({
      path: ['platform'],
      message: `os "${platformOs}" does not match template.osType ${t.osType}`,
    });
  if (!t.containers.some((c) => c.image === undefined))
    out.push({
      path: ['containers'],
      message: 'at least one container must run the pushed image (omit its "image")',
    });
  return out;
}

/**
 * The health gate may reuse a readiness probe: the first container running the pushed image with a
 * `readinessProbe.httpGet` gives its port and path.
 */
export function readinessProbeTarget(t: TemplateConfig): { port: number; path: string } | undefined {
  for (const c of t.containers) {
    const get = c.image === undefined ? c.readinessProbe?.httpGet : undefined;
    if (get) return { port: get.port, path: get.path ?? '/' };
  }
  return undefined;
}

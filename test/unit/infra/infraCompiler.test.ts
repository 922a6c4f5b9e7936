/**
 * The real Bicep compiler and linter over infra/ (the check `npm run check:infra` runs in CI), proof that the check
 * refuses what it should, and the source rules the compiler does not enforce (role ids named, suppressions
 * explained, parameters described, stable api-versions).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import {
  checkBicepFiles,
  failingDiagnostics,
  formatDiagnostic,
  listBicepFiles,
  type BicepCheckResult,
} from '../../../scripts/lib/bicepCli.js';
import { BUILT_IN_ROLES, describeWithBicep, infraDir } from './infraBicep.js';

const GUID_LITERAL = /'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/gi;

/** Role-id literals whose line does not end with `// <role name>`. */
function unnamedRoleIds(source: string, file: string): string[] {
  return source.split('\n').flatMap((line, index) =>
    [...line.matchAll(GUID_LITERAL)].flatMap(([, id]) => {
      const expected = BUILT_IN_ROLES[id!];
      const comment = /\/\/\s*(.*?)\s*$/.exec(line)?.[1];
      if (!expected) return [`${file}:${index + 1}: ${id} is not in the built-in role table`];
      return comment === expected ? [] : [`${file}:${index + 1}: ${id} should be commented "// ${expected}"`];
    }),
  );
}

/** `#disable-next-line` / `#disable-diagnostics` without `// why` after the rule names. */
function unexplainedSuppressions(source: string, file: string): string[] {
  return source.split('\n').flatMap((line, index) => {
    const suppression = /#disable-(next-line|diagnostics)\b(.*)$/.exec(line);
    if (!suppression) return [];
    return /\/\/\s*\S/.test(suppression[2]!) ? [] : [`${file}:${index + 1}: suppression without a reason`];
  });
}

const sources = () =>
  listBicepFiles(infraDir).map((file) => ({
    file,
    source: fs.readFileSync(path.join(infraDir, file), 'utf8'),
  }));

const storageAccount = (properties: string) => `
@description('Location of the account.')
param location string = resourceGroup().location

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stcheck${'$'}{uniqueString(resourceGroup().id)}'
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
${properties}
  }
}
`;

const unusedParam = "@description('Never used.')\nparam unusedValue string = 'x'\n";

/** Templates the check must refuse (or, the last one, accept), checked together in one scratch folder. */
const SCRATCH_TEMPLATES: Record<string, string> = {
  'misspelt.bicep': storageAccount("    minimumTlsVersio: 'TLS1_2'"),
  'unknownProperty.bicep': storageAccount("    colourOfTheAccount: 'blue'"),
  'wrongType.bicep': storageAccount('    minimumTlsVersion: 12'),
  'unknownName.bicep': storageAccount('    minimumTlsVersion: tlsVersion'),
  'unusedParam.bicep': `${unusedParam}${storageAccount("    minimumTlsVersion: 'TLS1_2'")}`,
  'suppressed.bicep': `${unusedParam.replace('param ', '#disable-next-line no-unused-params // kept for older callers\nparam ')}${storageAccount("    minimumTlsVersion: 'TLS1_2'")}`,
};

describeWithBicep('Bicep compiler and linter (npm run check:infra)', (bicepPath) => {
  let infra: BicepCheckResult;
  let scratch: BicepCheckResult;

  beforeAll(() => {
    infra = checkBicepFiles(bicepPath, infraDir);
    // The project's linter settings apply to the scratch templates too.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bicep-check-'));
    try {
      fs.copyFileSync(path.join(infraDir, 'bicepconfig.json'), path.join(dir, 'bicepconfig.json'));
      for (const [name, source] of Object.entries(SCRATCH_TEMPLATES))
        fs.writeFileSync(path.join(dir, name), source);
      scratch = checkBicepFiles(bicepPath, dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  /** "Level CODE" of every failing diagnostic of one scratch template, without duplicates (build and lint). */
  const failuresOf = (file: string) => [
    ...new Set(
      failingDiagnostics(scratch)
        .filter((d) => d.file === file)
        .map((d) => `${d.level} ${d.code}`),
    ),
  ];

  it('builds and lints main.bicep and every module with 0 errors and 0 warnings', () => {
    expect(infra.files).toContain('main.bicep');
    expect(infra.files.filter((f) => f.startsWith('app/')).length).toBeGreaterThanOrEqual(15);
    expect(failingDiagnostics(infra).map(formatDiagnostic)).toEqual([]);
    expect(infra.otherOutput).toEqual([]);
    expect([...infra.templates.keys()].sort()).toEqual(infra.files);
  });

  it("refuses a template with a wrong property name, with the compiler's diagnostic (the check can fail)", () => {
    expect(failuresOf('misspelt.bicep')).toEqual(['Warning BCP089']);
    const diagnostic = failingDiagnostics(scratch).find((d) => d.file === 'misspelt.bicep')!;
    expect(diagnostic.message).toContain('"minimumTlsVersio" is not allowed');
    expect(diagnostic.message).toContain('Did you mean "minimumTlsVersion"?');
    expect(diagnostic.line).toBe(13);
  });

  it('refuses a property that does not exist on the type at all (BCP037)', () => {
    expect(failuresOf('unknownProperty.bicep')).toEqual(['Warning BCP037']);
  });

  it('refuses a value of the wrong type (BCP036), and an unknown name as an error that compiles nothing', () => {
    expect(failuresOf('wrongType.bicep')).toEqual(['Warning BCP036']);
    expect(failuresOf('unknownName.bicep')).toContain('Error BCP057');
    expect(scratch.templates.has('unknownName.bicep')).toBe(false);
  });

  it('refuses a linter finding (no-unused-params), and accepts it once suppressed inline with a reason', () => {
    expect(failuresOf('unusedParam.bicep')).toEqual(['Error no-unused-params']);
    expect(failuresOf('suppressed.bicep')).toEqual([]);
    expect(scratch.templates.has('suppressed.bicep')).toBe(true);
  });

  it('describes every parameter of every template (@description)', () => {
    const undocumented: string[] = [];
    for (const [file, template] of infra.templates) {
      const parameters = (
        template as { parameters?: Record<string, { metadata?: { description?: string } }> }
      ).parameters;
      for (const [name, parameter] of Object.entries(parameters ?? {}))
        if (!parameter.metadata?.description?.trim()) undocumented.push(`${file}: ${name}`);
    }
    expect(undocumented).toEqual([]);
  });

  it('pins stable (non-preview) api-versions for every resource, nested deployments included', () => {
    const versions = new Set<string>();
    const collect = (resources: unknown): void => {
      const list = Array.isArray(resources) ? resources : Object.values((resources ?? {}) as object);
      for (const resource of list as Array<{ type: string; apiVersion: string; properties?: unknown }>) {
        versions.add(`${resource.type}@${resource.apiVersion}`);
        const nested = (resource.properties as { template?: { resources?: unknown } } | undefined)?.template;
        if (nested) collect(nested.resources);
      }
    };
    collect((infra.templates.get('main.bicep') as { resources: unknown }).resources);
    expect(versions.size).toBeGreaterThan(20);
    expect([...versions].filter((v) => !/@\d{4}-\d{2}-\d{2}$/.test(v))).toEqual([]);
  });
});

it('names every built-in role id in the templates with a trailing comment', () => {
  const problems = sources().flatMap(({ file, source }) => unnamedRoleIds(source, file));
  expect(problems).toEqual([]);
  expect(sources().some(({ source }) => new RegExp(GUID_LITERAL.source, 'i').test(source))).toBe(true);
});

it('reports an unnamed or unknown role id (the role-id check can fail)', () => {
  expect(unnamedRoleIds("  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPush\n", 'x.bicep')).toEqual(
    ['x.bicep:1: 7f951dda-4ed3-4680-a7ca-43fe172d538d should be commented "// AcrPull"'],
  );
  expect(unnamedRoleIds("  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'\n", 'x.bicep')).toHaveLength(1);
});

it('explains every linter suppression in the templates inline', () => {
  expect(sources().flatMap(({ file, source }) => unexplainedSuppressions(source, file))).toEqual([]);
  expect(unexplainedSuppressions('#disable-next-line no-unused-params\n', 'x.bicep')).toEqual([
    'x.bicep:1: suppression without a reason',
  ]);
  expect(
    unexplainedSuppressions('#disable-next-line no-unused-params // needed by v1 callers\n', 'x.bicep'),
  ).toEqual([]);
});

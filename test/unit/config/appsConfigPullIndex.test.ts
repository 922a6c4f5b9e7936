/** APPS_CONFIG fields of issue 10: `pullFailureGraceSeconds` and `template.platform`. */
import { describe, expect, it } from 'vitest';
import { parseAppsConfig } from '../../../src/config/appsConfig.js';
import { webApp } from '../support/fakes.js';

const template = (extra: Record<string, unknown>) => ({ ...(webApp()['template'] as object), ...extra });
const errorsOf = (app: Record<string, unknown>) => parseAppsConfig({ apps: [app] }).errors.map((e) => e.text);

describe('pull and platform config', () => {
  it('defaults: a 300 s pull failure grace, no platform (the OS on amd64 is deployed)', () => {
    const [app] = parseAppsConfig({ apps: [webApp()] }).apps;
    expect(app!.pullFailureGraceSeconds).toBe(300);
    expect(app!.template!.platform).toBeUndefined();
  });

  it('accepts a grace from 0 to 3600 s and refuses others, naming the field', () => {
    expect(errorsOf(webApp({ pullFailureGraceSeconds: 0 }))).toEqual([]);
    expect(errorsOf(webApp({ pullFailureGraceSeconds: -1 }))).toEqual([
      'apps[0] (web): pullFailureGraceSeconds: expected number to be >=0',
    ]);
    expect(errorsOf(webApp({ pullFailureGraceSeconds: '5m' }))).toEqual([
      'apps[0] (web): pullFailureGraceSeconds: expected a number',
    ]);
  });

  it('template.platform is os/architecture[/variant] of the template OS', () => {
    expect(errorsOf(webApp({ template: template({ platform: 'linux/arm64/v8' }) }))).toEqual([]);
    expect(errorsOf(webApp({ template: template({ platform: 'arm64' }) }))).toEqual([
      "apps[0] (web): template.platform: must be 'os/architecture' or 'os/architecture/variant', e.g. linux/amd64 or linux/arm64/v8",
    ]);
    expect(errorsOf(webApp({ template: template({ platform: 'windows/amd64' }) }))).toEqual([
      'apps[0] (web): template.platform: os "windows" does not match template.osType Linux',
    ]);
  });
});

/**
 * The built operator CLI (`package.json` bin → dist/src/cli/main.js, run `npm run build` first) as a child
 * process against a small HTTP server on 127.0.0.1 that answers like the operator actions contract
 * (docs/design.md): 202 / 400 / 404 / 409, 401 for a key of the wrong function, and `GET /api/status`. Checks
 * what the CLI sends (route, key header, body), what it prints and its exit codes, and where it finds the URL
 * and key (flags, environment, .local/stack.json from the current directory up).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const STATUS_KEY = 'status-key-0123456789';
const ACTIONS_KEY = 'actions-key-0123456789';
const DIGEST = `sha256:${'c'.repeat(64)}`;

interface Received {
  method: string;
  url: string;
  key: string | undefined;
  contentType: string | undefined;
  body: string;
}

const statusDocument = {
  generatedAt: '2026-12-01T10:00:00.000Z',
  apps: [
    {
      name: 'web',
      activeGroup: 'web-blue',
      digest: DIGEST,
      tag: '1.2.0',
      rollout: { id: 'r-7', state: 'succeeded', step: 'done' },
      rollbackTarget: { group: 'web-green', digest: DIGEST, tag: '1.1.0', until: '2026-12-01T10:05:00.000Z' },
      history: [],
    },
  ],
  watched: [],
};

/** Answers as the Functions app's routes do; `received` keeps every request. */
function contractServer(received: Received[]): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const key = req.headers['x-functions-key'] as string | undefined;
      received.push({
        method: req.method!,
        url: req.url!,
        key,
        contentType: req.headers['content-type'],
        body,
      });
      const send = (status: number, json?: unknown) => {
        res.writeHead(status, json === undefined ? {} : { 'content-type': 'application/json' });
        res.end(json === undefined ? undefined : JSON.stringify(json));
      };
      const status = /^\/api\/status(?:\/([^/]+))?$/.exec(req.url ?? '');
      if (status && req.method === 'GET') {
        // The Functions host: the status key opens status, the actions key does not (401, no body).
        if (key !== STATUS_KEY) return send(401);
        if (!status[1]) return send(200, statusDocument);
        const app = statusDocument.apps.find((a) => a.name === status[1]);
        return app
          ? send(200, app)
          : send(404, {
              error: 'AppNotFound',
              message: `no app named "${status[1]}" is configured (configured: web)`,
            });
      }
      const action = /^\/api\/apps\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
      if (action && req.method === 'POST') {
        if (key !== ACTIONS_KEY) return send(401);
        const [, app, name] = action;
        if (app !== 'web') return send(404, { error: 'AppNotFound', message: `no app named "${app}"` });
        if (name === 'promote') return send(409, { error: 'nothing is awaiting promotion' });
        const parsed = body ? (JSON.parse(body) as { to?: string }) : {};
        if (parsed.to !== undefined && name !== 'rollback')
          return send(400, { error: '"to" applies to rollback only' });
        return send(202, { app, action: name, ...(name === 'pause' ? {} : { rolloutId: 'r-8' }) });
      }
      send(404);
    });
  });
}

const bin = (): string => {
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { bin: Record<string, string> };
  const file = path.resolve(pkg.bin['acibg']!);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build first.`);
  return file;
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in `cwd` with only the given ACIBG_* variables (none inherited from the test's shell). */
function acibg(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const name of ['ACIBG_URL', 'ACIBG_KEY', 'ACIBG_STATUS_KEY']) {
    if (!options.env?.[name]) delete env[name];
  }
  return new Promise((resolve) => {
    execFile(process.execPath, [bin(), ...args], { cwd: options.cwd, env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('acibg against a server that answers like the contract', () => {
  const received: Received[] = [];
  let server: http.Server;
  let baseUrl: string;
  /** A project directory whose .local/stack.json names the server; the CLI runs in a subdirectory of it. */
  let project: string;
  let inProject: string;
  /** A directory with no stack.json above it. */
  let elsewhere: string;
  const last = () => received[received.length - 1]!;

  beforeAll(async () => {
    server = contractServer(received);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'acibg-project-'));
    fs.mkdirSync(path.join(project, '.local'));
    fs.writeFileSync(
      path.join(project, '.local', 'stack.json'),
      JSON.stringify({ functionsBaseUrl: baseUrl, functionKey: STATUS_KEY, actionsKey: ACTIONS_KEY }),
    );
    inProject = path.join(project, 'src');
    fs.mkdirSync(inProject);
    elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'acibg-elsewhere-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it('prints the status table with the status key from stack.json', async () => {
    const run = await acibg(['status'], { cwd: inProject });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(last()).toMatchObject({ method: 'GET', url: '/api/status', key: STATUS_KEY });
    const [header, row] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^APP +ACTIVE +DIGEST +TAG +ROLLOUT +PAUSED +PREVIEW IP +ROLLBACK UNTIL$/);
    expect(row!.split(/\s{2,}/)).toEqual([
      'web',
      'web-blue',
      'sha256:cccccccccccc',
      '1.2.0',
      'succeeded (done)',
      'no',
      '-',
      '2026-12-01 10:05:00 UTC',
    ]);
  });

  it('prints the server JSON with --json, for one app', async () => {
    const run = await acibg(['status', 'web', '--json'], { cwd: inProject });
    expect(run.code).toBe(0);
    expect(last().url).toBe('/api/status/web');
    expect(JSON.parse(run.stdout)).toEqual(statusDocument.apps[0]);
  });

  it('posts an action with the actions key and the JSON body, and prints what was accepted', async () => {
    const run = await acibg(['rollback', 'web', '--to', DIGEST, '--reason', 'bad release'], {
      cwd: inProject,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('rollback accepted for web (rollout r-8). Follow it: acibg status web');
    expect(last()).toEqual({
      method: 'POST',
      url: '/api/apps/web/rollback',
      key: ACTIONS_KEY,
      contentType: 'application/json',
      body: JSON.stringify({ to: DIGEST, reason: 'bad release' }),
    });

    const json = await acibg(['pause', 'web', '--json'], { cwd: inProject });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ app: 'web', action: 'pause' });
    // No --to / --reason: no body at all.
    expect(last()).toMatchObject({ url: '/api/apps/web/pause', body: '', contentType: undefined });
  });

  it('exits 4 with the server reason when the action does not apply now (409)', async () => {
    const run = await acibg(['promote', 'web'], { cwd: inProject });
    expect(run.code).toBe(4);
    expect(run.stderr.trim()).toBe('acibg: promote does not apply to web now: nothing is awaiting promotion');
    expect(run.stdout).toBe('');
  });

  it('exits 3 for an unknown app (404), for actions and status alike', async () => {
    const action = await acibg(['retry', 'nope'], { cwd: inProject });
    expect(action.code).toBe(3);
    expect(action.stderr).toContain(`acibg: Unknown app 'nope': no app named "nope"`);
    const status = await acibg(['status', 'nope'], { cwd: inProject });
    expect(status.code).toBe(3);
    expect(status.stderr).toContain('(configured: web)');
  });

  it('exits 5 when the key is refused: the status key does not open the actions', async () => {
    const run = await acibg(['redeploy', 'web', '--key', STATUS_KEY], { cwd: inProject });
    expect(run.code).toBe(5);
    expect(run.stderr.trim()).toBe(
      'acibg: The key was refused (401): actions need the actions key, not the status key. Key from --key.',
    );
    expect(last()).toMatchObject({ url: '/api/apps/web/redeploy', key: STATUS_KEY });
    const status = await acibg(['status', '--key', ACTIONS_KEY], { cwd: inProject });
    expect(status.code).toBe(5);
    expect(status.stderr).toContain('status needs the status key');
  });

  it('exits 1 with the server reason for a refused body (400)', async () => {
    const run = await acibg(['abort', 'web', '--to', 'r-1'], { cwd: inProject });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('acibg: abort web failed (400): "to" applies to rollback only');
  });

  it('takes the URL and keys from the environment outside the project', async () => {
    const env = { ACIBG_URL: `${baseUrl}/`, ACIBG_KEY: ACTIONS_KEY, ACIBG_STATUS_KEY: STATUS_KEY };
    const action = await acibg(['resume', 'web'], { cwd: elsewhere, env });
    expect(action.code).toBe(0);
    expect(last()).toMatchObject({ url: '/api/apps/web/resume', key: ACTIONS_KEY });
    const status = await acibg(['status'], { cwd: elsewhere, env });
    expect(status.code).toBe(0);
    expect(last()).toMatchObject({ url: '/api/status', key: STATUS_KEY });
  });

  it('exits 6 and says where it looked when it finds no URL or key', async () => {
    const noUrl = await acibg(['status'], { cwd: elsewhere });
    expect(noUrl.code).toBe(6);
    expect(noUrl.stderr).toContain('no .local/stack.json from the current directory up');
    const noKey = await acibg(['rollback', 'web'], { cwd: elsewhere, env: { ACIBG_URL: baseUrl } });
    expect(noKey.code).toBe(6);
    expect(noKey.stderr).toContain(`No actions key for ${baseUrl}: pass --key or set ACIBG_KEY.`);
  });

  it('exits 7 when the host does not answer', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const run = await acibg(['status', '--url', `http://127.0.0.1:${port}`, '--key', STATUS_KEY], {
      cwd: elsewhere,
    });
    expect(run.code).toBe(7);
    expect(run.stderr).toContain(
      `acibg: Cannot reach http://127.0.0.1:${port} (ECONNREFUSED, URL from --url)`,
    );
  });

  it('exits 2 with usage for a bad command line, and 0 for --help', async () => {
    const bad = await acibg(['deploy', 'web'], { cwd: elsewhere });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown command 'deploy'");
    const help = await acibg(['--help'], { cwd: elsewhere });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('acibg rollback <app> [--to X]');
    expect(help.stdout).toContain('Exit codes: 0 done');
  });
});

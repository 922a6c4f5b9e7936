/**
 * `acibg <command> [app] [--to X] [--reason "..."] [--force] [--json] [--url U] [--key K]`: the command line, parsed into
 * what to do. Only syntax here; where the URL and key come from is cliConfig.ts.
 */
import { parseArgs } from 'node:util';
import { CliError, EXIT } from './cliError.js';

/** The operator actions of `POST /api/apps/{app}/{action}` (docs/design.md, "Contracts of planned features"). */
export const ACTIONS = ['rollback', 'promote', 'abort', 'pause', 'resume', 'retry', 'redeploy'] as const;
export type ActionName = (typeof ACTIONS)[number];

export interface ConnectionFlags {
  url?: string;
  key?: string;
}

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'status'; app?: string; json: boolean; flags: ConnectionFlags }
  | {
      kind: 'action';
      action: ActionName;
      app: string;
      body: { to?: string; reason?: string; force?: true };
      json: boolean;
      flags: ConnectionFlags;
    };

export const HELP = `acibg: act on the blue/green rollouts of the ACI blue/green Functions app

Usage:
  acibg status [app]                     apps (or one app) with active group, rollout, pause, rollback window
  acibg rollback <app> [--to X]          back to the previous group (or digest / rollout id X)
  acibg promote <app>                    switch callers to the group awaiting promotion
  acibg abort <app>                      stop the rollout in progress (before the switch)
  acibg pause <app> | resume <app>       hold pushes (queued, newest wins) / start the newest
  acibg retry <app> [--force]            deploy the latest failed or rolled-back digest again
  acibg redeploy <app> [--force]         deploy the active digest as a fresh blue/green

Options:
  --reason "..."   why (kept in the app's history with the actor)
  --to X           the target, for rollback: a digest or a rollout id (the server says where else it applies)
  --force          retry / redeploy now, outside the app's deploy windows or during DEPLOY_FREEZE
  --json           print the server's JSON instead of tables
  --url U          the Functions app, e.g. https://func-x.azurewebsites.net (else ACIBG_URL, else
                   functionsBaseUrl of .local/stack.json found from the current directory up)
  --key K          the function key (else ACIBG_KEY for actions, ACIBG_STATUS_KEY for status, else
                   actionsKey / functionKey of .local/stack.json when the URL is that stack's)
  -h, --help       this text

Environment: ACIBG_URL, ACIBG_KEY, ACIBG_STATUS_KEY as above; ACIBG_TOKEN, an Entra ID access token sent as a
bearer token when the app requires sign-in for actions (OPERATOR_ACTIONS_REQUIRE_SIGN_IN).

Exit codes: 0 done, 1 refused or failed, 2 bad arguments, 3 unknown app, 4 action not applicable now,
5 key refused, 6 no URL or key found, 7 host unreachable.
HTTPS to a private CA: set NODE_EXTRA_CA_CERTS to its certificate.`;

function usage(message: string): CliError {
  return new CliError(`${message}\nRun acibg --help for usage.`, EXIT.usage);
}

function readOptions(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        to: { type: 'string' },
        reason: { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        url: { type: 'string' },
        key: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw usage((err as Error).message);
  }
}

function nonEmpty(name: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '') throw usage(`--${name} needs a value.`);
  return value;
}

export function parseCliArgs(argv: string[]): CliCommand {
  const { values, positionals } = readOptions(argv);
  if (values.help) return { kind: 'help' };
  const [command, app, ...extra] = positionals;
  if (!command) throw usage('Missing command.');
  if (extra.length > 0) throw usage(`Unexpected argument(s): ${extra.join(' ')}.`);
  const flags: ConnectionFlags = {};
  const url = nonEmpty('url', values.url);
  const key = nonEmpty('key', values.key);
  if (url !== undefined) flags.url = url;
  if (key !== undefined) flags.key = key;
  const to = nonEmpty('to', values.to);
  const reason = nonEmpty('reason', values.reason);

  if (command === 'status') {
    if (to !== undefined || reason !== undefined || values.force)
      throw usage('--to, --reason and --force apply to actions, not status.');
    return { kind: 'status', ...(app === undefined ? {} : { app }), json: values.json, flags };
  }
  if (!(ACTIONS as readonly string[]).includes(command)) {
    throw usage(`Unknown command '${command}'. Commands: status, ${ACTIONS.join(', ')}.`);
  }
  if (app === undefined || app.trim() === '') throw usage(`${command} needs an app: acibg ${command} <app>.`);
  const body: { to?: string; reason?: string; force?: true } = {};
  if (to !== undefined) body.to = to;
  if (reason !== undefined) body.reason = reason;
  if (values.force) body.force = true;
  return { kind: 'action', action: command as ActionName, app, body, json: values.json, flags };
}

/** The CLI's one error type: a message for a person and the exit code a script can branch on. */

/** Exit codes of `acibg` (documented in its --help and docs/operations.md). */
export const EXIT = {
  ok: 0,
  /** The server refused the request (400) or failed (5xx), or answered something unexpected. */
  failed: 1,
  /** Bad arguments. */
  usage: 2,
  /** Unknown app (404). */
  notFound: 3,
  /** The action does not apply now (409). */
  notApplicable: 4,
  /** The key was refused (401/403). */
  keyRefused: 5,
  /** No URL or key found in flags, environment or .local/stack.json. */
  notConfigured: 6,
  /** The host did not answer (refused, unknown name, TLS trust, timeout). */
  unreachable: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

/**
 * The one redaction every logger applies to every line it writes: the app's invocation logger, the local host's
 * console logger and the emulator's log all call `redactSecrets`, so a call site that prints a request URL, a
 * header or a ready line cannot leak a key (issue 16: the host's error line printed the webhook's `code=`).
 *
 * What it masks, wherever it appears in a line:
 * - query and form parameters that carry a credential (`code=`, `sig=`, `key=`, `token=`, `access_token=`, …):
 *   Functions keys travel as `?code=` (https://learn.microsoft.com/azure/azure-functions/function-keys-how-to),
 *   SAS signatures as `sig=`;
 * - `Authorization: Bearer …` and any JWT (three base64url parts, the first `eyJ`);
 * - connection-string parts `AccountKey=`, `SharedAccessKey=`, `SharedAccessSignature=`;
 * - JSON or `name=value` fields whose name says they hold a secret (`masterKey`, `systemKey`, `functionKey`,
 *   `identityHeader`, `password`, `secureValue`, …): the ready lines of the host and the emulator are JSON;
 * - and any value the caller knows to be secret (`known`), e.g. the host's own keys, however it is quoted.
 */

const MASK = '[redacted]';

/** Query / form parameter names whose value is a credential. */
const SECRET_PARAMS =
  'code|sig|key|token|access_token|id_token|refresh_token|client_secret|password|secret|apikey|api_key|x-functions-key';
const QUERY = new RegExp(`([?&;](?:${SECRET_PARAMS})=)[^&\\s"'<>#]+`, 'gi');
const BEARER = /\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const CONNECTION_PARTS = /\b((?:AccountKey|SharedAccessKey|SharedAccessSignature)=)[^;\s"']+/gi;

/**
 * Field names that hold a secret: any camelCase `…Key` (masterKey, systemKey, hostKey, actionsKey, accountKey),
 * `key1`/`key2` (Event Grid topic keys), and the usual secret names. Matched as a whole name; not `code`, which
 * in JSON is an error code (`{"code":"ResourceNotFound"}`), only in a URL query a key.
 */
const SECRET_FIELD =
  '[A-Za-z]*Key|key[0-9]?|secret|secretValue|password|secureValue|token|accessToken|access_token|identityHeader|x-identity-header|x-functions-key|connectionString|storageConnectionString|signature|sig';
/** `"name": "value"` (JSON, also inside a longer line). */
const JSON_FIELD = new RegExp(`("(?:${SECRET_FIELD})"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)(")`, 'g');
/** `name: value` headers and `name=value` pairs outside a URL query (a URL query is handled above). */
const HEADER_FIELD =
  /\b((?:x-functions-key|x-identity-header|authorization)\s*[:=]\s*)(?!Bearer\b)[^\s,;]+/gi;

/** Known secret values shorter than this are not searched for (they would mask ordinary text). */
const MIN_KNOWN_LENGTH = 8;

export function redactSecrets(text: string, known: Iterable<string> = []): string {
  let out = text
    .replace(QUERY, `$1${MASK}`)
    .replace(BEARER, `$1${MASK}`)
    .replace(JWT, MASK)
    .replace(CONNECTION_PARTS, `$1${MASK}`)
    .replace(JSON_FIELD, (_m, open: string, value: string, close: string) =>
      value === '' ? `${open}${close}` : `${open}${MASK}${close}`,
    )
    .replace(HEADER_FIELD, `$1${MASK}`);
  for (const secret of known) {
    if (secret.length < MIN_KNOWN_LENGTH) continue;
    out = out.split(secret).join(MASK);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(MASK);
  }
  return out;
}

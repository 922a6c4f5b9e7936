/**
 * How long each stored field may be (docs/design.md, "Bounded state"). Input is checked against these where it
 * enters (an event field past its limit makes the event malformed: 2xx, nothing stored; an operator's reason or
 * actor is refused or cut), and free text the app writes (decision reasons, timeline messages, errors) is cut at
 * the one place each is stored, so no caller can grow an app's row (issue 16: 100 KB event ids filled the row).
 */

/** Event id (Event Grid `id`, CloudEvents `id`): ACR sends a GUID; 256 leaves room for any publisher's ids. */
export const EVENT_ID_MAX = 256;
/** Event topic / source: an ARM resource id. */
export const EVENT_TOPIC_MAX = 1024;
/** Repository: Docker's reference grammar caps a name at 255 characters (distribution/reference, NameTotalLengthMax). */
export const REPOSITORY_MAX = 255;
/** Tag: `[\w][\w.-]{0,127}` (OCI distribution spec, "tag"): 128. */
export const TAG_MAX = 128;
/** Media type: type and subtype of at most 127 characters each (RFC 6838, section 4.2). */
export const MEDIA_TYPE_MAX = 255;
/** Login server: a DNS name (253) and a port. */
export const HOST_MAX = 260;
/** Free text: decision reasons (the ignored list), operator reasons, timeline messages. */
export const TEXT_MAX = 500;
/** A rollout's error and last transient error: room for a list of what an adopted spec lacks. */
export const ERROR_MAX = 2_000;
/** Who acted (`x-ms-client-principal-name` behind Easy Auth). */
export const ACTOR_MAX = 200;

/** `text` cut to `max` characters (an ellipsis marks the cut). */
export function clip(text: string, max = TEXT_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The parts of a Key Vault secret request body that set and update share, checked as Key Vault checks them. */
import { keyVaultErrors } from './keyVaultErrors.js';

const MAX_TAGS = 15;
const badParameter = keyVaultErrors.badParameter;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface AttributeInput {
  enabled?: boolean;
  nbf?: number;
  exp?: number;
}

export function parseAttributes(value: unknown): AttributeInput {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw badParameter('Property attributes has invalid value.');
  const out: AttributeInput = {};
  if (value['enabled'] !== undefined) {
    if (typeof value['enabled'] !== 'boolean')
      throw badParameter('Property attributes.enabled has invalid value.');
    out.enabled = value['enabled'];
  }
  for (const key of ['nbf', 'exp'] as const) {
    const v = value[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw badParameter(`Property attributes.${key} has invalid value.`);
    out[key] = v;
  }
  return out;
}

export function parseTags(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw badParameter('Property tags has invalid value.');
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS) throw badParameter(`The number of tags exceeds the maximum of ${MAX_TAGS}.`);
  for (const [k, v] of entries) {
    if (typeof v !== 'string')
      throw badParameter(`Tag '${k}' has invalid value: tag values must be strings.`);
    if (k.length > 512 || v.length > 512)
      throw badParameter('Tag names and values are limited to 512 characters.');
  }
  return value as Record<string, string>;
}

export function parseContentType(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badParameter('Property contentType has invalid value.');
  return value;
}

/**
 * HTTP trigger route templates, as ASP.NET Core routing reads them in the Functions host:
 * `status/{app}`, optional `{app?}`, defaults `{page=1}`, catch-all `{*path}`, inline constraints
 * `{id:int}`, `{name:alpha:minlength(2)}`, and complex segments (`files/{name}.{ext}`). Literals match
 * case-insensitively; a trailing slash is ignored. When several routes match, the most specific wins
 * (literal > constrained parameter > parameter > optional > catch-all, segment by segment).
 */

export class RouteTemplateError extends Error {
  override name = 'RouteTemplateError';
}

interface ParamPart {
  kind: 'param';
  name: string;
  optional: boolean;
  defaultValue?: string;
  catchAll: boolean;
  constraints: Constraint[];
}
type Part = { kind: 'literal'; value: string } | ParamPart;
interface Segment {
  parts: Part[];
  /** Set for segments made of several parts: one regex over the whole segment. */
  regex?: RegExp;
}

type Constraint = { label: string; test: (value: string) => boolean };

export interface RouteTemplate {
  template: string;
  segments: Segment[];
  /** Lower is more specific; compared segment by segment. */
  precedence: number[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const GUID = /^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[})]?$/i;

function numberArgs(name: string, args: string | undefined, count: number): number[] {
  const values = (args ?? '').split(',').map((a) => Number(a.trim()));
  if (values.length !== count || values.some((v) => !Number.isFinite(v))) {
    throw new RouteTemplateError(
      `Constraint '${name}' needs ${count} numeric argument(s), got '${args ?? ''}'.`,
    );
  }
  return values;
}

function parseConstraint(text: string): Constraint {
  const m = /^([a-zA-Z]+)(?:\((.*)\))?$/s.exec(text);
  if (!m) throw new RouteTemplateError(`Invalid route constraint '${text}'.`);
  const name = m[1]!.toLowerCase();
  const args = m[2];
  const isInt = (v: string) => /^[+-]?\d+$/.test(v);
  switch (name) {
    case 'int':
      return { label: text, test: (v) => isInt(v) && Math.abs(Number(v)) <= 2 ** 31 };
    case 'long':
      return { label: text, test: isInt };
    case 'float':
    case 'double':
    case 'decimal':
      return { label: text, test: (v) => NUMBER.test(v) };
    case 'bool':
      return { label: text, test: (v) => /^(true|false)$/i.test(v) };
    case 'alpha':
      return { label: text, test: (v) => /^[a-z]+$/i.test(v) };
    case 'guid':
      return { label: text, test: (v) => GUID.test(v) };
    case 'datetime':
      return { label: text, test: (v) => !Number.isNaN(Date.parse(v)) };
    case 'minlength': {
      const [min] = numberArgs(name, args, 1);
      return { label: text, test: (v) => v.length >= min! };
    }
    case 'maxlength': {
      const [max] = numberArgs(name, args, 1);
      return { label: text, test: (v) => v.length <= max! };
    }
    case 'length': {
      const values = (args ?? '').includes(',') ? numberArgs(name, args, 2) : numberArgs(name, args, 1);
      const [min, max = min] = values;
      return { label: text, test: (v) => v.length >= min! && v.length <= max! };
    }
    case 'min': {
      const [min] = numberArgs(name, args, 1);
      return { label: text, test: (v) => isInt(v) && Number(v) >= min! };
    }
    case 'max': {
      const [max] = numberArgs(name, args, 1);
      return { label: text, test: (v) => isInt(v) && Number(v) <= max! };
    }
    case 'range': {
      const [min, max] = numberArgs(name, args, 2);
      return { label: text, test: (v) => isInt(v) && Number(v) >= min! && Number(v) <= max! };
    }
    case 'regex': {
      let re: RegExp;
      try {
        re = new RegExp(args ?? '', 'i');
      } catch (err) {
        throw new RouteTemplateError(`Invalid regex constraint '${text}': ${(err as Error).message}`);
      }
      return { label: text, test: (v) => re.test(v) };
    }
    default:
      throw new RouteTemplateError(`Unknown route constraint '${name}'.`);
  }
}

/** Splits `name:int:regex(^a:b$)` on colons outside parentheses. */
function splitConstraints(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ':' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

function parseParam(body: string, template: string): ParamPart {
  const [head = '', ...constraintTexts] = splitConstraints(body);
  let nameText = head;
  let defaultValue: string | undefined;
  // A default may also follow the constraints: {page:int=1}.
  const lastIndex = constraintTexts.length - 1;
  const defaultHost = lastIndex >= 0 ? constraintTexts[lastIndex]! : nameText;
  const eq = defaultHost.indexOf('=');
  if (eq >= 0 && !defaultHost.startsWith('regex(')) {
    defaultValue = defaultHost.slice(eq + 1);
    if (lastIndex >= 0) constraintTexts[lastIndex] = defaultHost.slice(0, eq);
    else nameText = defaultHost.slice(0, eq);
  }
  let catchAll = false;
  if (nameText.startsWith('**')) {
    catchAll = true;
    nameText = nameText.slice(2);
  } else if (nameText.startsWith('*')) {
    catchAll = true;
    nameText = nameText.slice(1);
  }
  let optional = false;
  if (nameText.endsWith('?')) {
    optional = true;
    nameText = nameText.slice(0, -1);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(nameText)) {
    throw new RouteTemplateError(`Invalid parameter name '${nameText}' in route '${template}'.`);
  }
  const part: ParamPart = {
    kind: 'param',
    name: nameText,
    optional: optional || catchAll,
    catchAll,
    constraints: constraintTexts.filter((c) => c !== '').map(parseConstraint),
  };
  if (defaultValue !== undefined) {
    part.defaultValue = defaultValue;
    part.optional = true;
  }
  return part;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function parseSegment(text: string, template: string): Segment {
  const parts: Part[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{', i);
    if (open < 0) {
      parts.push({ kind: 'literal', value: text.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: 'literal', value: text.slice(i, open) });
    // Find the matching close brace, allowing parentheses (regex constraints) inside.
    let depth = 0;
    let close = -1;
    for (let j = open + 1; j < text.length; j++) {
      const ch = text[j];
      if (ch === '(') depth++;
      else if (ch === ')') depth--;
      else if (ch === '}' && depth === 0) {
        close = j;
        break;
      }
    }
    if (close < 0) throw new RouteTemplateError(`Unclosed '{' in route '${template}'.`);
    parts.push(parseParam(text.slice(open + 1, close), template));
    i = close + 1;
  }
  if (parts.length > 1) {
    const params = parts.filter((p): p is ParamPart => p.kind === 'param');
    if (params.some((p) => p.catchAll)) {
      throw new RouteTemplateError(`A catch-all parameter must be a whole segment in route '${template}'.`);
    }
    const source = parts
      .map((p) => (p.kind === 'literal' ? escapeRegex(p.value) : p.optional ? '(.*?)' : '(.+?)'))
      .join('');
    return { parts, regex: new RegExp(`^${source}$`, 'i') };
  }
  return { parts };
}

function segmentPrecedence(segment: Segment): number {
  if (segment.regex) return 1.5;
  const part = segment.parts[0];
  if (!part || part.kind === 'literal') return 1;
  if (part.catchAll) return 5;
  if (part.optional) return 4;
  return part.constraints.length > 0 ? 2 : 3;
}

export function parseRouteTemplate(template: string): RouteTemplate {
  const trimmed = template.replace(/^[~/]+/, '').replace(/\/+$/, '');
  const rawSegments = trimmed === '' ? [] : trimmed.split('/');
  const segments = rawSegments.map((s) => {
    if (s === '') throw new RouteTemplateError(`Empty segment in route '${template}'.`);
    return parseSegment(s, template);
  });
  const names = new Set<string>();
  segments.forEach((segment, index) => {
    for (const part of segment.parts) {
      if (part.kind !== 'param') continue;
      const key = part.name.toLowerCase();
      if (names.has(key))
        throw new RouteTemplateError(`Parameter '${part.name}' repeats in route '${template}'.`);
      names.add(key);
      if (part.catchAll && index !== segments.length - 1) {
        throw new RouteTemplateError(
          `A catch-all parameter must be the last segment in route '${template}'.`,
        );
      }
    }
  });
  // An optional segment may only be followed by optional segments.
  let sawOptional = false;
  for (const segment of segments) {
    const single = segment.parts.length === 1 ? segment.parts[0] : undefined;
    const optional = single?.kind === 'param' && single.optional;
    if (sawOptional && !optional) {
      throw new RouteTemplateError(`An optional parameter must be at the end of route '${template}'.`);
    }
    sawOptional ||= optional;
  }
  return { template, segments, precedence: segments.map(segmentPrecedence) };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function passes(part: ParamPart, value: string): boolean {
  return part.constraints.every((c) => c.test(value));
}

/**
 * Matches a request path (below the route prefix, e.g. `status/web` for `/api/status/web`) and returns the
 * route parameters, or undefined. Missing optional parameters are absent unless they have a default.
 */
export function matchRouteTemplate(route: RouteTemplate, path: string): Record<string, string> | undefined {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  const rawSegments = trimmed === '' ? [] : trimmed.split('/');
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const segment = route.segments[i]!;
    const raw = rawSegments[i];
    const single = segment.parts.length === 1 ? segment.parts[0]! : undefined;
    if (single?.kind === 'param' && single.catchAll) {
      const rest = rawSegments.slice(i).map(decodeSegment).join('/');
      if (rest === '') {
        if (single.defaultValue !== undefined) params[single.name] = single.defaultValue;
      } else {
        if (!passes(single, rest)) return undefined;
        params[single.name] = rest;
      }
      return params;
    }
    if (raw === undefined || raw === '') {
      if (single?.kind === 'param' && single.optional) {
        if (single.defaultValue !== undefined) params[single.name] = single.defaultValue;
        continue;
      }
      return undefined;
    }
    const value = decodeSegment(raw);
    if (single?.kind === 'literal') {
      if (single.value.toLowerCase() !== value.toLowerCase()) return undefined;
      continue;
    }
    if (single?.kind === 'param') {
      if (!passes(single, value)) return undefined;
      params[single.name] = value;
      continue;
    }
    const m = segment.regex!.exec(value);
    if (!m) return undefined;
    let group = 1;
    for (const part of segment.parts) {
      if (part.kind !== 'param') continue;
      const captured = m[group++] ?? '';
      if (captured === '') {
        if (!part.optional) return undefined;
        if (part.defaultValue !== undefined) params[part.name] = part.defaultValue;
        continue;
      }
      if (!passes(part, captured)) return undefined;
      params[part.name] = captured;
    }
  }
  return rawSegments.length > route.segments.length ? undefined : params;
}

/** Negative when `a` is more specific than `b`. */
export function compareRoutePrecedence(a: RouteTemplate, b: RouteTemplate): number {
  const n = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < n; i++) {
    // Past its end a route only matched by leaving optional segments out of the other: it is the exact one.
    const pa = a.precedence[i] ?? 0;
    const pb = b.precedence[i] ?? 0;
    if (pa !== pb) return pa - pb;
  }
  return 0;
}

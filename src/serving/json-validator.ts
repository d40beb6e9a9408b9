/**
 * The API's request validator: the JSON Schema subset its route schemas use, compiled to
 * closures, in place of Ajv for the prediction routes.
 *
 * Why not Ajv: loading Ajv (and fast-json-stringify, which Fastify loads with it), checking
 * each schema against the draft-07 meta-schema and generating code for it cost about a
 * third of the start-up CPU of `carprice serve`, more than everything /ready needs besides
 * (ServeCompilers below; bench/serve prints the cold start). The schemas here are small
 * and known: a listing is an object of a dozen typed, bounded fields.
 *
 * What it answers is what Ajv (allErrors, verbose) answers, so the error handler and its
 * tests see no difference: `false` with `errors` = [{instancePath, keyword, message,
 * params, data}], the same keywords and messages ("must be >= 0", "must NOT have more than
 * 5 items", "must have required property 'make'"), every problem at once; one departure:
 * an array over maxItems is reported without checking its items one by one (bounded work
 * for an oversized batch). The corpus test (json-validator.test.ts) holds Ajv as the
 * oracle. A schema with a keyword outside the subset is handed to Ajv, loaded then (`serveCompilers`), so a route
 * added later with richer schemas still validates correctly, only slower to start.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

/** One problem, shaped like an Ajv error object (verbose: with the offending data). */
export interface ValidationIssue {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message: string;
  data?: unknown;
}

/** A compiled validator as Fastify expects one: false with `errors` when the data is invalid. */
export interface CompiledValidator {
  (data: unknown): boolean;
  errors: ValidationIssue[] | null;
}

type Check = (data: unknown, path: string, out: ValidationIssue[]) => void;

/** A schema uses a keyword this compiler does not implement (the caller falls back to Ajv). */
export class UnsupportedSchema extends Error {}

/** Keywords that describe and never constrain. */
const ANNOTATIONS = new Set([
  '$id',
  '$schema',
  '$comment',
  'title',
  'description',
  'examples',
  'example',
  'summary',
  'tags',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
const SUPPORTED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'enum',
  '$ref',
]);

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);

function isType(t: string, x: unknown): boolean {
  switch (t) {
    case 'string':
      return typeof x === 'string';
    case 'number':
      return typeof x === 'number' && Number.isFinite(x);
    case 'integer':
      return typeof x === 'number' && Number.isInteger(x);
    case 'boolean':
      return typeof x === 'boolean';
    case 'null':
      return x === null;
    case 'object':
      return typeof x === 'object' && x !== null && !Array.isArray(x);
    case 'array':
      return Array.isArray(x);
  }
  return false;
}

/** Length in code points, as Ajv counts it (a surrogate pair is one character). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** JSON Pointer escaping of one property name in an instancePath. */
function pointer(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key;
}

interface Ctx {
  /** Shared schemas by $id (with or without a trailing '#'). */
  refs: Map<string, Record<string, unknown>>;
  /** Compiled shared schemas (also breaks $ref cycles). */
  compiled: Map<string, Check>;
}

function issue(
  out: ValidationIssue[],
  path: string,
  schemaPath: string,
  keyword: string,
  params: Record<string, unknown>,
  message: string,
  data: unknown,
): void {
  out.push({ instancePath: path, schemaPath: `${schemaPath}/${keyword}`, keyword, params, message, data });
}

function compileNode(schema: unknown, sp: string, ctx: Ctx): Check {
  if (schema === true || (typeof schema === 'object' && schema !== null && Object.keys(schema).length === 0))
    return () => {};
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    throw new UnsupportedSchema(`schema at ${sp || '#'} is not an object`);
  const s = schema as Record<string, unknown>;
  for (const k of Object.keys(s))
    if (!SUPPORTED.has(k) && !ANNOTATIONS.has(k)) throw new UnsupportedSchema(`keyword ${k} at ${sp || '#'}`);

  if (typeof s.$ref === 'string') {
    if (Object.keys(s).some((k) => k !== '$ref' && !ANNOTATIONS.has(k)))
      throw new UnsupportedSchema(`$ref beside other keywords at ${sp}`);
    const id = s.$ref.endsWith('#') ? s.$ref.slice(0, -1) : s.$ref;
    if (!ctx.refs.has(id)) throw new UnsupportedSchema(`$ref ${s.$ref} at ${sp}`);
    let target = ctx.compiled.get(id);
    if (!target) {
      // placeholder first: a schema that refers to itself compiles once
      const slot: { check?: Check } = {};
      ctx.compiled.set(id, (d, p, o) => slot.check!(d, p, o));
      slot.check = compileNode(ctx.refs.get(id), `${id}#`, ctx);
      ctx.compiled.set(id, slot.check);
      target = slot.check;
    }
    return target;
  }

  const checks: Check[] = [];
  // type first; each other keyword applies to data of its own JavaScript type whatever the
  // type check said (as in Ajv: 1.5 against {type: integer, minimum: 1950} fails both)
  let types: string[] | undefined;
  if (s.type !== undefined) {
    types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (types.length === 0 || types.some((t) => typeof t !== 'string' || !TYPES.has(t)))
      throw new UnsupportedSchema(`type ${JSON.stringify(s.type)} at ${sp}`);
  }

  if (typeof s.minimum === 'number' || typeof s.maximum === 'number') {
    const min = s.minimum as number | undefined;
    const max = s.maximum as number | undefined;
    checks.push((d, p, o) => {
      if (typeof d !== 'number') return;
      if (min !== undefined && !(d >= min))
        issue(o, p, sp, 'minimum', { comparison: '>=', limit: min }, `must be >= ${min}`, d);
      if (max !== undefined && !(d <= max))
        issue(o, p, sp, 'maximum', { comparison: '<=', limit: max }, `must be <= ${max}`, d);
    });
  }
  if (typeof s.minLength === 'number' || typeof s.maxLength === 'number') {
    const min = s.minLength as number | undefined;
    const max = s.maxLength as number | undefined;
    checks.push((d, p, o) => {
      if (typeof d !== 'string') return;
      // code points only when the UTF-16 length is not conclusive
      const short = min !== undefined && d.length < min * 2 && codePoints(d) < min;
      const long = max !== undefined && d.length > max && codePoints(d) > max;
      if (short) issue(o, p, sp, 'minLength', { limit: min }, `must NOT have fewer than ${min} characters`, d);
      if (long) issue(o, p, sp, 'maxLength', { limit: max }, `must NOT have more than ${max} characters`, d);
    });
  }
  if (Array.isArray(s.enum)) {
    const allowed = s.enum as unknown[];
    const scalar = allowed.every((v) => v === null || typeof v !== 'object');
    if (!scalar) throw new UnsupportedSchema(`enum of objects at ${sp}`);
    const set = new Set(allowed);
    checks.push((d, p, o) => {
      if (!set.has(d))
        issue(o, p, sp, 'enum', { allowedValues: allowed }, 'must be equal to one of the allowed values', d);
    });
  }
  if (typeof s.minItems === 'number' || typeof s.maxItems === 'number' || s.items !== undefined) {
    const min = s.minItems as number | undefined;
    const max = s.maxItems as number | undefined;
    if (Array.isArray(s.items)) throw new UnsupportedSchema(`tuple items at ${sp}`);
    const item = s.items !== undefined ? compileNode(s.items, `${sp}/items`, ctx) : undefined;
    checks.push((d, p, o) => {
      if (!Array.isArray(d)) return;
      if (min !== undefined && d.length < min)
        issue(o, p, sp, 'minItems', { limit: min }, `must NOT have fewer than ${min} items`, d);
      if (max !== undefined && d.length > max) {
        issue(o, p, sp, 'maxItems', { limit: max }, `must NOT have more than ${max} items`, d);
        return; // an oversized array's items are not worth checking one by one
      }
      if (item) for (let i = 0; i < d.length; i++) item(d[i], `${p}/${i}`, o);
    });
  }
  if (s.properties !== undefined || s.required !== undefined || s.additionalProperties !== undefined) {
    const props = (s.properties ?? {}) as Record<string, unknown>;
    const keys = Object.keys(props);
    const propChecks = keys.map((k) => compileNode(props[k], `${sp}/properties/${pointer(k)}`, ctx));
    const required = (s.required ?? []) as string[];
    if (!Array.isArray(required) || required.some((r) => typeof r !== 'string'))
      throw new UnsupportedSchema(`required at ${sp}`);
    const extra = s.additionalProperties;
    if (extra !== undefined && typeof extra !== 'boolean')
      throw new UnsupportedSchema(`additionalProperties schema at ${sp}`);
    const known = new Set(keys);
    checks.push((d, p, o) => {
      if (typeof d !== 'object' || d === null || Array.isArray(d)) return;
      const obj = d as Record<string, unknown>;
      for (const r of required)
        if (obj[r] === undefined || !Object.hasOwn(obj, r))
          issue(o, p, sp, 'required', { missingProperty: r }, `must have required property '${r}'`, d);
      if (extra === false)
        for (const k of Object.keys(obj))
          if (!known.has(k))
            issue(
              o,
              p,
              sp,
              'additionalProperties',
              { additionalProperty: k },
              'must NOT have additional properties',
              d,
            );
      for (let i = 0; i < keys.length; i++) {
        const v = obj[keys[i]];
        if (v !== undefined && Object.hasOwn(obj, keys[i])) propChecks[i](v, `${p}/${pointer(keys[i])}`, o);
      }
    });
  }

  if (types) {
    const ts = types;
    const one = ts.length === 1 ? ts[0] : undefined;
    const message = `must be ${ts.join(',')}`;
    return (d, p, o) => {
      if (one !== undefined ? !isType(one, d) : !ts.some((t) => isType(t, d)))
        issue(o, p, sp, 'type', { type: one ?? ts }, message, d);
      for (const c of checks) c(d, p, o);
    };
  }
  if (checks.length === 1) return checks[0];
  return (d, p, o) => {
    for (const c of checks) c(d, p, o);
  };
}

/**
 * Compile `schema` (whose $refs name `shared` schemas by $id). Throws UnsupportedSchema
 * for a keyword outside the subset.
 */
export function compileValidator(
  schema: unknown,
  shared: Iterable<Record<string, unknown>> | Record<string, Record<string, unknown>> = [],
): CompiledValidator {
  const refs = new Map<string, Record<string, unknown>>();
  const list = Symbol.iterator in shared ? [...shared] : Object.values(shared);
  for (const s of list) {
    const id = typeof s?.$id === 'string' ? s.$id : undefined;
    if (id) refs.set(id.endsWith('#') ? id.slice(0, -1) : id, s);
  }
  const check = compileNode(schema, '#', { refs, compiled: new Map() });
  const fn = ((data: unknown) => {
    const out: ValidationIssue[] = [];
    check(data, '', out);
    fn.errors = out.length ? out : null;
    return out.length === 0;
  }) as CompiledValidator;
  fn.errors = null;
  return fn;
}

type RouteCompile = (route: { schema: unknown; method?: string; url?: string; httpPart?: string }) => unknown;

/**
 * Fastify's `schemaController.compilersFactory` for the API: requests validated by
 * `compileValidator` (Ajv, loaded only then, for a schema outside its subset), responses
 * written by JSON.stringify (fast-json-stringify never loaded; the handlers build exactly
 * the documented objects).
 */
export function serveCompilers(): CompilersFactory {
  const factory = {
    buildValidator(external: unknown, ajvOptions: unknown): RouteCompile {
      const shared = (external ?? {}) as Record<string, Record<string, unknown>>;
      let ajv: RouteCompile | undefined;
      return (route) => {
        try {
          return compileValidator(route.schema, shared);
        } catch (e) {
          if (!(e instanceof UnsupportedSchema)) throw e;
          if (!ajv) {
            const require = createRequire(import.meta.url);
            const selector = require('@fastify/ajv-compiler') as () => (ext: unknown, o: unknown) => RouteCompile;
            ajv = selector()(external, ajvOptions);
          }
          return ajv(route);
        }
      };
    },
    buildSerializer() {
      return () => (data: unknown) => JSON.stringify(data);
    },
  };
  return factory as unknown as CompilersFactory;
}

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

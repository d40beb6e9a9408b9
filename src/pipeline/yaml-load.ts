/**
 * Loads YAML the way DVC does (ruamel.yaml, safe loader, YAML 1.2), keeping line numbers.
 *
 * The `yaml` package parses with its failsafe schema (every scalar a string) and this
 * module resolves plain scalars with ruamel's YAML 1.2 implicit resolvers, so both sides
 * of every comparison (params file vs dvc.lock) read `1_000`, `0.20`, `1e-5`, `2024-01-02`,
 * `yes` exactly as DVC would (`1000`, float 0.2, float 1e-05, a date, the string "yes").
 * Duplicate keys are errors, as in DVC. `locate(path)` gives the line of a key for
 * schema messages ("dvc.yaml:12: stages.train.outs[0]: ...").
 */
import {
  LineCounter,
  parseDocument,
  isMap as isYamlMap,
  isSeq,
  isScalar,
  isAlias,
  isPair,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import { AppError } from '../core/errors.js';
import { PyDate, PyFloat, type PyMap, type PyValue } from './py-value.js';
import { scalarText } from '../core/text.js';

/** A parsed YAML file: its value and a way to find where a path is written. */
export interface LoadedYaml {
  value: PyValue;
  /** 1-based line of the key (or list item) at `path`, or of the nearest ancestor found. */
  lineOf(path: ReadonlyArray<string | number>): number | undefined;
}

const BOOL = /^(?:true|True|TRUE|false|False|FALSE)$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$/;
const FLOAT =
  /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;

/** Resolve a plain scalar's text the way ruamel's YAML 1.2 resolver + safe constructor do. */
export function resolvePlain(text: string): PyValue {
  if (BOOL.test(text)) return text[0] === 't' || text[0] === 'T';
  if (FLOAT.test(text)) {
    const t = text.replace(/_/g, '').toLowerCase();
    if (t.endsWith('.nan')) return new PyFloat(NaN);
    if (t.endsWith('.inf')) return new PyFloat(t.startsWith('-') ? -Infinity : Infinity);
    return new PyFloat(Number(t));
  }
  if (INT.test(text) && /[0-9]/.test(text)) {
    let t = text.replace(/_/g, '');
    let neg = false;
    if (t[0] === '-' || t[0] === '+') {
      neg = t[0] === '-';
      t = t.slice(1);
    }
    let big: bigint;
    if (t.startsWith('0b')) big = BigInt(t);
    else if (t.startsWith('0x')) big = BigInt(t);
    else if (t.startsWith('0o')) big = BigInt(t);
    else big = BigInt(t);
    if (neg) big = -big;
    const n = Number(big);
    return Number.isSafeInteger(n) ? n : big;
  }
  if (NULL.test(text)) return null;
  if (TIMESTAMP.test(text)) return new PyDate(text);
  return text;
}

function keyText(node: unknown): string {
  if (isScalar(node)) return scalarText(node.value ?? '');
  return String(node);
}

function convert(node: unknown, doc: Document, file: string, lc: LineCounter): PyValue {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return convert(node.resolve(doc), doc, file, lc);
  if (isScalar(node)) {
    const text = node.value === null || node.value === undefined ? '' : scalarText(node.value);
    if (node.type === 'PLAIN' && !node.tag) return resolvePlain(text);
    if (
      node.tag === 'tag:yaml.org,2002:int' ||
      node.tag === 'tag:yaml.org,2002:float' ||
      node.tag === 'tag:yaml.org,2002:bool' ||
      node.tag === 'tag:yaml.org,2002:null'
    ) {
      const v = resolvePlain(text);
      return node.tag.endsWith('float') && typeof v === 'number' ? new PyFloat(v) : v;
    }
    return text;
  }
  if (isYamlMap(node)) {
    const out: PyMap = {};
    for (const pair of node.items) {
      const k = keyText(pair.key);
      if (k === '<<') {
        const src = convert(pair.value, doc, file, lc);
        for (const part of Array.isArray(src) ? src : [src])
          if (part && typeof part === 'object' && !Array.isArray(part))
            for (const [mk, mv] of Object.entries(part)) if (!(mk in out)) out[mk] = mv as PyValue;
        continue;
      }
      Object.defineProperty(out, k, {
        value: convert(pair.value, doc, file, lc),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (isSeq(node)) return node.items.map((x) => convert(x, doc, file, lc));
  return null;
}

/**
 * Parse YAML text. `file` names the file in error messages. Syntax errors and duplicate
 * keys throw PIPELINE_INVALID with file and line.
 */
export function loadYaml(text: string, file: string): LoadedYaml {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    schema: 'failsafe',
    version: '1.2',
    uniqueKeys: true,
    lineCounter: lc,
    prettyErrors: true,
    merge: false,
  });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    const msg = e.message.split('\n')[0];
    throw new AppError('PIPELINE_INVALID', `${file}${line ? `:${line}` : ''}: invalid YAML: ${msg}`, {
      details: { file, line },
    });
  }
  const value = convert(doc.contents, doc, file, lc);
  const lineOf = (path: ReadonlyArray<string | number>): number | undefined => {
    let node: unknown = doc.contents;
    let line: number | undefined =
      node && (node as YamlNode).range ? lc.linePos((node as YamlNode).range![0]).line : undefined;
    for (const step of path) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isYamlMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(step));
        if (!pair) return line;
        const keyNode = pair.key as YamlNode | null;
        if (keyNode?.range) line = lc.linePos(keyNode.range[0]).line;
        node = pair.value;
      } else if (isSeq(node) && typeof step === 'number') {
        const item = node.items[step] as YamlNode | undefined;
        if (!item) return line;
        if (item.range) line = lc.linePos(item.range[0]).line;
        node = item;
      } else return line;
    }
    return line;
  };
  return { value, lineOf };
}

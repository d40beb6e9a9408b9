/**
 * The schema of a saved model bundle (bundle.json), checked on every load before anything
 * is rebuilt from it: a damaged or hand-edited bundle (a member weight null, an unknown
 * target transform, `features.steps` a string, an empty inputSchema) is refused with one
 * coded error naming every bad field, instead of crashing later or predicting nonsense.
 */
import { AppError } from '../core/errors.js';
import { v, type Issue, type Validator } from '../core/schema.js';

/** Target transforms a bundle may name (features/target-transform.ts). */
export const TARGET_TRANSFORMS = ['log1p', 'identity'] as const;

/** A JSON object with a string `kind` and an integer `formatVersion`; other keys kept. */
function tagged(kind?: string): Validator<Record<string, unknown>> {
  const inner = v.object(
    { kind: kind ? v.oneOf([kind]) : v.string({ nonEmpty: true }), formatVersion: v.number({ int: true, min: 1 }) },
    { open: true },
  );
  return (x, path, issues) => inner(x, path, issues);
}

const finite: Validator<number> = (x, path, issues) => {
  if (typeof x !== 'number' || !Number.isFinite(x))
    issues.push({ path, message: `expected a finite number, got ${JSON.stringify(x) ?? 'nothing'}` });
  return x as number;
};

const names = v.array(v.string({ nonEmpty: true }));

const featuresSchema = v.object(
  {
    kind: v.oneOf(['feature-pipeline']),
    formatVersion: v.number({ int: true, min: 1 }),
    config: v.object({}, { open: true }),
    steps: v.array(tagged(), { minLength: 1 }),
    outputColumns: v.array(v.string({ nonEmpty: true }), { minLength: 1 }),
    categoricalOutputs: v.record(v.number({ int: true, min: 0 })),
  },
  { open: true },
);

const memberSchema = v.object(
  {
    weight: finite,
    algo: v.string({ nonEmpty: true }),
    features: featuresSchema,
    estimator: tagged(),
  },
  { open: true },
);

const inputSchemaSchema = v.object(
  {
    target: v.string({ nonEmpty: true }),
    numeric: names,
    categorical: names,
    optionalNumeric: names,
    required: names,
  },
  { open: true },
);

const bundleSchema = v.object(
  {
    kind: v.string(),
    formatVersion: v.number(),
    inputSchema: inputSchemaSchema,
    target: v.object(
      { column: v.string({ nonEmpty: true }), transform: v.oneOf(TARGET_TRANSFORMS), offset: v.optional(finite, 0) },
      { open: true },
    ),
    members: v.array(memberSchema, { minLength: 1 }),
    createdAt: v.optional(v.string(), ''),
    algo: v.optional(v.string(), ''),
  },
  { open: true },
);

/**
 * Check a parsed bundle.json against the bundle schema (kind and formatVersion are checked
 * before, by the caller, so that an unknown version gets its own error). Throws
 * FORMAT_UNKNOWN listing every problem with its path (`members[0].weight: ...`).
 */
export function checkSavedBundle(saved: unknown, where: string): void {
  const issues: Issue[] = [];
  bundleSchema(saved, '', issues);
  const s = saved as { inputSchema?: { numeric?: unknown; categorical?: unknown; required?: unknown } };
  const inp = s.inputSchema;
  if (
    inp &&
    Array.isArray(inp.numeric) &&
    Array.isArray(inp.categorical) &&
    inp.numeric.length + inp.categorical.length === 0
  )
    issues.push({ path: 'inputSchema', message: 'lists no feature columns' });
  if (issues.length === 0) return;
  const shown = issues.slice(0, 8).map((i) => `${i.path || '(root)'}: ${i.message}`);
  throw new AppError(
    'FORMAT_UNKNOWN',
    `${where} is damaged (${shown.join('; ')}${issues.length > 8 ? `; and ${issues.length - 8} more` : ''}); retrain the model or restore it from the registry`,
    { details: { issues } },
  );
}

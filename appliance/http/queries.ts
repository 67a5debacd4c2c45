/**
 * Query-string rules for the API's list routes, and their translation into one 400 body that
 * names every bad parameter. Unknown parameters are refused rather than ignored: a mistyped
 * filter silently returning everything would mislead whoever reads the result.
 */
import { z } from 'zod';
import type { ErrorCode } from '../../core/errors.js';
import { MITIGATION_STATES } from '../../core/mitigation/mitigation.js';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

export interface ApiErrorBody {
  error: { code: ErrorCode; message: string; issues?: { parameter: string; message: string }[] };
}

export function errorBody(
  code: ErrorCode,
  message: string,
  issues?: ApiErrorBody['error']['issues'],
): ApiErrorBody {
  return { error: issues === undefined ? { code, message } : { code, message, issues } };
}

/** A repeated parameter arrives as an array; every scalar parameter must be given once. */
const once = z.string({ error: 'must be given once' });

const limit = once
  .regex(/^\d+$/, `must be a whole number from 1 to ${MAX_LIMIT}`)
  .transform(Number)
  .pipe(
    z
      .number()
      .min(1, `must be a whole number from 1 to ${MAX_LIMIT}`)
      .max(MAX_LIMIT, `must be a whole number from 1 to ${MAX_LIMIT}`),
  )
  .default(DEFAULT_LIMIT);

export const incidentsQuery = z.strictObject({
  state: z.enum(['open', 'closed'], { error: 'must be open or closed' }).optional(),
  limit,
});

export const mitigationsQuery = z.strictObject({
  incident: once.min(1, 'must name an incident id').optional(),
  /** One or more states: `state=active,failed` or `state=active&state=failed`. */
  state: z
    .union([z.string(), z.array(z.string())], { error: 'must be a state name' })
    .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((part) => part.split(',')))
    .pipe(z.array(z.enum(MITIGATION_STATES, { error: `must be one of ${MITIGATION_STATES.join(', ')}` })))
    .optional(),
  limit,
});

export const auditQuery = z.strictObject({
  afterSeq: once
    .regex(/^\d+$/, 'must be a whole number (the last seq already read, 0 for the start)')
    .transform(Number)
    .pipe(z.number().max(Number.MAX_SAFE_INTEGER, 'is too large'))
    .default(0),
  limit,
});

export const escalationsQuery = z.strictObject({
  /** One or more run states: `state=open,ending`. */
  state: z
    .union([z.string(), z.array(z.string())], { error: 'must be a state name' })
    .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((part) => part.split(',')))
    .pipe(z.array(z.enum(['open', 'ending', 'ended'], { error: 'must be one of open, ending, ended' })))
    .optional(),
  limit,
});

/** Who acts, as the audit will name them: `operator:<name>`. */
export const OPERATOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export const operatorBody = z
  .strictObject({
    operator: z
      .string()
      .regex(
        OPERATOR_NAME,
        'must be 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
      )
      .optional(),
  })
  .nullish();

export type QueryParse<T> = { ok: true; value: T } | { ok: false; body: ApiErrorBody };

export function parseQuery<T>(schema: z.ZodType<T>, query: unknown): QueryParse<T> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ parameter: key, message: 'is not a parameter of this route' }));
    }
    return [{ parameter: String(issue.path[0] ?? ''), message: issue.message }];
  });
  const message = `invalid query: ${issues.map((i) => `${i.parameter} ${i.message}`).join('; ')}`;
  return { ok: false, body: errorBody('FG_ERR_HTTP_BAD_REQUEST', message, issues) };
}

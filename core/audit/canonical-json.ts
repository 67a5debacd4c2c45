/**
 * One byte-exact text for a JSON value, so that a hash computed today and one recomputed from
 * a database row years later agree: object keys sorted by UTF-16 code unit, no whitespace,
 * properties whose value is undefined left out (as JSON.stringify does).
 *
 * Input must already be plain JSON data (see toJsonValue); this function does not call toJSON.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    // Strings, finite numbers and booleans serialise the same way everywhere; JSON.stringify
    // also maps NaN and Infinity to null, as a JSON round trip would.
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The value as it will read back from storage: dates become strings, undefined properties
 * vanish, class instances become plain objects. Hashing this form keeps a stored entry
 * verifiable after a JSON round trip.
 */
export function toJsonValue(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}

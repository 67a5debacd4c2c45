/**
 * Secrets never reach the audit log: commands and requests are stored as sent, except for the
 * values of credentials, which are replaced by "[REDACTED]". The audit is exported and shown to
 * people who must not learn an API token from it.
 *
 * What counts as a credential: HTTP Authorization headers (any scheme), headers and parameters
 * named like a key, token, secret or password (`X-Auth-Key: ...`, `api_key=...`, `"token": "..."`),
 * and passwords inside URLs (`https://user:pass@host`).
 */
export const REDACTED = '[REDACTED]';

const SECRET_NAME = String.raw`(?:[\w-]*(?:token|secret|passw(?:or)?d|api[_-]?key|auth[_-]?key|access[_-]?key|private[_-]?key|credential)[\w-]*)`;

const PATTERNS: readonly [RegExp, string][] = [
  // Authorization: Bearer abc / Basic abc / token abc (the scheme stays, it is no secret); an
  // already masked "***" stays as it is, so previews and audit entries read the same
  [
    /(authorization\s*[:=]\s*(?:bearer|basic|token|digest)\s+)(?!\*\*\*(?:[\s,;"']|$))[^\s,;"']+/gi,
    `$1${REDACTED}`,
  ],
  [
    /(authorization\s*[:=]\s*)(?!(?:bearer|basic|token|digest)\s)(?!\*\*\*(?:[\s,;"']|$))[^\s,;"']+/gi,
    `$1${REDACTED}`,
  ],
  // "token": "abc" (JSON)
  [new RegExp(String.raw`("${SECRET_NAME}"\s*:\s*")[^"]*(")`, 'gi'), `$1${REDACTED}$2`],
  // X-Auth-Key: abc, api_key=abc, --password abc
  [new RegExp(String.raw`(\b${SECRET_NAME}\s*[:=]\s*)[^\s,;&"']+`, 'gi'), `$1${REDACTED}`],
  [new RegExp(String.raw`(--${SECRET_NAME}[\s=]+)[^\s]+`, 'gi'), `$1${REDACTED}`],
  // scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^/\s@]+(@)/gi, `$1${REDACTED}$2`],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) {
    out = out.replace(pattern, replacement);
  }
  return out;
}

const SECRET_FIELD = new RegExp(`^${SECRET_NAME}$`, 'i');

/**
 * A copy of a configuration-like value with every field named like a credential replaced by
 * "[REDACTED]" (paths to credential files, `...File`, stay: they are no secret). For printing
 * effective configurations.
 */
export function redactSecretFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecretFields);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      SECRET_FIELD.test(key) && !/file$/i.test(key) && typeof v === 'string'
        ? REDACTED
        : redactSecretFields(v);
  }
  return out;
}

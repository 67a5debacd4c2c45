/**
 * RFC 8955 section 4.2.1 operator bytes. Numeric: `e a len len 0 lt gt eq`; bitmask:
 * `e a len len 0 0 not m`. `e` ends the list, `a` ANDs the term with the previous ones, `len`
 * is log2 of the value's byte count.
 */
import { WireError } from '../../core/errors.js';
import { need, readUint, unencodable, writeUint } from './bytes.js';
import type { BitmaskTerm, NumericTerm, ValueLength } from './flowspec-types.js';

export const OP_END = 0x80;
export const OP_AND = 0x40;
const OP_LEN_MASK = 0x30;
export const OP_LT = 0x04;
export const OP_GT = 0x02;
export const OP_EQ = 0x01;
export const OP_NOT = 0x02;
export const OP_MATCH = 0x01;
/** The bit that must be zero in a numeric operator. */
const NUMERIC_RESERVED = 0x08;
/** The bits that must be zero in a bitmask operator. */
const BITMASK_RESERVED = 0x0c;

const LENGTH_CODE: Readonly<Record<ValueLength, number>> = { 1: 0x00, 2: 0x10, 4: 0x20, 8: 0x30 };

/** The fewest bytes that hold `value`. */
export function minimalLength(value: number): ValueLength {
  if (value < 0x100) return 1;
  if (value < 0x10000) return 2;
  if (value < 0x100000000) return 4;
  return 8;
}

function valueLength(term: { value: number; length?: ValueLength }, what: string): ValueLength {
  const { value } = term;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw unencodable(`${what} value`, value, 'expected an unsigned integer');
  }
  const min = minimalLength(value);
  const length = term.length ?? min;
  if (!(length in LENGTH_CODE) || length < min) {
    throw unencodable(`${what} value`, value, `does not fit the value length ${length} (1, 2, 4 or 8 bytes)`);
  }
  return length;
}

/** Bytes `terms` take on the wire. */
export function termsSize(terms: readonly { value: number; length?: ValueLength }[], what: string): number {
  let size = 0;
  for (const term of terms) size += 1 + valueLength(term, what);
  return size;
}

/** The operator byte of a numeric term (with `e` set on the last term, `a` clear on the first). */
export function numericOperator(term: NumericTerm, first: boolean, last: boolean, what: string): number {
  let op = LENGTH_CODE[valueLength(term, what)];
  if (last) op |= OP_END;
  if (term.and && !first) op |= OP_AND;
  if (term.lt) op |= OP_LT;
  if (term.gt) op |= OP_GT;
  if (term.eq) op |= OP_EQ;
  return op;
}

export function bitmaskOperator(term: BitmaskTerm, first: boolean, last: boolean, what: string): number {
  let op = LENGTH_CODE[valueLength(term, what)];
  if (last) op |= OP_END;
  if (term.and && !first) op |= OP_AND;
  if (term.not) op |= OP_NOT;
  if (term.match) op |= OP_MATCH;
  return op;
}

/** Writes terms (operator byte, value) from `offset`; returns the offset after them. */
export function writeTerms(
  out: Uint8Array,
  offset: number,
  terms: readonly (NumericTerm | BitmaskTerm)[],
  bitmask: boolean,
  what: string,
): number {
  let at = offset;
  terms.forEach((term, i) => {
    const first = i === 0;
    const last = i === terms.length - 1;
    const op = bitmask
      ? bitmaskOperator(term as BitmaskTerm, first, last, what)
      : numericOperator(term as NumericTerm, first, last, what);
    const length = 1 << ((op & OP_LEN_MASK) >> 4);
    out[at] = op;
    writeUint(out, at + 1, length, term.value);
    at += 1 + length;
  });
  return at;
}

interface DecodedTerms<T> {
  terms: T[];
  end: number;
}

function readTerms<T>(
  bytes: Uint8Array,
  offset: number,
  end: number,
  what: string,
  reserved: number,
  make: (op: number, first: boolean, value: number, length: ValueLength) => T,
): DecodedTerms<T> {
  const terms: T[] = [];
  let at = offset;
  for (;;) {
    need(end, at, 1, `${what} operator`);
    const op = bytes[at]!;
    if ((op & reserved) !== 0) {
      throw new WireError(
        'FG_ERR_WIRE_VALUE',
        `${what} operator 0x${op.toString(16).padStart(2, '0')} sets a bit that must be zero`,
        at,
        { what, op },
      );
    }
    const length = (1 << ((op & OP_LEN_MASK) >> 4)) as ValueLength;
    need(end, at + 1, length, `${what} value`);
    const value = readUint(bytes, at + 1, length, `${what} value`);
    terms.push(make(op, terms.length === 0, value, length));
    at += 1 + length;
    if ((op & OP_END) !== 0) return { terms, end: at };
  }
}

function withLength<T extends { value: number }>(term: T, length: ValueLength): T & { length?: ValueLength } {
  // Only a wider-than-needed length is kept, so decode(encode(x)) equals x for minimal encodings.
  return length > minimalLength(term.value) ? { ...term, length } : term;
}

/** Reads numeric terms up to and including the one with the end bit. */
export function readNumericTerms(
  bytes: Uint8Array,
  offset: number,
  end: number,
  what: string,
): DecodedTerms<NumericTerm> {
  return readTerms(bytes, offset, end, what, NUMERIC_RESERVED, (op, first, value, length) =>
    withLength(
      {
        // The first term's AND bit MUST be treated as unset (RFC 8955 section 4.2.1.1).
        and: !first && (op & OP_AND) !== 0,
        lt: (op & OP_LT) !== 0,
        gt: (op & OP_GT) !== 0,
        eq: (op & OP_EQ) !== 0,
        value,
      },
      length,
    ),
  );
}

export function readBitmaskTerms(
  bytes: Uint8Array,
  offset: number,
  end: number,
  what: string,
): DecodedTerms<BitmaskTerm> {
  return readTerms(bytes, offset, end, what, BITMASK_RESERVED, (op, first, value, length) =>
    withLength(
      { and: !first && (op & OP_AND) !== 0, not: (op & OP_NOT) !== 0, match: (op & OP_MATCH) !== 0, value },
      length,
    ),
  );
}

/** Term constructors for the common shapes. */
export const numeric = {
  eq: (value: number, and = false): NumericTerm => ({ and, lt: false, gt: false, eq: true, value }),
  ge: (value: number, and = false): NumericTerm => ({ and, lt: false, gt: true, eq: true, value }),
  le: (value: number, and = false): NumericTerm => ({ and, lt: true, gt: false, eq: true, value }),
  gt: (value: number, and = false): NumericTerm => ({ and, lt: false, gt: true, eq: false, value }),
  lt: (value: number, and = false): NumericTerm => ({ and, lt: true, gt: false, eq: false, value }),
};

/**
 * A numeric term from an operator byte and its value, as APIs that carry the operator byte
 * apart from the value (GoBGP's FlowSpecComponentItem) hand them over; undefined when the
 * operator sets a bit that must be zero.
 */
export function numericTermOf(op: number, value: number, first: boolean): NumericTerm | undefined {
  if ((op & ~0xff) !== 0 || (op & NUMERIC_RESERVED) !== 0) return undefined;
  const term: NumericTerm = {
    and: !first && (op & OP_AND) !== 0,
    lt: (op & OP_LT) !== 0,
    gt: (op & OP_GT) !== 0,
    eq: (op & OP_EQ) !== 0,
    value,
  };
  return withLength(term, (1 << ((op & OP_LEN_MASK) >> 4)) as ValueLength);
}

export function bitmaskTermOf(op: number, value: number, first: boolean): BitmaskTerm | undefined {
  if ((op & ~0xff) !== 0 || (op & BITMASK_RESERVED) !== 0) return undefined;
  const term: BitmaskTerm = {
    and: !first && (op & OP_AND) !== 0,
    not: (op & OP_NOT) !== 0,
    match: (op & OP_MATCH) !== 0,
    value,
  };
  return withLength(term, (1 << ((op & OP_LEN_MASK) >> 4)) as ValueLength);
}

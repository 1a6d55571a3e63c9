/**
 * Parameter encoding owned by the core. Every value goes to the driver as text (or NULL) and
 * the SQL casts it, because pg, postgres.js and PGlite each encode JS arrays, JSON strings,
 * bytea and int8 differently (docs/architecture.md has the table). Arrays travel as
 * PostgreSQL array literals, which array_in parses in one pass on the server.
 */
import { PgQueueError, invalidArgument } from './errors.js';

function quoteElement(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `{"a","b",NULL}` for a `$n::text[]` parameter. Every element is quoted, so "NULL" stays a string. */
export function textArray(values: readonly (string | null)[]): string {
  let out = '{';
  // A batch usually repeats its values (one entrypoint for all its jobs): quote each run once.
  let previous: string | undefined;
  let quoted = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) out += ',';
    if (value === null || value === undefined) {
      out += 'NULL';
    } else {
      if (value !== previous) {
        previous = value;
        quoted = quoteElement(value);
      }
      out += quoted;
    }
  }
  return `${out}}`;
}

/** `{1,2,NULL}` for `$n::int[]`, `$n::bigint[]` or `$n::float8[]`; only finite numbers pass. */
export function numberArray(values: readonly (number | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) out += ',';
    if (value === null || value === undefined) {
      out += 'NULL';
    } else if (Number.isFinite(value)) {
      out += String(value);
    } else {
      throw invalidArgument(`expected a finite number, got ${String(value)}`);
    }
  }
  return `${out}}`;
}

/** Bytes as the hex text that `decode(x, 'hex')` reads. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Converting JSON payloads to UTF-8 in groups of about this many characters bounds the temporary strings. */
const PAYLOAD_GROUP_CHARS = 64 * 1024;

/**
 * The payloads of a batch as one `{hex,hex,NULL}` literal for `$n::text[]`, each element decoded
 * by `decode(x, 'hex')`. Bytes are stored as given; anything else as its JSON text in UTF-8, which
 * is what PgQueuer's Python workers read as well. Hex keeps the bytes exact whatever the database
 * encoding, and hex digits need no quoting inside the literal.
 *
 * JSON texts are converted in groups: one Buffer and one `toString('hex')` per ~64 KiB instead of
 * one per job, then sliced per job. Per job, the Buffer round trip cost ~2 µs, which was most of
 * the library's own time in a 1,000-job enqueue (docs/benchmarks.md).
 *
 * `where(i)` names job i in error messages.
 */
export function payloadHexArray(payloads: readonly unknown[], maxBytes: number, where: (i: number) => string): string {
  const parts = new Array<string>(payloads.length);
  let group: number[] = [];
  let texts: string[] = [];
  let groupChars = 0;
  const flush = () => {
    const joined = texts.join('');
    const hex = Buffer.from(joined, 'utf8').toString('hex');
    // All ASCII: one byte per character, so a text's slice is two hex digits per character.
    const ascii = hex.length === 2 * joined.length;
    let at = 0;
    for (let k = 0; k < group.length; k++) {
      const digits = 2 * (ascii ? texts[k]!.length : Buffer.byteLength(texts[k]!, 'utf8'));
      parts[group[k]!] = hex.slice(at, at + digits);
      at += digits;
    }
    group = [];
    texts = [];
    groupChars = 0;
  };
  for (let i = 0; i < payloads.length; i++) {
    const payload = payloads[i];
    if (payload === undefined || payload === null) {
      parts[i] = 'NULL';
    } else if (payload instanceof Uint8Array) {
      checkPayloadSize(payload.byteLength, maxBytes, where, i);
      parts[i] = bytesToHex(payload);
    } else {
      const json = toJson(payload, `${where(i)}: payload`);
      // UTF-8 takes 1 to 3 bytes per UTF-16 unit: count exactly only when the limit is in that range.
      if (json.length * 3 > maxBytes) checkPayloadSize(Buffer.byteLength(json, 'utf8'), maxBytes, where, i);
      group.push(i);
      texts.push(json);
      groupChars += json.length;
      if (groupChars >= PAYLOAD_GROUP_CHARS) flush();
    }
  }
  if (group.length > 0) flush();
  return `{${parts.join(',')}}`;
}

function checkPayloadSize(size: number, maxBytes: number, where: (i: number) => string, i: number): void {
  if (size > maxBytes) {
    throw new PgQueueError(
      'PAYLOAD_TOO_LARGE',
      `${where(i)}: payload is ${size} bytes, over the limit of ${maxBytes} bytes. Store large data ` +
        `elsewhere and enqueue a reference to it, or raise maxPayloadBytes.`,
    );
  }
}

/**
 * JSON.stringify that refuses what would not round-trip (functions, symbols, BigInt, cycles).
 * `what` names the value in the error, e.g. "enqueue: job 3: payload".
 */
export function toJson(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new PgQueueError(
      'PAYLOAD_NOT_SERIALIZABLE',
      `${what} cannot be serialised to JSON (${(error as Error).message}). Pass plain data ` +
        `(objects, arrays, strings, numbers, booleans, null) or a Uint8Array of bytes.`,
      { cause: error },
    );
  }
  if (json === undefined) {
    throw new PgQueueError(
      'PAYLOAD_NOT_SERIALIZABLE',
      `${what} of type ${typeof value} cannot be serialised to JSON. Pass plain data or a Uint8Array.`,
    );
  }
  return json;
}

/** Parses a bigint id that the SQL returned as text. Ids stay exact up to 2^53 - 1. */
export function parseId(value: unknown): number {
  const id = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(id)) {
    throw new PgQueueError('DATABASE_ERROR', `job id ${String(value)} is not a safe integer`);
  }
  return id;
}

/** Parses a `bigint[]` returned as text (`{1,2,3}`, or NULL for none) into ids. */
export function parseIdArray(value: unknown): number[] {
  if (value === null || value === undefined || value === '{}') return [];
  if (typeof value !== 'string' || !value.startsWith('{') || !value.endsWith('}')) {
    throw new PgQueueError('DATABASE_ERROR', `expected an id array, got ${typeof value}`);
  }
  return value.slice(1, -1).split(',').map(parseId);
}

/** bytea as the three clients return it: Buffer (pg, postgres.js), Uint8Array (PGlite), or `\x…` text. */
export function parseBytes(value: unknown): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string' && value.startsWith('\\x')) return new Uint8Array(Buffer.from(value.slice(2), 'hex'));
  throw new PgQueueError('DATABASE_ERROR', `expected bytea, got ${typeof value}`);
}

/** Normalises a numeric result column that a client may return as number, string or bigint. */
export function parseNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}


import { describe, expect, it } from 'vitest';
import { PgQueueError } from '../src/errors.js';
import { bytesToHex, numberArray, payloadHexArray, parseBytes, parseId, parseIdArray, textArray, toJson } from '../src/params.js';

describe('textArray', () => {
  it('quotes every element and escapes quotes and backslashes', () => {
    expect(textArray(['a', 'b"c', 'd\\e', 'NULL', null, ''])).toBe('{"a","b\\"c","d\\\\e","NULL",NULL,""}');
    expect(textArray([])).toBe('{}');
    // Runs of one value are quoted once and reused, across NULLs too.
    expect(textArray(['x"', 'x"', null, 'x"', 'y', 'x"'])).toBe('{"x\\"","x\\"",NULL,"x\\"","y","x\\""}');
  });
});

describe('numberArray', () => {
  it('writes finite numbers and NULL, and refuses NaN and infinities', () => {
    expect(numberArray([1, -2, 0.5, null])).toBe('{1,-2,0.5,NULL}');
    expect(() => numberArray([Number.NaN])).toThrow(PgQueueError);
    expect(() => numberArray([Number.POSITIVE_INFINITY])).toThrow(/finite/);
  });
});

describe('payload encoding', () => {
  const where = (i: number) => `job ${i}`;
  /** The payload array literal back as one Buffer per job (null for NULL). */
  const decode = (literal: string) =>
    literal
      .slice(1, -1)
      .split(',')
      .map((hex) => (hex === 'NULL' ? null : Buffer.from(hex, 'hex')));

  it('keeps bytes as given and stores data as JSON text, in input order', () => {
    const bytes = Uint8Array.from([0, 255, 16]);
    const literal = payloadHexArray([bytes, { a: 'ü' }, undefined, 'text', null, [1, 2]], 100, where);
    expect(literal.startsWith('{00ff10,')).toBe(true);
    expect(decode(literal).map((b) => b && b.toString('utf8'))).toEqual([
      Buffer.from(bytes).toString('utf8'),
      '{"a":"ü"}',
      null,
      '"text"',
      null,
      '[1,2]',
    ]);
    expect(bytesToHex(bytes)).toBe('00ff10');
  });

  it('slices a batch mixing ASCII and multi-byte texts, across conversion groups', () => {
    // About 300 KiB of JSON: several 64 KiB groups, some all ASCII and some not.
    const payloads = Array.from({ length: 3000 }, (_, i) =>
      i % 7 === 0 ? { i, s: 'ü€😀'.repeat(i % 5) } : i % 11 === 0 ? new Uint8Array([i % 256]) : { i, pad: 'x'.repeat(i % 90) },
    );
    const decoded = decode(payloadHexArray(payloads, 1_000, where));
    expect(decoded).toHaveLength(payloads.length);
    decoded.forEach((bytes, i) => {
      const payload = payloads[i];
      if (payload instanceof Uint8Array) expect(new Uint8Array(bytes!)).toEqual(payload);
      else expect(JSON.parse(bytes!.toString('utf8'))).toEqual(payload);
    });
  });

  it('counts the limit in encoded bytes and names the job', () => {
    // '"üüü"' is 8 bytes in UTF-8: two quotes and three two-byte characters.
    expect(() => payloadHexArray(['ü'.repeat(3)], 7, where)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(payloadHexArray(['ü'.repeat(3)], 8, where)).toHaveLength(18);
    expect(() => payloadHexArray(['ok', new Uint8Array(9)], 8, where)).toThrow(/job 1: payload is 9 bytes/);
    expect(() => payloadHexArray(['x'.repeat(20)], 8, where)).toThrow(/job 0: payload is 22 bytes/);
    expect(() => payloadHexArray([1, { n: 1n }], 8, where)).toThrow(/job 1: payload cannot be serialised/);
  });

  it('names the reason a value cannot become JSON', () => {
    expect(() => toJson({ n: 1n }, 'payload')).toThrow(/BigInt/);
    expect(() => toJson(undefined, 'payload')).toThrow(expect.objectContaining({ code: 'PAYLOAD_NOT_SERIALIZABLE' }));
  });
});

describe('result parsing', () => {
  it('parses ids past 2^31 exactly and refuses unsafe ones', () => {
    expect(parseId('2147483653')).toBe(2147483653);
    expect(parseId(12)).toBe(12);
    expect(() => parseId('9007199254740993')).toThrow(PgQueueError);
  });

  it('parses id arrays returned as text, including none', () => {
    expect(parseIdArray('{1,2147483653,3}')).toEqual([1, 2147483653, 3]);
    expect(parseIdArray(null)).toEqual([]);
    expect(parseIdArray('{}')).toEqual([]);
    expect(() => parseIdArray('1,2')).toThrow(PgQueueError);
  });

  it('reads bytea from Buffers, Uint8Arrays and hex text', () => {
    expect(parseBytes(Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(Array.from(parseBytes('\\x0102')!)).toEqual([1, 2]);
    expect(parseBytes(null)).toBeNull();
  });
});

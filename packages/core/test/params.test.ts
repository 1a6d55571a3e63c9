import { describe, expect, it } from 'vitest';
import { PgQueueError } from '../src/errors.js';
import { bytesToHex, encodePayload, numberArray, parseBytes, parseId, textArray, toJson } from '../src/params.js';

describe('textArray', () => {
  it('quotes every element and escapes quotes and backslashes', () => {
    expect(textArray(['a', 'b"c', 'd\\e', 'NULL', null, ''])).toBe('{"a","b\\"c","d\\\\e","NULL",NULL,""}');
    expect(textArray([])).toBe('{}');
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
  it('keeps bytes as given and stores data as JSON text', () => {
    const bytes = Uint8Array.from([0, 255, 16]);
    expect(encodePayload(bytes, 10)).toBe(bytes);
    expect(Buffer.from(encodePayload({ a: 'ü' }, 100)!).toString('utf8')).toBe('{"a":"ü"}');
    expect(Buffer.from(encodePayload('text', 100)!).toString('utf8')).toBe('"text"');
    expect(encodePayload(undefined, 1)).toBeNull();
    expect(encodePayload(null, 1)).toBeNull();
    expect(bytesToHex(bytes)).toBe('00ff10');
  });

  it('counts the limit in encoded bytes', () => {
    expect(() => encodePayload('ü'.repeat(3), 7)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(encodePayload('ü'.repeat(3), 8)?.byteLength).toBe(8);
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

  it('reads bytea from Buffers, Uint8Arrays and hex text', () => {
    expect(parseBytes(Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(Array.from(parseBytes('\\x0102')!)).toEqual([1, 2]);
    expect(parseBytes(null)).toBeNull();
  });
});

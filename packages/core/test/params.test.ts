import { describe, expect, it } from 'vitest';
import { PgQueueError } from '../src/errors.js';
import { bytesToHex, encodePayloadHex, numberArray, parseBytes, parseId, parseIdArray, textArray, toJson } from '../src/params.js';

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
    const text = (hex: string | null) => Buffer.from(hex!, 'hex').toString('utf8');
    expect(encodePayloadHex(bytes, 10)).toBe('00ff10');
    expect(text(encodePayloadHex({ a: 'ü' }, 100))).toBe('{"a":"ü"}');
    expect(text(encodePayloadHex('text', 100))).toBe('"text"');
    expect(encodePayloadHex(undefined, 1)).toBeNull();
    expect(encodePayloadHex(null, 1)).toBeNull();
    expect(bytesToHex(bytes)).toBe('00ff10');
  });

  it('counts the limit in encoded bytes', () => {
    // '"üüü"' is 8 bytes in UTF-8: two quotes and three two-byte characters.
    expect(() => encodePayloadHex('ü'.repeat(3), 7)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(encodePayloadHex('ü'.repeat(3), 8)).toHaveLength(16);
    expect(() => encodePayloadHex(new Uint8Array(9), 8)).toThrow(/9 bytes/);
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

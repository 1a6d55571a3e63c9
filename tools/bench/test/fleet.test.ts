import { describe, expect, it } from 'vitest';
import { splitWorkers } from '../src/fleet.js';

describe('splitWorkers', () => {
  it('spreads workers over processes as evenly as possible', () => {
    expect(splitWorkers(8, 1)).toEqual([8]);
    expect(splitWorkers(8, 3)).toEqual([3, 3, 2]);
    expect(splitWorkers(2, 4)).toEqual([1, 1]);
  });
});

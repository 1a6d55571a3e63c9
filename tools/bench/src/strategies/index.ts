import { Queries, type Driver } from '@pgqueue/core';
import type { Strategy } from '../options.js';
import { AdvisoryLockCompletionQueries, PerJobCompletionQueries } from './before.js';

export const STRATEGY_LABELS: Record<Strategy | 'raw' | 'ceiling', string> = {
  before: 'before',
  'before-lock': 'before+lock',
  after: 'after',
  raw: 'raw',
  ceiling: 'ceiling',
};

/** The queries a worker uses: `after` is the core as shipped; the `before` variants swap completion only. */
export function queriesFor(strategy: Strategy, driver: Driver, schema: string): Queries {
  switch (strategy) {
    case 'after':
      return new Queries(driver, { schema });
    case 'before':
      return new PerJobCompletionQueries(driver, { schema });
    case 'before-lock':
      return new AdvisoryLockCompletionQueries(driver, { schema });
  }
}

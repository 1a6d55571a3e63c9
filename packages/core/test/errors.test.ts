import { describe, expect, it } from 'vitest';
import { PgQueueError, toPgQueueError } from '../src/errors.js';

describe('toPgQueueError', () => {
  const context = { operation: 'enqueue', driver: 'pg' };
  const pgError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

  it('maps SQLSTATEs to stable codes and keeps the state and the cause', () => {
    const missing = pgError('42P01', 'relation "pgqueuer" does not exist');
    const error = toPgQueueError(missing, { ...context, installHint: 'installSchema(driver)' });
    expect(error).toMatchObject({ code: 'SCHEMA_NOT_INSTALLED', sqlState: '42P01', cause: missing });
    expect(error.message).toContain('installSchema(driver)');
    const duplicate = Object.assign(pgError('23505'), { constraint: 'pgqueuer_dedupe_idx' });
    expect(toPgQueueError(duplicate, context)).toMatchObject({ code: 'DUPLICATE_JOB', sqlState: '23505' });
    const postgresJsDuplicate = Object.assign(pgError('23505'), { constraint_name: 'app_pgqueuer_dedupe_idx' });
    expect(toPgQueueError(postgresJsDuplicate, context).code).toBe('DUPLICATE_JOB');
    // A unique violation that is not the dedupe key (a catalog race, a user's own constraint) says so.
    const other = toPgQueueError(Object.assign(pgError('23505'), { constraint: 'pg_type_typname_nsp_index' }), context);
    expect(other).toMatchObject({ code: 'DATABASE_ERROR', sqlState: '23505' });
    expect(other.message).toContain('pg_type_typname_nsp_index');
    expect(toPgQueueError(pgError('40P01'), context)).toMatchObject({ code: 'DEADLOCK', sqlState: '40P01' });
    expect(toPgQueueError(pgError('28P01'), context)).toMatchObject({ code: 'CONNECTION_FAILED', sqlState: '28P01' });
    expect(toPgQueueError(pgError('22012'), context)).toMatchObject({ code: 'DATABASE_ERROR', sqlState: '22012' });
  });

  it('recognises socket errors as connection failures', () => {
    expect(toPgQueueError(pgError('ECONNREFUSED'), context).code).toBe('CONNECTION_FAILED');
    expect(toPgQueueError(pgError('ECONNREFUSED'), context).sqlState).toBeUndefined();
  });

  it('passes PgQueueErrors through and recognises them across copies of the package', () => {
    const original = new PgQueueError('INVALID_ARGUMENT', 'x');
    expect(toPgQueueError(original, context)).toBe(original);
    expect(PgQueueError.isInstance(original)).toBe(true);
    expect(PgQueueError.isInstance(new Error('x'))).toBe(false);
    expect(PgQueueError.isInstance({ [Symbol.for('@pgqueue/core/PgQueueError')]: true })).toBe(true);
  });
});

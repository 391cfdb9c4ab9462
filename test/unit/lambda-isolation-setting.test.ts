/** HUB_LAMBDA_PROCESS_FUNCTIONS: which functions' execution environments run as processes of their own. */
import { describe, expect, it } from 'vitest';
import { processIsolation } from '../../infra/local/stack.js';

describe('HUB_LAMBDA_PROCESS_FUNCTIONS', () => {
  it('runs every function in worker threads when unset or empty', () => {
    expect(processIsolation(undefined)('batchIngest')).toBe('thread');
    expect(processIsolation(' , ')('batchIngest')).toBe('thread');
  });

  it('runs the named functions in processes, the others in threads', () => {
    const isolation = processIsolation('batchIngest, fanout');
    expect(isolation('batchIngest')).toBe('process');
    expect(isolation('fanout')).toBe('process');
    expect(isolation('submissions')).toBe('thread');
  });

  it('`*` names them all', () => {
    expect(processIsolation('*')('health')).toBe('process');
  });
});

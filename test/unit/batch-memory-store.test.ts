/** The in-memory BatchStore the ingest tests use keeps the port's contract (as the DynamoDB one does: test/integration/batches-store.test.ts). */
import { describeBatchStoreContract } from '../support/batch-store-contract.js';
import { MemoryBatchStore } from '../support/memory-batch-ports.js';

const store = new MemoryBatchStore();
describeBatchStoreContract('in memory', () => ({ store, add: async (batch) => store.add(batch) }));

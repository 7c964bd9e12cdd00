// memoryStore(): the shared store contract, and what is particular to keeping everything in one process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { memoryStore } from '../../../src/proxy/index.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('memoryStore', () => memoryStore({ sweepIntervalMs: 100 }));

void describe('memoryStore', () => {
  void it('keeps only the last maxFeedEntries feed entries', async () => {
    const store = memoryStore({ maxFeedEntries: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await store.publish({ sessionId: `s${i}`, userId: 'u', reason: 'revoked', at: Date.now() }));
    }
    assert.deepEqual(
      (await store.readFeed('0-0', 100)).map((e) => e.id),
      ids.slice(2),
    );
    await store.close();
  });

  void it('refuses options that are not positive whole numbers', () => {
    assert.throws(() => memoryStore({ maxFeedEntries: 0 }), /maxFeedEntries must be a positive whole number/);
    assert.throws(() => memoryStore({ sweepIntervalMs: 1.5 }), /sweepIntervalMs must be a positive whole number/);
  });

  void it('never keeps a process alive, even before close()', () => {
    const script = `
      import { memoryStore } from './src/proxy/store/memory-store.ts';
      const store = memoryStore({ sweepIntervalMs: 50 });
      await store.follow(() => {}, new AbortController().signal);
      await store.lease('k', 'o', 60_000);
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 10_000,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
  });
});

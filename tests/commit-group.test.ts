// Group commit (solutions/runtime/commit-group.ts) on a real SQLite database: deliveries of one
// turn share a transaction, each in its own savepoint; one that throws rolls back only its own
// writes, and every promise settles only once the shared transaction has committed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitGroup } from '../solutions/runtime/commit-group.ts';
import { openServiceDatabase, type ServiceDatabase } from '../solutions/runtime/database.ts';

describe('CommitGroup', () => {
  let db: ServiceDatabase | undefined;
  let dir: string | undefined;
  afterEach(() => {
    db?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function open() {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commit-group-'));
    db = openServiceDatabase(dir, 'test');
    db.exec('CREATE TABLE seen (n INTEGER NOT NULL)');
    return db;
  }

  it('commits the group once; a delivery that throws loses only its own writes', async () => {
    const database = open();
    const insert = database.prepare('INSERT INTO seen (n) VALUES (?)');
    const count = () => (database.prepare('SELECT COUNT(*) AS n FROM seen').get() as { n: number }).n;
    let commits = 0;
    const group = new CommitGroup(database, () => commits++);
    const results = await Promise.allSettled([
      group.run(() => (insert.run(1), 'one')),
      group.run(() => {
        insert.run(2);
        throw new Error('not ready');
      }),
      group.run(() => (insert.run(3), 'three')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'one' });
    expect(commits).toBe(1);
    expect(database.prepare('SELECT n FROM seen ORDER BY n').all()).toEqual([{ n: 1 }, { n: 3 }]);
    expect(count()).toBe(2);
  });

  it('settles a delivery only after its transaction committed: it is then visible to another connection', async () => {
    const database = open();
    const group = new CommitGroup(database, () => {});
    await group.run(() => database.prepare('INSERT INTO seen (n) VALUES (?)').run(7));
    const reader = openServiceDatabase(dir as string, 'test');
    try {
      expect(reader.prepare('SELECT n FROM seen').all()).toEqual([{ n: 7 }]);
    } finally {
      reader.close();
    }
  });
});

// The log writes its LogEntry answers ({entryId: entry}) straight into a buffer for speed; they must be byte for
// byte the UTF-8 of JSON.stringify of the same object, whatever the checkpoint holds (newlines, the em dash of
// signed-note signature lines, quotes and backslashes in an origin), for proofs of any length, and across
// answers that alternate between checkpoints.
import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type LogEntryJson, logEntryResponse } from '../../src/formats/rekor-entry.js';

function entry(checkpoint: string, hashes: number): { id: string; e: LogEntryJson } {
  const index = randomInt(0, 2 ** 40);
  return {
    id: randomBytes(40).toString('hex'),
    e: {
      body: randomBytes(randomInt(1, 900)).toString('base64'),
      integratedTime: randomInt(1, 2 ** 40),
      logID: randomBytes(32).toString('hex'),
      logIndex: index,
      verification: {
        signedEntryTimestamp: randomBytes(72).toString('base64'),
        inclusionProof: {
          logIndex: index,
          rootHash: randomBytes(32).toString('hex'),
          treeSize: index + randomInt(1, 1000),
          hashes: Array.from({ length: hashes }, () => randomBytes(32).toString('hex')),
          checkpoint,
        },
      },
    },
  };
}

describe('LogEntry response body', () => {
  it('is the UTF-8 of JSON.stringify of {entryId: entry}', () => {
    const checkpoints = [
      'rekor.example - 123\n42\nq83y1Rq=\n\n— rekor.example AbCdEf==\n',
      'origin with "quotes" and \\ backslash and tab\t\n1\nAAAA\n\n— x y\n',
      '',
    ];
    for (let i = 0; i < 300; i++) {
      const { id, e } = entry(checkpoints[i % checkpoints.length], i % 30);
      expect(logEntryResponse(id, e).equals(Buffer.from(JSON.stringify({ [id]: e })))).toBe(true);
    }
  });

  it('writes an entry without an inclusion proof the same way too', () => {
    const { id, e } = entry('x', 3);
    delete e.verification.inclusionProof;
    expect(logEntryResponse(id, e).toString()).toBe(JSON.stringify({ [id]: e }));
  });
});

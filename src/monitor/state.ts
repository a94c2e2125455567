// The monitor's saved state: the last checkpoint it verified and scanned up to, with the right edge of the tree at
// that size (the compact range: at most log2(size) subtree hashes). A restart resumes from it without reading old
// entries again, and every new checkpoint is checked against it: the new entries appended to the saved edge must
// give the new root, which is what a consistency proof shows, computed here from the entries themselves.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../crypto/index.js';
import { CompactRange, compactSubtrees } from '../merkle/index.js';

export interface MonitorState {
  /** The tiles prefix the state is for; a state for another log is refused. */
  logUrl: string;
  origin: string;
  size: number;
  /** Base64 root hash of the verified checkpoint. */
  rootHash: string;
  /** The verified signed checkpoint, as the log served it. */
  checkpoint: string;
  /** Hex subtree roots of the compact range over [0, size). */
  edge: string[];
}

export async function loadState(path: string): Promise<MonitorState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const s = JSON.parse(text) as MonitorState;
  if (
    typeof s.logUrl !== 'string' ||
    !Number.isSafeInteger(s.size) ||
    !Array.isArray(s.edge) ||
    s.edge.length !== compactSubtrees(s.size).length
  )
    throw new Error(`${path} is not a monitor state file`);
  return s;
}

export async function saveState(path: string, s: MonitorState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
}

export function edgeOf(s: MonitorState | undefined): CompactRange {
  return s
    ? CompactRange.fromSubtrees(
        s.size,
        s.edge.map((h) => Buffer.from(h, 'hex')),
      )
    : CompactRange.empty();
}

import fs from 'node:fs';
import type { StagedContent } from '../../src/domain/model';

/** The bytes staged content holds, wherever the staging area kept them (memory or file). */
export function stagedBytesOf(content: StagedContent): Buffer {
  return content.staged.kind === 'memory' ? content.staged.bytes : fs.readFileSync(content.staged.path);
}

/** The staged file of content staged as a file; fails the test when it was kept in memory. */
export function stagedFileOf(content: StagedContent): string {
  if (content.staged.kind !== 'file')
    throw new Error('expected content staged as a file, found it in memory');
  return content.staged.path;
}

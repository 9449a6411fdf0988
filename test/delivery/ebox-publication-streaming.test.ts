import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ManualClock } from '../../src/clock/clock';
import { EboxPublicationClient } from '../../src/delivery/ebox-publication-client';
import { EboxTokenClient } from '../../src/delivery/ebox-token-client';
import { startFakeEbox } from './fake-ebox';
import { citizenItem, settingsFor } from './publication-fixtures';

const CHUNK = 64 * 1024;
// Large enough that loopback socket buffers (a few MiB, client and server in one process) are a small share.
const TOTAL = 48 * 1024 * 1024;

function chunkAt(index: number): Buffer {
  return Buffer.alloc(CHUNK, index % 251);
}

/** A 48 MiB document generated chunk by chunk; `produced` says how much was handed out so far. */
function generatedDocument() {
  const hash = createHash('sha256');
  for (let index = 0; index < TOTAL / CHUNK; index += 1) hash.update(chunkAt(index));
  const state = { produced: 0 };
  return {
    state,
    sha256: hash.digest(),
    open(): NodeJS.ReadableStream {
      let index = 0;
      return new Readable({
        read() {
          if (state.produced >= TOTAL) {
            this.push(null);
            return;
          }
          state.produced += CHUNK;
          this.push(chunkAt(index++));
        },
      });
    },
  };
}

describe('EboxPublicationClient with a large document', () => {
  it('streams it: the e-Box receives the first bytes long before the last ones are read', async () => {
    const document = generatedDocument();
    let producedAtFirstByte: number | undefined;
    let received = 0;
    let largestLead = 0;
    const receivedHash = createHash('sha256');
    const fake = await startFakeEbox(() => ({ status: 201, body: { messageId: 'big' } }), {
      onPartBytes: (name, chunk) => {
        if (name !== 'document') return;
        producedAtFirstByte ??= document.state.produced;
        received += chunk.length;
        receivedHash.update(chunk);
        largestLead = Math.max(largestLead, document.state.produced - received);
      },
    });
    try {
      const clock = new ManualClock('2026-03-01T10:00:00Z');
      const settings = settingsFor(fake.url);
      const client = new EboxPublicationClient(settings, new EboxTokenClient(settings, clock), clock);
      const item = citizenItem({
        document: {
          title: 'Big',
          fileName: 'big.bin',
          mime: undefined,
          sha256: document.sha256,
          open: document.open,
        },
        annexes: [],
      });

      await expect(client.publish(item)).resolves.toMatchObject({ messageId: 'big' });

      expect(received).toBe(TOTAL);
      expect(receivedHash.digest().equals(document.sha256)).toBe(true);
      expect(fake.requests[0].parts?.[1].contentType).toBe('application/octet-stream');
      // Back-pressure: reading never ran far ahead of what the e-Box had received (only socket buffers).
      expect(producedAtFirstByte).toBeLessThan(TOTAL / 4);
      expect(largestLead).toBeLessThan(TOTAL / 4);
      expect(fake.requests[0].headers['transfer-encoding']).toBe('chunked');
    } finally {
      await fake.close();
    }
  });
});

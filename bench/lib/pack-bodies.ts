import type { PreparedRequest } from './signed-requests';

/*
 * The prepared requests' bodies copied into one buffer, each request keeping a view of its part. Thousands
 * of separate body buffers are thousands of ArrayBuffers that every garbage collection of the load
 * generator tracks and sweeps, on the vCPUs the service under measure shares with it; one buffer is one.
 */

/** The same requests, their bodies views into one buffer. */
export function packBodies(requests: readonly PreparedRequest[]): PreparedRequest[] {
  const total = requests.reduce((sum, request) => sum + request.body.length, 0);
  const slab = Buffer.allocUnsafeSlow(total);
  let offset = 0;
  return requests.map((request) => {
    const start = offset;
    offset += request.body.copy(slab, start);
    return { contentType: request.contentType, body: slab.subarray(start, offset) };
  });
}

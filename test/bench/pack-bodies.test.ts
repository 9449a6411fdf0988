import { packBodies } from '../../bench/lib/pack-bodies';

describe('packBodies (the load generator keeps one buffer for every prepared body)', () => {
  const requests = [
    { contentType: 'text/xml; charset=utf-8', body: Buffer.from('<first/>') },
    { contentType: 'multipart/related; boundary="b"', body: Buffer.alloc(9000, 7) },
    { contentType: 'text/xml', body: Buffer.alloc(0) },
    { contentType: 'text/xml', body: Buffer.from('<last>é</last>') },
  ];

  it('keeps every request, in order, with the same content type and body bytes', () => {
    const packed = packBodies(requests);
    expect(packed.map((request) => request.contentType)).toEqual(
      requests.map((request) => request.contentType),
    );
    packed.forEach((request, index) => expect(request.body.equals(requests[index].body)).toBe(true));
  });

  it('gives every body as a view of one shared buffer, not a copy of its own', () => {
    const packed = packBodies(requests);
    const buffers = new Set(packed.map((request) => request.body.buffer));
    expect(buffers.size).toBe(1);
    expect(packed.map((request) => request.body.byteOffset)).toEqual([0, 8, 9008, 9008]);
    // The originals may go: changing one changes nothing packed.
    requests[0].body.fill(0);
    expect(packed[0].body.toString()).toBe('<first/>');
    requests[0].body.write('<first/>');
  });

  it('packs nothing into nothing', () => {
    expect(packBodies([])).toEqual([]);
  });
});

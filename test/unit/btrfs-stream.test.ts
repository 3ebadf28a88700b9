// Reading a btrfs send stream as it passes (base/btrfs/stream.ts), on streams built here command by command
// in the format btrfs-progs documents: the first command, CLONE sources, END, a --no-data stream's sizes,
// and the gate that refuses anything but the announced snapshot from its announced parent.
import { describe, expect, test } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExtentCounter, SEND_CMD, StreamGate, StreamParser, StreamRefused, streamHead } from '../../src/base/btrfs/stream.js';

const A = { UUID: 1, CTRANSID: 2, SIZE: 4, PATH: 15, DATA: 19, CLONE_UUID: 20, CLONE_CTRANSID: 21 };
const u = (s: string) => Buffer.from(s.replace(/-/g, ''), 'hex');
const U1 = '11111111-1111-1111-1111-111111111111';
const U2 = '22222222-2222-2222-2222-222222222222';
const U3 = '33333333-3333-3333-3333-333333333333';

function tlv(type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(type, 0);
  h.writeUInt16LE(data.length, 2);
  return Buffer.concat([h, data]);
}
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
function cmd(c: number, ...attrs: Buffer[]): Buffer {
  const body = Buffer.concat(attrs);
  const h = Buffer.alloc(10);
  h.writeUInt32LE(body.length, 0);
  h.writeUInt16LE(c, 4);
  return Buffer.concat([h, body]);
}
const header = (v = 1) => {
  const b = Buffer.alloc(17);
  b.write('btrfs-stream\0', 0, 'latin1');
  b.writeUInt32LE(v, 13);
  return b;
};
const subvol = (name: string, uuid: string) => cmd(SEND_CMD.SUBVOL, tlv(A.PATH, Buffer.from(name)), tlv(A.UUID, u(uuid)), tlv(A.CTRANSID, u64(7)));
const snapshot = (name: string, uuid: string, parent: string) => cmd(SEND_CMD.SNAPSHOT, tlv(A.PATH, Buffer.from(name)), tlv(A.UUID, u(uuid)), tlv(A.CTRANSID, u64(9)), tlv(A.CLONE_UUID, u(parent)), tlv(A.CLONE_CTRANSID, u64(7)));
const write = (n: number) => cmd(15, tlv(A.PATH, Buffer.from('f')), tlv(A.DATA, Buffer.alloc(n, 0x61)));
const clone = (from: string) => cmd(SEND_CMD.CLONE, tlv(A.PATH, Buffer.from('f')), tlv(A.CLONE_UUID, u(from)), tlv(A.CLONE_CTRANSID, u64(7)));
const end = () => cmd(SEND_CMD.END);

/** Passes `bytes` through a gate in chunks of `chunk`; what came out, and the error if any. */
async function gate(bytes: Buffer, want: { name: string; uuid: string; parent: string | null }, chunk = 7): Promise<{ out: number; error: Error | null; complete: boolean }> {
  const g = new StreamGate(want);
  let out = 0;
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const error = await pipeline(Readable.from(parts), g, new Writable({ write: (c: Buffer, _e, d) => ((out += c.length), d()) })).then(
    () => null,
    (e: Error) => e,
  );
  return { out, error, complete: g.complete };
}

describe('the send stream reader', () => {
  test('commands in any chunking: the first, the clones, the end', () => {
    const stream = Buffer.concat([header(), snapshot('s2', U2, U1), write(300), clone(U1), clone(U2), end()]);
    for (const size of [1, 3, 17, 64, stream.length]) {
      const seen: number[] = [];
      const p = new StreamParser((c) => seen.push(c.cmd));
      for (let i = 0; i < stream.length; i += size) p.push(stream.subarray(i, i + size));
      expect(seen).toEqual([SEND_CMD.SNAPSHOT, 15, SEND_CMD.CLONE, SEND_CMD.CLONE, SEND_CMD.END]);
      expect(p.ended).toBe(true);
    }
    expect(streamHead(stream)).toMatchObject({ cmd: SEND_CMD.SNAPSHOT, path: 's2', uuid: U2, cloneUuid: U1, ctransid: 9 });
    expect(streamHead(Buffer.from('not a stream at all, no'))).toBeNull();
  });

  test('a --no-data stream: the data it announces', () => {
    const upd = (n: number) => cmd(SEND_CMD.UPDATE_EXTENT, tlv(A.PATH, Buffer.from('f')), tlv(18, u64(0)), tlv(A.SIZE, u64(n)));
    const c = new ExtentCounter();
    c.push(Buffer.concat([header(), subvol('s1', U1), upd(4096), upd(1 << 20), end()]));
    expect(c.bytes).toBe(4096 + (1 << 20));
  });

  test('the gate passes the announced stream whole', async () => {
    const full = Buffer.concat([header(), subvol('s1', U1), write(1000), clone(U1), end()]);
    expect(await gate(full, { name: 's1', uuid: U1, parent: null })).toEqual({ out: full.length, error: null, complete: true });
    const inc = Buffer.concat([header(2), snapshot('s2', U2, U1), clone(U1), clone(U2), end()]);
    expect(await gate(inc, { name: 's2', uuid: U2, parent: U1 })).toMatchObject({ error: null, complete: true });
    // Cut short: nothing refused, but not complete (the receiver then keeps nothing).
    expect(await gate(full.subarray(0, full.length - 15), { name: 's1', uuid: U1, parent: null })).toMatchObject({ error: null, complete: false });
  });

  test('the gate refuses any other stream', async () => {
    const refused = async (bytes: Buffer, want: { name: string; uuid: string; parent: string | null }, why: RegExp) => {
      const r = await gate(bytes, want);
      expect(r.error).toBeInstanceOf(StreamRefused);
      expect(r.error!.message).toMatch(why);
    };
    const full = (name: string, uuid: string, ...rest: Buffer[]) => Buffer.concat([header(), subvol(name, uuid), ...rest, end()]);
    await refused(full('s1', U1), { name: 's9', uuid: U1, parent: null }, /makes "s1", not the announced s9/);
    await refused(full('s1', U1), { name: 's1', uuid: U3, parent: null }, /UUID is 11111111.*not the announced 33333333/);
    await refused(full('s1', U1), { name: 's1', uuid: U1, parent: U2 }, /a full stream was announced as an incremental one/);
    await refused(Buffer.concat([header(), snapshot('s2', U2, U1), end()]), { name: 's2', uuid: U2, parent: null }, /incremental stream .* announced as a full one/);
    await refused(Buffer.concat([header(), snapshot('s2', U2, U3), end()]), { name: 's2', uuid: U2, parent: U1 }, /parent is 33333333.*not the announced 11111111/);
    // Another tenant's copy named as a clone source: its data would be cloned into this copy.
    await refused(full('s1', U1, clone(U3)), { name: 's1', uuid: U1, parent: null }, /clones from 33333333.*neither the snapshot nor its parent/);
    await refused(full('s1', U1, subvol('s2', U2)), { name: 's1', uuid: U1, parent: null }, /a second subvolume/);
    await refused(Buffer.concat([full('s1', U1), Buffer.from('more')]), { name: 's1', uuid: U1, parent: null }, /data after the end/);
    await refused(Buffer.from('GET / HTTP/1.1\r\n\r\n-padding-'), { name: 's1', uuid: U1, parent: null }, /not a btrfs send stream/);
    await refused(Buffer.concat([header(9), subvol('s1', U1)]), { name: 's1', uuid: U1, parent: null }, /version 9/);
  });
});

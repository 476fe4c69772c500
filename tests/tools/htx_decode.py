#!/usr/bin/env python3
"""htx_decode.py - decodes HTX1 batches (docs/export-format.md) to JSON Lines.

Reads kcat output written with `-f '%S %s'`-free binary framing: each input
file is one batch (or use --kcat FILE written by `kcat -C -f '%R%s'`, where
%R is the 4-byte big-endian length of the message). Prints one JSON object per
record, in the same form as `htsc run`: query, window_start, window_end (both
the packet time) and the columns. An independent implementation of the
format: the tests compare its output with htsc run's.
"""
import ipaddress
import json
import struct
import sys


def decode(buf):
    if buf[:4] != b"HTX1":
        raise ValueError("not an HTX1 batch: magic %r" % buf[:4])
    ncols, nrec, qlen = struct.unpack(">HIB", buf[4:11])
    off = 11
    query = buf[off:off + qlen].decode()
    off += qlen
    cols = []
    for _ in range(ncols):
        t, n = buf[off], buf[off + 1]
        cols.append((t, buf[off + 2:off + 2 + n].decode()))
        off += 2 + n
    nb = (ncols + 7) // 8
    out = []
    for _ in range(nrec):
        (ts,) = struct.unpack(">q", buf[off:off + 8])
        off += 8
        bm = buf[off:off + nb]
        off += nb
        row = {"query": query, "window_start": ts, "window_end": ts}
        for c, (t, name) in enumerate(cols):
            if not bm[c // 8] & (0x80 >> (c % 8)):
                row[name] = None
                continue
            if t == 1:
                row[name] = struct.unpack(">q", buf[off:off + 8])[0]; off += 8
            elif t == 2:
                row[name] = bool(buf[off]); off += 1
            elif t == 3:
                row[name] = str(ipaddress.IPv4Address(buf[off:off + 4])); off += 4
            elif t == 4:
                row[name] = str(ipaddress.IPv6Address(buf[off:off + 16])); off += 16
            elif t == 5:
                row[name] = ":".join("%02x" % b for b in buf[off:off + 6]); off += 6
            elif t == 6:
                (n,) = struct.unpack(">H", buf[off:off + 2])
                row[name] = buf[off + 2:off + 2 + n].decode("latin-1"); off += 2 + n
            else:
                raise ValueError("unknown type code %d" % t)
        out.append(row)
    if off != len(buf):
        raise ValueError("%d trailing bytes" % (len(buf) - off))
    return out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--kcat":
        data = open(sys.argv[2], "rb").read()
        off = 0
        while off < len(data):
            (n,) = struct.unpack(">I", data[off:off + 4])
            for r in decode(data[off + 4:off + 4 + n]):
                print(json.dumps(r, separators=(",", ":")))
            off += 4 + n
        return
    for path in sys.argv[1:]:
        for r in decode(open(path, "rb").read()):
            print(json.dumps(r, separators=(",", ":")))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""htx.py - read htsd's per-packet export (HTX1 batches) in Python.

HTX1 is the compact binary format htsd produces to Kafka for per-packet
queries (docs/export-format.md): up to 256 records of one query per Kafka
message, self-describing (column names and types in each batch). This
module turns a message's value into rows, the same dicts `htsc run` prints
as JSON (query, window_start, window_end = the packet time, then the
columns; absent values None, addresses and MACs as text, strings with one
character per byte, as the JSON escapes them).

With kafka-python or confluent-kafka:

    import htx
    for msg in consumer:                  # topic hts.export_headers
        for row in htx.decode(msg.value):
            print(row["ipv4.src"], row["tcp.dport"])

From the command line, on files of batches back to back (kcat -f '%s'), or
framed with their length (kcat -f '%R%s'), or standard input:

    kcat -C -t hts.export_headers -e -f '%s' | python3 readers/python/htx.py

Only the standard library; Python 3.7 or later. An implementation of the
format independent of htsd's C: the tests compare its rows with htsc run's.
`htsc decode` is the same reader in C.
"""
import ipaddress
import json
import struct
import sys

__all__ = ["decode", "decode_stream", "FormatError"]


class FormatError(ValueError):
    """Bytes that are not a whole HTX1 batch."""


def _batch(buf, off):
    """(rows, offset after the batch) for the batch at buf[off:]."""
    if buf[off:off + 4] != b"HTX1":
        raise FormatError("not an HTX1 batch at byte %d: magic %r" % (off, buf[off:off + 4]))
    try:
        ncols, nrec, qlen = struct.unpack_from(">HIB", buf, off + 4)
        off += 11
        query = buf[off:off + qlen].decode()
        off += qlen
        cols = []
        for _ in range(ncols):
            t, n = buf[off], buf[off + 1]
            if not 1 <= t <= 6:
                raise FormatError("unknown type code %d" % t)
            cols.append((t, buf[off + 2:off + 2 + n].decode()))
            off += 2 + n
        nb = (ncols + 7) // 8
        out = []
        for _ in range(nrec):
            (ts,) = struct.unpack_from(">q", buf, off)
            off += 8
            bm = buf[off:off + nb]
            off += nb
            row = {"query": query, "window_start": ts, "window_end": ts}
            for c, (t, name) in enumerate(cols):
                if not bm[c // 8] & (0x80 >> (c % 8)):
                    row[name] = None
                elif t == 1:
                    row[name] = struct.unpack_from(">q", buf, off)[0]
                    off += 8
                elif t == 2:
                    row[name] = bool(buf[off])
                    off += 1
                elif t == 3:
                    row[name] = str(ipaddress.IPv4Address(bytes(buf[off:off + 4])))
                    off += 4
                elif t == 4:
                    row[name] = str(ipaddress.IPv6Address(bytes(buf[off:off + 16])))
                    off += 16
                elif t == 5:
                    row[name] = ":".join("%02x" % b for b in buf[off:off + 6])
                    off += 6
                else:
                    (n,) = struct.unpack_from(">H", buf, off)
                    row[name] = bytes(buf[off + 2:off + 2 + n]).decode("latin-1")
                    off += 2 + n
            out.append(row)
    except (struct.error, IndexError):
        raise FormatError("HTX1 batch cut short") from None
    if off > len(buf):
        raise FormatError("HTX1 batch cut short")
    return out, off


def decode(value):
    """The rows of one Kafka message's value (one batch)."""
    rows, end = _batch(value, 0)
    if end != len(value):
        raise FormatError("%d bytes after the batch" % (len(value) - end))
    return rows


def decode_stream(data):
    """The rows of batches back to back, each optionally preceded by its
    length (4 bytes, big-endian, as kcat's %R writes it)."""
    off = 0
    while off < len(data):
        if data[off:off + 4] != b"HTX1" and data[off + 4:off + 8] == b"HTX1":
            off += 4
        rows, off = _batch(data, off)
        yield from rows


def main(argv):
    paths = argv[1:] or ["-"]
    for path in paths:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
        for row in decode_stream(data):
            sys.stdout.write(json.dumps(row, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Seed corpus for fuzz_decode from the test captures.

    seed_frames.py DATA_DIR OUT_DIR [PER_CAPTURE]

Writes one file per packet (up to PER_CAPTURE per capture, default 64,
spread over the file): a link-type selector byte (fuzz_decode.c's table:
0 Ethernet, 5 Linux SLL, 6 SLL2, 1 raw) followed by the frame. Reads pcap
and pcapng itself so that it needs nothing beyond Python.
"""
import hashlib
import os
import struct
import sys

SELECTOR = {1: 0, 101: 1, 12: 1, 228: 3, 229: 4, 113: 5, 276: 6}


def pcap_frames(buf):
    magic = buf[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return None, []
    linktype = struct.unpack(end + "I", buf[20:24])[0] & 0xffff
    frames, off = [], 24
    while off + 16 <= len(buf):
        incl = struct.unpack(end + "I", buf[off + 8:off + 12])[0]
        frames.append(buf[off + 16:off + 16 + incl])
        off += 16 + incl
    return linktype, frames


def pcapng_frames(buf):
    if buf[:4] != b"\x0a\x0d\x0d\x0a":
        return None, []
    end = "<" if buf[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    linktypes, frames, off = [], [], 0
    while off + 12 <= len(buf):
        btype, blen = struct.unpack(end + "II", buf[off:off + 8])
        if blen < 12:
            break
        body = buf[off + 8:off + blen - 4]
        if btype == 1:  # interface description
            linktypes.append(struct.unpack(end + "H", body[:2])[0])
        elif btype == 6:  # enhanced packet
            caplen = struct.unpack(end + "I", body[12:16])[0]
            frames.append(body[20:20 + caplen])
        elif btype == 3:  # simple packet
            frames.append(body[4:])
        off += blen
    return (linktypes[0] if linktypes else None), frames


def main():
    data, out = sys.argv[1], sys.argv[2]
    per = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    os.makedirs(out, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(data)):
        buf = open(os.path.join(data, name), "rb").read()
        lt, frames = pcap_frames(buf)
        if lt is None:
            lt, frames = pcapng_frames(buf)
        if lt not in SELECTOR or not frames:
            continue
        step = max(1, len(frames) // per)
        for fr in frames[::step][:per]:
            blob = bytes([SELECTOR[lt]]) + fr
            h = hashlib.sha1(blob).hexdigest()
            with open(os.path.join(out, h), "wb") as f:
                f.write(blob)
            n += 1
    print("%d seeds in %s" % (n, out))


if __name__ == "__main__":
    main()

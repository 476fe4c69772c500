#!/usr/bin/env python3
"""Seed corpus for fuzz_jit from the test captures.

    seed_jit.py DATA_DIR OUT_DIR [PER_CAPTURE]

Writes up to PER_CAPTURE (default 16) files per capture, each a run of 12
consecutive packets in fuzz_jit.c's input format: the link-type selector
(fuzz_decode.c's table), a burst size byte, then per packet
[dt][flags][length, 2 bytes LE][frame]. Times step 0.2-5 ms so windows of
1-6 ms close inside a seed; a few packets step back (late) or carry a
longer wire length. Uses seed_frames.py's pcap/pcapng readers.
"""
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_frames import SELECTOR, pcap_frames, pcapng_frames  # noqa: E402


def main():
    data, out = sys.argv[1], sys.argv[2]
    per = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    os.makedirs(out, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(data)):
        buf = open(os.path.join(data, name), "rb").read()
        lt, frames = pcap_frames(buf)
        if lt is None:
            lt, frames = pcapng_frames(buf)
        if lt not in SELECTOR or not frames:
            continue
        step = max(12, len(frames) // per)
        for k, start in enumerate(range(0, len(frames), step)):
            if k >= per:
                break
            blob = bytearray([SELECTOR[lt], (k * 7) % 32])
            for j, fr in enumerate(frames[start:start + 12]):
                fr = fr[:4096]
                dt = (start + j * 37) % 240 + 10
                flags = 0x01 if j == 7 else (0x02 if j == 3 else 0)
                blob += bytes([dt, flags]) + struct.pack("<H", len(fr)) + fr
            h = hashlib.sha1(blob).hexdigest()
            with open(os.path.join(out, h), "wb") as f:
                f.write(blob)
            n += 1
    print("%d seeds in %s" % (n, out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""manykeys.py - writes a capture of N TCP SYNs from N distinct IPv4 sources
(10.0.0.0 + i) to one destination, 4 us apart: a key flood for overload tests.

usage: manykeys.py OUT.pcap N
"""
import struct
import sys


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    eth = b"\x00\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            ip = struct.pack(">BBHHHBBHII", 0x45, 0, 40, 0, 0, 64, 6, 0,
                             0x0A000000 + i, 0xC0A80001)
            tcp = struct.pack(">HHIIBBHHH", 1024 + i % 60000, 80, i, 0, 0x50, 0x02, 1024, 0, 0)
            pkt = eth + ip + tcp
            us = i * 4
            f.write(struct.pack("<IIII", 1700000000 + us // 1000000, us % 1000000,
                                len(pkt), len(pkt)))
            f.write(pkt)


if __name__ == "__main__":
    main()

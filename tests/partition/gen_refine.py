#!/usr/bin/env python3
"""gen_refine.py - a capture where refinement pays (tests/partition/refine.sh).

Writes a pcap of TCP SYNs in one 3 s window: `light` SYNs to random
destinations spread over many /8s (each /8 gets fewer SYNs than the
threshold of 40, so its prefix never passes the gate), and `victims`
destinations inside 10.0.0.0/8 that receive `heavy` SYNs each in the
second half of the window (an attack starting while the registers are
already full of light destinations). Without refinement the light destinations fill the registers and the
victims' SYNs overflow to the host; refined at /8, the light SYNs are gated
(one record each, as overflowing they would be too) and the victims get
the fine slots.

usage: gen_refine.py OUT.pcap [light victims heavy seed]
"""
import random
import struct
import sys


def syn(src, dst, sport):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0x4000, 64, 6, 0,
                     struct.pack("!I", src), struct.pack("!I", dst))
    tcp = struct.pack("!HHIIBBHHH", sport, 80, 1, 0, 0x50, 0x02, 65535, 0, 0)
    eth = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"
    return eth + ip + tcp


def main():
    out = sys.argv[1]
    light, victims, heavy, seed = (int(x) for x in (sys.argv[2:6] + ["6000", "5", "1500", "1"][len(sys.argv[2:6]):]))
    rnd = random.Random(seed)
    pkts = []  # (time in us, destination)
    for _ in range(light):  # first octet 11..254: /8s other than the victims'
        pkts.append((rnd.randrange(50_000, 2_950_000), rnd.randrange(11, 255) << 24 | rnd.randrange(1 << 24)))
    for v in range(victims):  # the attack starts half way through the window
        pkts += [(rnd.randrange(1_500_000, 2_950_000), 10 << 24 | (v + 1)) for _ in range(heavy)]
    pkts.sort()
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t_us, d in pkts:  # all in the window [0 s, 3 s)
            frame = syn(rnd.randrange(1 << 32), d, rnd.randrange(1024, 65535))
            f.write(struct.pack("<IIII", t_us // 1_000_000, t_us % 1_000_000, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()

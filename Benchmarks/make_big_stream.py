#!/usr/bin/env python3
"""Writes a QEMU migration stream of a large guest (input-formats.md §4): one `mach-virt.ram`
block of RAM-GiB, every page sent as a PAGE record (pseudo-random bytes, so nothing is
sparse), then the `arm_gicv3` and `arm_gicv3_its` sections in their known layouts and EOF
(no JSON description: itsdump uses its fallback layouts).

Usage: make_big_stream.py OUT [--ram-gib 4]
"""
import argparse
import os
import struct


def be(v, n):
    return v.to_bytes(n, "big")


def s8(s):
    return bytes([len(s)]) + s.encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--ram-gib", type=int, default=4)
    a = ap.parse_args()
    size = a.ram_gib << 30
    page = 4096
    with open(a.out, "wb") as f:
        f.write(be(0x5145564D, 4) + be(3, 4))
        f.write(b"\x07" + be(8, 4) + b"virt-7.2" + b"\x05" + s8("configuration/target-page-bits") + be(1, 4) + be(12, 4))
        f.write(b"\x01" + be(2, 4) + s8("ram") + be(0, 4) + be(4, 4))
        f.write(be(size | 0x004, 8) + s8("mach-virt.ram") + be(size, 8) + be(0x010, 8) + b"\x7e" + be(2, 4))
        f.write(b"\x02" + be(2, 4))
        chunk = os.urandom(1 << 20)
        for off in range(0, size, page):
            head = be(off | 0x008 | (0x020 if off else 0), 8) + (b"" if off else s8("mach-virt.ram"))
            i = (off >> 12) & 255
            f.write(head + chunk[i * page:(i + 1) * page])
        f.write(be(0x010, 8) + b"\x7e" + be(2, 4))
        f.write(b"\x03" + be(2, 4) + be(0x010, 8) + b"\x7e" + be(2, 4))
        f.write(b"\x04" + be(11, 4) + s8("arm_gicv3") + be(0, 4) + be(1, 4) + bytes(10344))
        rec = bytearray(272)
        rec[20:28] = be(0x425C078F, 8)
        rec[28:36] = be(0x425D0780, 8)
        f.write(bytes(rec) + b"\x7e" + be(11, 4))
        f.write(b"\x04" + be(12, 4) + s8("arm_gicv3_its") + be(0, 4) + be(0, 4))
        f.write(be(0x80000001, 4) + be(0x4B00043B, 4) + be(0xB80000004259040F, 8) + be(0, 8) + be(0, 8))
        f.write(be(0xF9070000425A0600, 8) + be(0xBC070000425B0600, 8) + bytes(48) + b"\x7e" + be(12, 4))
        f.write(b"\x00")
    print("%s: %.1f GiB" % (a.out, os.path.getsize(a.out) / (1 << 30)))


if __name__ == "__main__":
    main()

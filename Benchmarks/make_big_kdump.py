#!/usr/bin/env python3
"""Writes a plain kdump-compressed dump (diskdump, input-formats.md §2) of a large guest that
holds the same ITS tables as a small ELF core: 64 KiB blocks like QEMU's arm64 dumps, RAM of
RAM-GiB at 0x40000000, every block dumped; blocks holding pages of SOURCE are zlib-compressed,
all others share one stored zero block (as QEMU writes them).

Usage: make_big_kdump.py SOURCE.elf OUT [--ram-gib 64]
"""
import argparse
import struct
import zlib

BS = 65536


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--ram-gib", type=int, default=64)
    a = ap.parse_args()
    src = open(a.source, "rb").read()
    phoff, = struct.unpack_from("<Q", src, 32)
    phentsize, phnum = struct.unpack_from("<HH", src, 54)
    blocks, notes = {}, b""
    for i in range(phnum):
        t, _, off, _, paddr, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", src, phoff + i * phentsize)
        if t == 4:
            notes = src[off:off + filesz]
        if t != 1:
            continue
        for o in range(0, filesz, 4096):
            pa = paddr + o
            b = blocks.setdefault(pa // BS, bytearray(BS))
            b[pa % BS:pa % BS + 4096] = src[off + o:off + o + 4096]
    base = 0x40000000
    first, count = base // BS, (a.ram_gib << 30) // BS
    max_mapnr = first + count
    bitmap_len = ((max_mapnr + 8 * BS - 1) // (8 * BS)) * BS  # whole blocks per bitmap
    bitmap_blocks = 2 * bitmap_len // BS
    hdr = b"KDUMP   " + struct.pack("<I", 6) + bytes(412)
    hdr += struct.pack("<IIIIIIIIII", 1, BS, 1, bitmap_blocks, min(max_mapnr, 0xFFFFFFFF), 0, 0, 0, 0, 4)
    sub = struct.pack("<QIIQQQQQQQQQQQ", base, 1, 0, 0, 0, 0, 0, BS + 104, len(notes), 0, 0, 0, max_mapnr, max_mapnr) + notes
    bm = bytearray(bitmap_len)
    for pfn in range(first, max_mapnr):
        bm[pfn >> 3] |= 1 << (pfn & 7)
    desc_at = (2 + bitmap_blocks) * BS
    data_at = desc_at + count * 24
    zero_at = (data_at + BS - 1) // BS * BS
    data = bytearray()
    descs = bytearray()
    for pfn in range(first, max_mapnr):
        if pfn in blocks:
            z = zlib.compress(bytes(blocks[pfn]), 1)
            descs += struct.pack("<QIIQ", zero_at + BS + len(data), len(z), 1, 0)
            data += z
        else:
            descs += struct.pack("<QIIQ", zero_at, BS, 0, 0)
    with open(a.out, "wb") as f:
        f.write(hdr.ljust(BS, b"\0") + sub.ljust(BS, b"\0") + bm + bm)
        f.write(descs)
        f.seek(zero_at)
        f.write(bytes(BS))
        f.write(data)
    print("%s: %d GiB guest, %d blocks with tables" % (a.out, a.ram_gib, len(blocks)))


if __name__ == "__main__":
    main()

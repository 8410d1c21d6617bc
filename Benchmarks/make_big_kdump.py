#!/usr/bin/env python3
"""Writes a plain kdump-compressed dump (diskdump, input-formats.md §2) of a large guest that
holds the same ITS tables as a small ELF core: RAM of RAM-GiB at 0x40000000 in blocks of
BLOCK-SIZE bytes (64 KiB like QEMU's arm64 dumps, or 4 KiB like makedumpfile's on a 4 KiB
kernel). Blocks holding pages of SOURCE are zlib-compressed. The others are, as QEMU writes
them, all dumped and sharing one stored zero block; or, with --exclude-zero, left out of the
dumpable bitmap as makedumpfile's dump level 1 leaves zero pages out (the blocks of SOURCE
stay dumped, zero or not, so that the tables read the same). That is the only way a 1 TiB
guest of 4 KiB blocks is a file of tens of MiB: its bitmaps alone are 2 x 32 MiB.

The sub-header holds the ELF notes of SOURCE and spans as many blocks as they need
(sub_hdr_size; one 4 KiB block is too small for them).

Usage: make_big_kdump.py SOURCE.elf OUT [--ram-gib 64] [--block-size 65536] [--exclude-zero]
"""
import argparse
import struct
import zlib


def set_bits(bm, a, b):
    """Sets bits [a, b) of bytearray bm (bit i is bit i%8 of byte i//8, §2.6)."""
    while a < b and a % 8:
        bm[a >> 3] |= 1 << (a & 7)
        a += 1
    whole = (b - a) // 8
    bm[a >> 3:(a >> 3) + whole] = b"\xff" * whole
    a += whole * 8
    while a < b:
        bm[a >> 3] |= 1 << (a & 7)
        a += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--ram-gib", type=int, default=64)
    ap.add_argument("--block-size", type=int, default=65536)
    ap.add_argument("--exclude-zero", action="store_true")
    a = ap.parse_args()
    bs = a.block_size
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
            b = blocks.setdefault(pa // bs, bytearray(bs))
            n = min(4096, bs - pa % bs)
            b[pa % bs:pa % bs + n] = src[off + o:off + o + n]
            if n < 4096:  # a 4 KiB page across two blocks (blocks smaller than 4 KiB)
                blocks.setdefault(pa // bs + 1, bytearray(bs))[:4096 - n] = src[off + o + n:off + o + 4096]
    base = 0x40000000
    first, count = base // bs, (a.ram_gib << 30) // bs
    max_mapnr = first + count
    blocks = {p: b for p, b in blocks.items() if first <= p < max_mapnr}
    bitmap_len = ((max_mapnr + 8 * bs - 1) // (8 * bs)) * bs  # whole blocks per bitmap
    bitmap_blocks = 2 * bitmap_len // bs
    sub_blocks = (104 + len(notes) + bs - 1) // bs
    hdr = b"KDUMP   " + struct.pack("<I", 6) + bytes(412)
    hdr += struct.pack("<IIIIIIIIII", 1, bs, sub_blocks, bitmap_blocks, min(max_mapnr, 0xFFFFFFFF), 0, 0, 0, 0, 4)
    sub = struct.pack("<QIIQQQQQQQQQQQ", base, 1, 0, 0, 0, 0, 0, bs + 104, len(notes), 0, 0, 0, max_mapnr, max_mapnr) + notes
    ram = bytearray(bitmap_len)
    set_bits(ram, first, max_mapnr)
    if a.exclude_zero:
        dumped = sorted(blocks)
        dump = bytearray(bitmap_len)
        for p in dumped:
            set_bits(dump, p, p + 1)
    else:
        dumped = None
        dump = ram
    ndesc = len(dumped) if dumped is not None else count
    desc_at = (1 + sub_blocks + bitmap_blocks) * bs
    data_at = desc_at + ndesc * 24
    zero_at = (data_at + bs - 1) // bs * bs
    data = bytearray()
    table = {}
    for p in sorted(blocks):
        z = zlib.compress(bytes(blocks[p]), 1)
        table[p] = struct.pack("<QIIQ", zero_at + bs + len(data), len(z), 1, 0)
        data += z
    if dumped is not None:
        descs = b"".join(table[p] for p in dumped)
    else:
        descs = bytearray(struct.pack("<QIIQ", zero_at, bs, 0, 0) * count)
        for p, d in table.items():
            descs[(p - first) * 24:(p - first + 1) * 24] = d
    with open(a.out, "wb") as f:
        f.write(hdr.ljust(bs, b"\0") + sub.ljust(sub_blocks * bs, b"\0") + ram + dump)
        f.write(descs)
        f.seek(zero_at)
        f.write(bytes(bs))
        f.write(data)
    print("%s: %d GiB guest, %d-byte blocks, %d descriptors, %d blocks with tables"
          % (a.out, a.ram_gib, bs, ndesc, len(blocks)))


if __name__ == "__main__":
    main()

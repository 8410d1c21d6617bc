#!/usr/bin/env python3
"""Builds a sparse ELF core of a large guest that holds the same ITS tables as a small one.

Usage: make_sparse_core.py SOURCE.elf OUT.elf [--ram-gib 64]

Copies every PT_LOAD page of SOURCE (e.g. a bundled extract) to the same guest-physical
address inside one PT_LOAD of RAM-GiB at 0x40000000, written as a file hole: the file's
apparent size is the whole RAM, its disk use is the copied pages. The notes are copied too.
"""
import argparse
import os
import struct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--ram-gib", type=int, default=64)
    a = ap.parse_args()
    with open(a.source, "rb") as f:
        src = f.read()
    phoff, = struct.unpack_from("<Q", src, 32)
    phentsize, phnum = struct.unpack_from("<HH", src, 54)
    loads, notes = [], b""
    for i in range(phnum):
        t, _, off, _, paddr, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", src, phoff + i * phentsize)
        if t == 1:
            loads.append((paddr, src[off:off + filesz]))
        elif t == 4:
            notes += src[off:off + filesz]
    base, size = 0x40000000, a.ram_gib << 30
    phoff = 64
    note_off = phoff + 2 * 56
    data_off = (note_off + len(notes) + 0xFFFF) & ~0xFFFF
    hdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    hdr += struct.pack("<HHIQQQIHHHHHH", 4, 183, 1, 0, phoff, 0, 0, 64, 56, 2, 64, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 4, 0, note_off, 0, 0, len(notes), len(notes), 0)
    ph += struct.pack("<IIQQQQQQ", 1, 0, data_off, base, base, size, size, 0)
    with open(a.out, "wb") as f:
        f.write(hdr + ph + notes)
        for paddr, data in loads:
            if not base <= paddr < base + size:
                continue
            f.seek(data_off + paddr - base)
            f.write(data)
        f.truncate(data_off + size)
    st = os.stat(a.out)
    print("%s: %d GiB apparent, %d KiB on disk" % (a.out, st.st_size >> 30, st.st_blocks // 2))


if __name__ == "__main__":
    main()

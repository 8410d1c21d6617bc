#!/usr/bin/env python3
"""Builds a guest image whose ITS routes N devices x M events, and the register state file
that describes it: the input for measuring how output scales with the number of routes.

Usage: make_many_devices.py --format kvm|qemu --devices N --events M [--two-level]
                            [--cpus C] [--stride S] OUT

Writes OUT.img (a sparse raw RAM image, offset 0 = guest PA 0x40000000) and OUT-regs.json
(Documentation: README "The state file"), and prints the arguments for itsdump:
    itsdump routes OUT.img@0x40000000 --regs OUT-regs.json
Every route is live and distinct: device i has DeviceID i*S, its events 0..M-1 map LPIs
8192 + i*M + e (unique), collection e % C, which targets vCPU e % C; every LPI is enabled
(property byte 0xA3), every seventh one pending in its target's pending table. itsdump must
list N*M routes on N devices and no finding.

Layouts (Documentation/its-formats.md):
- kvm: KVM ITS ABI 0 (§1.10): 8-byte DTE {V, next, ITT_addr, Size}, 8-byte ITE {next, pINTID,
  ICID}, packed CTEs ended by a zero terminator; 64 KiB pages only (§1.7); DeviceIDs < 2^16.
- qemu: QEMU >= 7.0 (§1.11): 8-byte DTE {Valid, Size, ITT_addr}, 12-byte ITE (ITE_L {Valid,
  IntType, INTID, ICID}, ITE_H), CTEs indexed by ICID; 64 KiB pages flat, 4 KiB two-level.
- two-level device tables: level-1 entries {Valid, L2 address} (§1.7); S defaults to 16 so the
  devices span several level-2 pages (1 otherwise).
- GITS_BASER (§1.6), GICR_PROPBASER/PENDBASER and the LPI tables (§1.8).
"""
import argparse
import json
import os
import struct
import sys

BASE = 0x40000000
LPI_FIRST = 8192


class Image:
    """A bump allocator of guest PAs and the writes into the sparse file."""

    def __init__(self, f):
        self.f = f
        self.next = BASE
        self.end = BASE

    def alloc(self, size, align):
        at = (self.next + align - 1) // align * align
        self.next = at + size
        self.end = max(self.end, self.next)
        return at

    def write(self, gpa, data):
        self.f.seek(gpa - BASE)
        self.f.write(data)


def baser(kind, base, page, pages, indirect):
    """GITS_BASER (its-formats.md §1.6): Valid, Indirect, Type, Entry_Size 8, address, Page_Size, Size."""
    code = {4096: 0, 16384: 1, 65536: 2}[page]
    if page == 65536:
        addr = (base & 0x0000_FFFF_FFFF_0000) | ((base >> 48) & 0xF) << 12
    else:
        addr = base & 0x0000_FFFF_FFFF_F000
    return 1 << 63 | (1 << 62 if indirect else 0) | kind << 56 | 7 << 48 | addr | code << 8 | (pages - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--format", choices=["kvm", "qemu"], required=True)
    ap.add_argument("--devices", type=int, required=True)
    ap.add_argument("--events", type=int, required=True)
    ap.add_argument("--two-level", action="store_true")
    ap.add_argument("--cpus", type=int, default=4)
    ap.add_argument("--stride", type=int)
    ap.add_argument("out")
    a = ap.parse_args()
    kvm = a.format == "kvm"
    n, m, cpus = a.devices, a.events, a.cpus
    stride = a.stride or (16 if a.two_level else 1)
    if n < 1 or m < 1 or not 1 <= cpus <= 256:
        sys.exit("make_many_devices.py: --devices and --events at least 1, --cpus 1..256")
    if (n - 1) * stride >= 1 << 16:
        sys.exit("make_many_devices.py: DeviceIDs must stay below 2^16 (GITS_TYPER.Devbits 15): lower --devices or --stride")
    if kvm and stride > 16383:
        sys.exit("make_many_devices.py: KVM's DTE next is capped at 16383: lower --stride")
    if m > 1 << 16:
        sys.exit("make_many_devices.py: at most 2^16 events per device (GITS_TYPER.IDbits 15)")
    routes = n * m
    id_bits = max(14, (LPI_FIRST + routes - 1).bit_length())  # INTIDs below 2^id_bits
    if id_bits > (32 if kvm else 24):
        sys.exit("make_many_devices.py: too many routes for unique LPIs")
    page = 65536 if kvm or not a.two_level else 4096
    ite_size = 8 if kvm else 12
    event_bits = max(1, (m - 1).bit_length())
    itt_entries = 1 << event_bits

    img_path, regs_path = a.out + ".img", a.out + "-regs.json"
    with open(img_path, "wb") as f:
        f.truncate(0)
        im = Image(f)
        ids = [i * stride for i in range(n)]
        # Device table: flat, or a level-1 table and one level-2 page per run of IDs.
        per_page = page // 8
        if a.two_level:
            l1_count = ids[-1] // per_page + 1
            l1_pages = (l1_count * 8 + page - 1) // page
            dt = im.alloc(l1_pages * page, page)
            l2 = {}
            for idx in sorted({i // per_page for i in ids}):
                l2[idx] = im.alloc(page, page)
                im.write(dt + idx * 8, struct.pack("<Q", 1 << 63 | l2[idx]))
            dte_at = lambda d: l2[d // per_page] + (d % per_page) * 8
            dt_pages = l1_pages
        else:
            dt_pages = ((ids[-1] + 1) * 8 + page - 1) // page
            dt = im.alloc(dt_pages * page, page)
            dte_at = lambda d: dt + d * 8
        # Collection table: one page; ICID c targets vCPU c (processor numbers, PTA = 0).
        ct = im.alloc(page, page)
        if kvm:
            im.write(ct, b"".join(struct.pack("<Q", 1 << 63 | c << 16 | c) for c in range(cpus)) + bytes(8))
        else:
            im.write(ct, b"".join(struct.pack("<Q", 1 | c << 1) for c in range(cpus)))
        # LPI configuration table (one byte per LPI from 8192) and one pending table per vCPU.
        prop_bytes = (1 << id_bits) - LPI_FIRST
        prop = im.alloc(prop_bytes, 4096)
        im.write(prop, b"\xa3" * routes)
        pend = [im.alloc((1 << id_bits) // 8, 65536) for _ in range(cpus)]
        pending = [bytearray((1 << id_bits) // 8) for _ in range(cpus)]
        # ITTs, then each device's DTE.
        for i, d in enumerate(ids):
            itt = im.alloc(itt_entries * ite_size, 256)
            buf = bytearray(m * ite_size)
            for e in range(m):
                lpi = LPI_FIRST + i * m + e
                icid = e % cpus
                if kvm:
                    nxt = 0 if e == m - 1 else 1
                    struct.pack_into("<Q", buf, e * 8, nxt << 48 | lpi << 16 | icid)
                else:
                    struct.pack_into("<QI", buf, e * 12, 1 | 1 << 1 | lpi << 2 | icid << 32, 0)
                if (i * m + e) % 7 == 0:
                    pending[icid][lpi // 8] |= 1 << (lpi % 8)
            im.write(itt, bytes(buf))
            if kvm:
                nxt = 0 if i == n - 1 else ids[i + 1] - d
                dte = 1 << 63 | nxt << 49 | (itt >> 8) << 5 | (event_bits - 1)
            else:
                dte = 1 | (event_bits - 1) << 1 | (itt >> 8) << 6
            im.write(dte_at(d), struct.pack("<Q", dte))
        for c in range(cpus):
            im.write(pend[c], bytes(pending[c]))
        f.truncate(im.end - BASE)

    regs = {
        "schemaVersion": 1,
        "source": "Benchmarks/make_many_devices.py --format %s --devices %d --events %d%s" % (
            a.format, n, m, " --two-level" if a.two_level else ""),
        "its": [{
            "base": "0x8080000",
            "ctlr": "0x80000001",
            "iidr": "0x4b00043b" if kvm else "0x0",
            "typer": "0x1ef71" if kvm else "0x1f0001efb1",
            "baser": [hex(baser(1, dt, page, dt_pages, a.two_level)), hex(baser(4, ct, page, 1, False))] + ["0x0"] * 6,
        }],
        "redistributors": [
            {"cpu": c, "propbaser": hex(prop | 0x780 | (id_bits - 1)), "pendbaser": hex(pend[c] | 0x780)}
            for c in range(cpus)
        ],
    }
    with open(regs_path, "w") as f:
        json.dump(regs, f, indent=2)
        f.write("\n")
    st = os.stat(img_path)
    print("%s: %d routes on %d devices (%s, %s), %d MiB apparent, %d MiB on disk" % (
        img_path, routes, n, a.format, "two-level" if a.two_level else "flat",
        st.st_size >> 20, st.st_blocks // 2048))
    print("itsdump routes %s@0x%x --regs %s" % (img_path, BASE, regs_path))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the bundled real extracts (../fixtures) and small
inputs built here after ../../shared/docs (input-formats.md §1, §2, §4). Usage: make_seeds.py OUTDIR"""
import glob
import json
import os
import struct
import sys
import zlib

out = sys.argv[1]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def be(v, n):
    return v.to_bytes(n, "big")


def s8(s):
    return bytes([len(s)]) + s.encode()


def loads(path):
    src = open(path, "rb").read()
    phoff, = struct.unpack_from("<Q", src, 32)
    phentsize, phnum = struct.unpack_from("<HH", src, 54)
    segs = []
    for i in range(phnum):
        t, _, off, _, paddr, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", src, phoff + i * phentsize)
        if t == 1:
            segs.append((paddr, src[off:off + filesz]))
    return src, segs


for regs in glob.glob(os.path.join(root, "fixtures/*/its-regs.json")) + glob.glob(os.path.join(root, "fixtures/*/*/its-regs.json")):
    name = regs.replace("/", "_")[-60:]
    put("fuzz-regs", name, open(regs, "rb").read())

# ELF: a tiny core with one PT_LOAD holding the first table page of kvm-basic.
src, segs = loads(os.path.join(root, "fixtures/kvm-basic/core.extract.elf"))
paddr, data = segs[0]
page = data[:4096]
hdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack("<HHIQQQIHHHHHH", 4, 183, 1, 0, 64, 0, 0, 64, 56, 1, 64, 0, 0)
ph = struct.pack("<IIQQQQQQ", 1, 0, 120, paddr, paddr, len(page), len(page), 0)
put("fuzz-elf", "tiny-kvm", hdr + ph + page)
put("fuzz-raw", "l1-page", page)
put("fuzz-raw", "cte-page", dict(segs).get(0x425b0000, data[0x10000:0x11000])[:4096])

# Migration stream: header, config, RAM with two pages, arm_gicv3 (1 CPU), arm_gicv3_its, EOF.
s = be(0x5145564D, 4) + be(3, 4) + b"\x07" + be(8, 4) + b"virt-7.2" + b"\x05" + s8("configuration/target-page-bits") + be(1, 4) + be(12, 4)
s += b"\x01" + be(2, 4) + s8("ram") + be(0, 4) + be(4, 4) + be(0x2000 | 4, 8) + s8("mach-virt.ram") + be(0x2000, 8) + be(0x10, 8) + b"\x7e" + be(2, 4)
s += b"\x02" + be(2, 4) + be(0x8, 8) + s8("mach-virt.ram") + page + be(0x1000 | 0x22, 8) + b"\x00" + be(0x10, 8) + b"\x7e" + be(2, 4)
rec = bytearray(272)
rec[20:28] = be(0x4000078F, 8)
rec[28:36] = be(0x40010780, 8)
s += b"\x04" + be(11, 4) + s8("arm_gicv3") + be(0, 4) + be(1, 4) + bytes(10344) + bytes(rec) + b"\x7e" + be(11, 4)
s += b"\x04" + be(12, 4) + s8("arm_gicv3_its") + be(0, 4) + be(0, 4) + be(0x80000001, 4) + be(0x4B00043B, 4) + bytes(24)
s += be(0xF907000040000600, 8) + be(0xBC07000040010600, 8) + bytes(48) + b"\x7e" + be(12, 4) + b"\x00"
put("fuzz-stream", "tiny", s)

# kdump (plain, 4 KiB blocks): two RAM blocks, one zlib, one raw.
bs = 4096
blocks = {256: page, 257: bytes(bs)}
h = b"KDUMP   " + struct.pack("<I", 6) + bytes(412) + struct.pack("<IIIIIIIIII", 1, bs, 1, 2, 258, 0, 0, 0, 0, 1)
sub = struct.pack("<QIIQQQQQQQQQQQ", 0x100000, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 258, 258)
bm = bytearray(bs)
for p in blocks:
    bm[p >> 3] |= 1 << (p & 7)
bm = bytes(bm[:bs // 2]) + bytes(bm[:bs // 2])  # two bitmaps of half a block each... keep 2 blocks:
bm = bytes(bytearray(bs // 2)) if False else bm
b1 = bytearray(bs // 2 * 2)
for p in blocks:
    b1[p >> 3] |= 1 << (p & 7)
bitmaps = bytes(b1) + bytes(b1)
desc_at = 4 * bs
data_at = desc_at + 2 * 24
z = zlib.compress(page)
descs = struct.pack("<QIIQ", data_at, len(z), 1, 0) + struct.pack("<QIIQ", data_at + len(z), bs, 0, 0)
put("fuzz-kdump", "tiny", h.ljust(bs, b"\0") + sub.ljust(bs, b"\0") + bitmaps[:2 * bs] + descs + z + bytes(bs))
flat = b"makedumpfile".ljust(16, b"\0") + be(1, 8) + be(1, 8)
flat = flat.ljust(4096, b"\0")
plain = h.ljust(bs, b"\0") + sub.ljust(bs, b"\0") + bitmaps[:2 * bs] + descs + z + bytes(bs)
flat += be(0, 8) + be(len(plain), 8) + plain + be((1 << 64) - 1, 8) + be((1 << 64) - 1, 8)
put("fuzz-kdump", "tiny-flat", flat)

# --- Structure-aware seeds (issue 17): valid record framing that mutations then bend. ---

def stream_head(caps=()):
    h = be(0x5145564D, 4) + be(3, 4) + b"\x07" + be(8, 4) + b"virt-7.2" + b"\x05" + s8("configuration/target-page-bits") + be(1, 4) + be(12, 4)
    if caps:
        h += b"\x05" + s8("configuration/capabilities") + be(1, 4) + be(len(caps), 4) + b"".join(s8(c) for c in caps)
    return h


def gic_section(sid, cpus, shift_bug="arm_gicv3/gicd_no_migration_shift_bug"):
    out = b"\x04" + be(sid, 4) + s8("arm_gicv3") + be(0, 4) + be(1, 4) + bytes(10344)
    for c in range(cpus):
        r = bytearray(272)
        r[20:28] = be(0x4000078F, 8)
        r[28:36] = be(0x40010780 + c * 0x10000, 8)
        out += bytes(r)
        if c == 0:
            out += b"\x05" + s8("arm_gicv3_cpu/sre_el1") + be(1, 4) + be(7, 8)
    return out + b"\x05" + s8(shift_bug) + be(1, 4) + b"\x01" + b"\x7e" + be(sid, 4)


def its_section(sid, baser0=0xF907000040000600):
    return (b"\x04" + be(sid, 4) + s8("arm_gicv3_its") + be(0, 4) + be(0, 4) + be(0x80000001, 4) + be(0x4B00043B, 4)
            + bytes(24) + be(baser0, 8) + be(0xBC07000040010600, 8) + bytes(48) + b"\x7e" + be(sid, 4))


def ram_section(pages):
    out = b"\x01" + be(2, 4) + s8("ram") + be(0, 4) + be(4, 4) + be(0x4000 | 4, 8) + s8("mach-virt.ram") + be(0x4000, 8)
    out += s8("pvtime") + be(0, 8) if False else b""
    out += be(0x10, 8) + b"\x7e" + be(2, 4) + b"\x03" + be(2, 4)
    for i, (addr, body) in enumerate(pages):
        if body is None:
            out += be(addr | 0x02 | (0x20 if i else 0), 8) + (b"" if i else s8("mach-virt.ram")) + b"\x00"
        else:
            out += be(addr | 0x08 | (0x20 if i else 0), 8) + (b"" if i else s8("mach-virt.ram")) + body
    return out + be(0x10, 8) + b"\x7e" + be(2, 4)


def description(cpus, indexed=True, array_len=True):
    cpu = lambda i: ({"name": "cpu", "index": i} if indexed else {"name": "cpu"}) | {"type": "struct", "size": 272, "struct": {
        "vmsd_name": "arm_gicv3_cpu", "version": 1,
        "fields": [{"name": "a", "type": "buffer", "size": 20}, {"name": "gicr_propbaser", "type": "uint64", "size": 8},
                   {"name": "gicr_pendbaser", "type": "uint64", "size": 8}, {"name": "b", "type": "buffer", "size": 236}],
        "subsections": [{"vmsd_name": "arm_gicv3_cpu/sre_el1", "version": 1, "fields": [{"name": "icc_sre_el1", "type": "uint64", "size": 8}]}] if i == 0 else []}}
    baser = {"name": "baser", "type": "uint64", "size": 8} | ({"array_len": 8} if array_len else {})
    its_fields = [{"name": "ctlr", "type": "uint32", "size": 4}, {"name": "iidr", "type": "uint32", "size": 4},
                  {"name": "cbaser", "type": "uint64", "size": 8}, {"name": "cwriter", "type": "uint64", "size": 8},
                  {"name": "creadr", "type": "uint64", "size": 8}] + ([baser] if array_len else [dict(baser, name="baser") for _ in range(8)])
    d = {"page_size": 4096, "devices": [
        {"name": "arm_gicv3", "instance_id": 0, "vmsd_name": "arm_gicv3", "version": 1,
         "fields": [{"name": "dist", "type": "buffer", "size": 10344}] + [cpu(i) for i in range(cpus)],
         "subsections": [{"vmsd_name": "arm_gicv3/gicd_no_migration_shift_bug", "version": 1, "fields": [{"name": "x", "type": "bool", "size": 1}]}]},
        {"name": "arm_gicv3_its", "instance_id": 0, "vmsd_name": "arm_gicv3_its", "version": 0, "fields": its_fields}]}
    j = json.dumps(d, separators=(",", ":")).encode()
    return b"\x06" + be(len(j), 4) + j


table = page
for cpus, indexed, name in [(1, False, "json-1cpu-no-index"), (2, True, "json-2cpu-index")]:
    body = stream_head() + ram_section([(0, table), (0x1000, None), (0x2000, table)]) + gic_section(11, cpus) + its_section(12)
    put("fuzz-stream", name, body + b"\x00" + description(cpus, indexed))
put("fuzz-stream", "json-baser-no-array-len", stream_head() + ram_section([(0, table)]) + gic_section(11, 1) + its_section(12)
    + b"\x00" + description(1, False, array_len=False))
put("fuzz-stream", "no-json-qemu72", stream_head() + ram_section([(0, table), (0x3000, None)]) + gic_section(11, 2) + its_section(12) + b"\x00")
put("fuzz-stream", "damaged-json", stream_head() + ram_section([(0, table)]) + gic_section(11, 2) + its_section(12) + b"\x00" + description(2)[:-40])
put("fuzz-stream", "sections-repeated", stream_head() + ram_section([(0x2000, table), (0, table), (0x2000, None)]) + its_section(12, 0x1111)
    + gic_section(11, 1) + its_section(12) + gic_section(11, 2) + b"\x00")
# mapped-ram: block header with bitmap and page area at fixed offsets, the stream after the area.
mr = stream_head(["mapped-ram"]) + b"\x01" + be(2, 4) + s8("ram") + be(0, 4) + be(4, 4) + be(0x2000 | 4, 8) + s8("mach-virt.ram") + be(0x2000, 8)
bitmap_at, pages_at = 0x800, 0x1000
mr += be(1, 4) + be(4096, 8) + be(bitmap_at, 8) + be(pages_at, 8)
mr = bytearray(mr.ljust(pages_at + 0x2000, b"\0"))
mr[bitmap_at] = 1
mr[pages_at:pages_at + 4096] = table
mr = bytes(mr) + be(0x10, 8) + b"\x7e" + be(2, 4) + gic_section(11, 1) + its_section(12) + b"\x00"
put("fuzz-stream", "mapped-ram", mr)


def kdump_plain(pages, comp=1, version=6, status=None, bitmap_blocks=2):
    """pages: {pfn: 4096 bytes}; descriptors in PFN order, data after them."""
    maxpfn = max(pages) + 1
    hh = b"KDUMP   " + struct.pack("<I", version) + bytes(412) + struct.pack("<IIIIIIIIII", comp if status is None else status, bs, 1, bitmap_blocks, maxpfn, 0, 0, 0, 0, 2)
    sb = struct.pack("<QIIQQQQQQQQQQQ", 0x100000, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, maxpfn, maxpfn)
    bmp = bytearray(bitmap_blocks * bs // 2)
    for pf in pages:
        bmp[pf >> 3] |= 1 << (pf & 7)
    at = (2 + bitmap_blocks) * bs + len(pages) * 24
    ds, dt = b"", b""
    for pf in sorted(pages):
        d = zlib.compress(pages[pf]) if comp == 1 else pages[pf]
        ds += struct.pack("<QIIQ", at + len(dt), len(d), comp if len(d) < bs else 0, 0)
        dt += d
    return hh.ljust(bs, b"\0") + sb.ljust(bs, b"\0") + bytes(bmp) + bytes(bmp) + ds + dt


def flatten(plain, cuts, end=True):
    f = b"makedumpfile".ljust(16, b"\0") + be(1, 8) + be(1, 8)
    f = f.ljust(4096, b"\0")
    for a, b_ in cuts:
        f += be(a, 8) + be(b_ - a, 8) + plain[a:b_]
    return f + (be((1 << 64) - 1, 8) * 2 if end else b"")


kp = kdump_plain({256: table, 257: bytes(bs), 258: table, 300: table})
put("fuzz-kdump", "plain-4pages", kp)
put("fuzz-kdump", "plain-raw", kdump_plain({256: table, 260: table}, comp=0))
put("fuzz-kdump", "plain-cut", kp[:len(kp) - 500])
n = len(kp)
put("fuzz-kdump", "flat-shuffled", flatten(kp, [(n // 2, n), (0, 464), (464, n // 2)]))
put("fuzz-kdump", "flat-overlapping", flatten(kp, [(0, n), (4 * bs, 4 * bs + 48), (4 * bs + 24, 4 * bs + 96), (0, 16)]))
put("fuzz-kdump", "flat-no-end", flatten(kp, [(0, n)], end=False)[:-500])
put("fuzz-kdump", "incomplete-flag", kdump_plain({256: table, 257: table}, status=1 | 8))

# ELF: many PT_NOTEs over one note area (and overlapping), PN_XNUM, a cut program-header table.
def elf_core(notes_blob, loads_, note_headers=None, xnum=False):
    phs = note_headers or [(0, len(notes_blob))]
    phnum = len(phs) + len(loads_)
    phoff = 64
    shoff = phoff + phnum * 56 if xnum else 0
    off = phoff + phnum * 56 + (64 if xnum else 0)
    out = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack("<HHIQQQIHHHHHH", 4, 183, 1, 0, phoff, shoff, 0, 64, 56,
                                                                  0xFFFF if xnum else phnum, 64, 1 if xnum else 0, 0)
    table_ = b""
    notes_at = off
    for a, l in phs:
        table_ += struct.pack("<IIQQQQQQ", 4, 0, notes_at + a, 0, 0, l, l, 0)
    data_at = notes_at + len(notes_blob)
    body = b""
    for paddr_, d in loads_:
        table_ += struct.pack("<IIQQQQQQ", 1, 0, data_at + len(body), paddr_, paddr_, len(d), len(d), 0)
        body += d
    sh = (bytes(44) + struct.pack("<I", phnum) + bytes(16)) if xnum else b""
    return out + table_ + sh + notes_blob + body


def note(name, typ, desc):
    nm = name.encode() + b"\0"
    return struct.pack("<III", len(nm), len(desc), typ) + nm.ljust((len(nm) + 3) // 4 * 4, b"\0") + desc.ljust((len(desc) + 3) // 4 * 4, b"\0")


nb = note("CORE", 1, bytes(392)) + note("CORE", 1, bytes(392)) + note("VMCOREINFO", 0, b"OSRELEASE=6.1.0\r\nPAGESIZE=4096\r\n")
put("fuzz-elf", "notes-repeated", elf_core(nb, [(paddr, page)], note_headers=[(0, len(nb))] * 64))
put("fuzz-elf", "notes-overlapping", elf_core(nb, [(paddr, page)], note_headers=[(0, len(nb)), (12, len(nb) - 12), (400, 200), (0, 24)]))
put("fuzz-elf", "pn-xnum", elf_core(nb, [(paddr + i * 0x2000, page[:64]) for i in range(8)], xnum=True))
full = elf_core(nb, [(paddr, page), (paddr + 0x10000, page)])
put("fuzz-elf", "cut-in-program-headers", full[:64 + 56 + 30])

# debugfs texts.
for p in glob.glob(os.path.join(root, "../shared/fixtures/kvm-*/vgic-state.txt")):
    put("fuzz-debugfs", os.path.basename(os.path.dirname(p)), open(p, "rb").read()[-4096:])
put("fuzz-debugfs", "its-state", b"Device ID: 0x8, Event ID Range: [0 - 7]\nEVENT_ID    INTID  HWINTID   TARGET   COL_ID HW\n-----------------------------------------------\n       0     8193        0        0        0  0\n")

# walker: header (BASER0/1, TYPER, CBASER, CREADR|CWRITER, PROPBASER, PENDBASER, format) + body.
for fmt, typer, baser0, body in [(0, 0x1EF71, 0xF907000040000600, page), (1, 0x1F0001EFB1, 0xB907000040000600, page)]:
    head = b"".join(struct.pack("<Q", v) for v in [baser0, 0xBC07000040010600, typer, 0xB80000004002040F, 0, 0x4003078F, 0x40040780, fmt])
    put("fuzz-walker", "fmt%d" % fmt, head + body)
# driver: the committed seed cut by fuzz-driver from tcg-basic's core (VMCOREINFO text + the
# ranges the driver walk read, see README); and the same with the text moved into guest RAM,
# so that the harness finds it by the RAM scan (input-formats.md §6.2).
for p in glob.glob(os.path.join(root, "Fuzz/seeds/fuzz-driver/*")):
    data = open(p, "rb").read()
    put("fuzz-driver", os.path.basename(p), data)
    n, = struct.unpack_from("<H", data, 0)
    text = data[2:2 + n]
    scan = struct.pack("<H", 0) + data[2 + n:]
    scan += struct.pack("<QH", 0x40000000, 8) + bytes(8) + struct.pack("<QH", 0x40001000, len(text)) + text
    put("fuzz-driver", os.path.basename(p) + "-scan", scan)

# qcow2 (qemu docs/interop/qcow2.txt): the tiny stream above as the VM state of snapshot "s1",
# in 512-byte clusters (standard, deflate- or zstd-less: raw deflate as QEMU writes it) and in
# 16 KiB clusters with extended L2 entries.
def qcow2(stream, cluster_bits=9, compress=False, extended=False, version=3):
    cs = 1 << cluster_bits
    l2_bits = cluster_bits - (4 if extended else 3)
    disk = 1 << 20
    per_l1 = cs << l2_bits
    first = (disk + per_l1 - 1) // per_l1
    img = bytearray(cs)
    entries = []
    for c in range(0, len(stream), cs):
        chunk = stream[c:c + cs].ljust(cs, b"\0")
        if compress:
            co = zlib.compressobj(6, zlib.DEFLATED, -12)
            data = co.compress(chunk) + co.flush()
            off = len(img) + 7  # unaligned
            img += bytes(7) + data
            x = 62 - (cluster_bits - 8)
            sectors = ((off + len(data) - 1) >> 9) - (off >> 9)
            entries.append((1 << 62 | sectors << x | off, 0))
        else:
            if len(img) % cs:
                img += bytes(cs - len(img) % cs)
            entries.append((len(img) | 1 << 63, 0xFFFFFFFF if extended else 0))
            img += chunk
    if len(img) % cs:
        img += bytes(cs - len(img) % cs)
    per_l2 = 1 << l2_bits
    l2s = []
    for t in range(0, len(entries), per_l2):
        l2s.append(len(img))
        tab = bytearray(cs)
        for i, (e, bm) in enumerate(entries[t:t + per_l2]):
            esz = 16 if extended else 8
            tab[i * esz:i * esz + 8] = be(e, 8)
            if extended:
                tab[i * esz + 8:i * esz + 16] = be(bm, 8)
        img += tab
    l1_size = first + len(l2s)
    l1 = len(img)
    tab = bytearray(max(cs, (l1_size * 8 + cs - 1) // cs * cs))
    for i, o in enumerate(l2s):
        tab[(first + i) * 8:(first + i) * 8 + 8] = be(o | 1 << 63, 8)
    img += tab
    st = len(img)
    e = be(l1, 8) + be(l1_size, 4) + be(1, 2) + be(2, 2) + be(1796601938, 4) + be(0, 4) + be(32707855576, 8)
    e += be(len(stream), 4) + be(24, 4) + be(len(stream), 8) + be(disk, 8) + be(2**64 - 1, 8) + b"1" + b"s1"
    e += bytes((8 - len(e) % 8) % 8)
    img += e + bytes((cs - len(e) % cs) % cs)
    hdr = b"QFI\xfb" + be(version, 4) + be(0, 8) + be(0, 4) + be(cluster_bits, 4) + be(disk, 8) + be(0, 4)
    hdr += be(0, 4) + be(0, 8) + be(0, 8) + be(0, 4) + be(1, 4) + be(st, 8)
    if version == 3:
        hdr += be(16 if extended else 0, 8) + be(0, 8) + be(0, 8) + be(4, 4) + be(112, 4) + bytes(8)
    img[0:len(hdr)] = hdr
    return bytes(img)


put("fuzz-qcow2", "v3-512", qcow2(s))
put("fuzz-qcow2", "v2-512", qcow2(s, version=2))
put("fuzz-qcow2", "v3-deflate", qcow2(s, compress=True, cluster_bits=12))
put("fuzz-qcow2", "v3-extended-l2", qcow2(s, cluster_bits=14, extended=True))

# btf (issue 20): mode byte 0 + a BTF blob with every kind of include/uapi/linux/btf.h and the
# driver's structs (its_node, its_device twice, rdists with its anonymous per-CPU struct);
# mode byte 1 + a kallsyms image (six u32 offsets, then the tables; scripts/kallsyms.c layout).
strs = bytearray(b"\0")
def name(n):
    global strs
    off = len(strs)
    strs += n.encode() + b"\0"
    return off
types = bytearray()
def ty(nm, kind, vlen, size_or_type, extra=b"", flag=0):
    global types
    types += struct.pack("<III", nm, (flag << 31) | (kind << 24) | vlen, size_or_type) + extra
u64 = 1; ty(name("u64"), 1, 0, 8, struct.pack("<I", 64))                    # 1 INT
ptr = 2; ty(0, 2, 0, 1)                                                     # 2 PTR -> u64
arr = 3; ty(0, 3, 0, 0, struct.pack("<III", 5, 1, 8))                       # 3 ARRAY [8] of its_baser
lh = 4; ty(name("list_head"), 4, 2, 16, struct.pack("<III", name("next"), 2, 0) + struct.pack("<III", name("prev"), 2, 64))
baser = 5; ty(name("its_baser"), 4, 1, 24, struct.pack("<III", name("val"), 1, 0))
node_members = [("entry", 4, 0), ("phys_base", 1, 128), ("cmd_base", 2, 192), ("cmd_write", 2, 256), ("tables", 3, 320),
                ("collections", 2, 1856), ("typer", 1, 1920), ("flags", 1, 1984), ("its_device_list", 4, 2048)]
ty(name("its_node"), 4, len(node_members), 272, b"".join(struct.pack("<III", name(n), t, o) for n, t, o in node_members))  # 6
ty(name("its_device"), 4, 3, 24, struct.pack("<III", name("entry"), 4, 0) + struct.pack("<III", name("dev_list"), 4, 64)
   + struct.pack("<III", name("num_eventid_bits"), 1, 128))                  # 7 KVM's
ty(name("event_lpi_map"), 4, 2, 16, struct.pack("<III", name("lpi_map"), 2, 0) + struct.pack("<III", name("lpi_base"), 1, 64))  # 8
dev_members = [("entry", 4, 0), ("event_map", 8, 128), ("itt", 2, 256), ("device_id", 1, 320), ("nr_ites", 1, 384)]
ty(name("its_device"), 4, len(dev_members), 56, b"".join(struct.pack("<III", name(n), t, o) for n, t, o in dev_members))  # 9
ty(0, 4, 2, 24, struct.pack("<III", name("rd_base"), 2, 0) + struct.pack("<III", name("pend_page"), 2, 64))  # 10 anonymous
ty(0, 2, 0, 10)                                                             # 11 PTR -> anonymous
ty(name("rdists"), 4, 4, 48, struct.pack("<III", name("rdist"), 11, 0) + struct.pack("<III", name("prop_table_pa"), 1, 64)
   + struct.pack("<III", name("prop_table_va"), 2, 128) + struct.pack("<III", name("gicd_typer"), 1, 256))  # 12
ty(name("u"), 5, 2, 8, struct.pack("<III", name("a"), 1, 3 << 24 | 0) + struct.pack("<III", name("b"), 1, 5 << 24 | 3), flag=1)  # 13 UNION bitfields
ty(name("e"), 6, 1, 4, struct.pack("<Ii", name("E0"), -1))                # 14 ENUM
ty(name("fwd"), 7, 0, 0)                                                   # 15 FWD
ty(name("u64_t"), 8, 0, 1)                                                 # 16 TYPEDEF
ty(0, 9, 0, 16); ty(0, 10, 0, 17); ty(0, 11, 0, 2)                         # 17 VOLATILE 18 CONST 19 RESTRICT
ty(0, 13, 1, 1, struct.pack("<II", name("x"), 1))                          # 20 FUNC_PROTO
ty(name("f"), 12, 0, 20)                                                   # 21 FUNC
ty(name("v"), 14, 0, 1, struct.pack("<I", 1))                              # 22 VAR
ty(name(".data..percpu"), 15, 1, 8, struct.pack("<III", 22, 0, 8))         # 23 DATASEC
ty(name("double"), 16, 0, 8)                                               # 24 FLOAT
ty(name("tag"), 17, 0, 6, struct.pack("<i", -1))                           # 25 DECL_TAG
ty(name("user"), 18, 0, 2)                                                 # 26 TYPE_TAG
ty(name("e64"), 19, 1, 8, struct.pack("<III", name("B"), 1, 2))            # 27 ENUM64
btf = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strs)) + bytes(types) + bytes(strs)
put("fuzz-btf", "btf-all-kinds", b"\0" + btf)
tokens = [b"_"] + [bytes([i]) for i in range(1, 256)]
token_table = b"".join(t + b"\0" for t in tokens)
token_index = b"".join(struct.pack("<H", sum(len(t) + 1 for t in tokens[:i])) for i in range(256))
syms = [("T_stext", 0x1000), ("tits_save_disable", 0x2000), ("tits_cpu_init", 0x2040), ("T_etext", 0x3000)]
names_table = b"".join(bytes([len(n)]) + n.encode() for n, _ in syms)
offsets_table = b"".join(struct.pack("<I", a) for _, a in syms)
# ADRP x0, +0x1000 page; ADD x0, x0, #0x10 in its_save_disable (at 0x2000 of the image).
code = struct.pack("<II", 0x90000000 | (1 << 29), 0x91004000)
body = bytearray(24)
def place(blob):
    global body
    off = len(body)
    body += blob
    return off
at_names = place(names_table); at_num = place(struct.pack("<I", len(syms)) + bytes(4))
at_tt = place(token_table); at_ti = place(token_index); at_off = place(offsets_table)
at_rb = place(struct.pack("<Q", 0xffff800008000000))
body[0:24] = struct.pack("<IIIIII", at_names, at_num, at_tt, at_ti, at_off, at_rb)
body = body.ljust(0x2000, b"\0") + code
put("fuzz-btf", "kallsyms", b"\1" + bytes(body))
print("seeds in", out)

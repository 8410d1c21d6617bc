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

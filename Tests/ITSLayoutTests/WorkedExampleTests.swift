import Testing
@testable import ITSLayout

/// The worked examples of its-formats.md §1.9, §1.10 and §1.11, value by value.
@Suite struct RegisterWorkedExamples {
    @Test func exampleA_twoLevelDeviceTableBaser() {
        let b = GITSBaser(rawValue: 0xD907_0000_4009_0600)
        #expect(b.valid && b.indirect)
        #expect(b.type == .devices)
        #expect(b.entrySize == 8)
        #expect(b.pageSize == .size64K)
        #expect(b.pages == 1)
        #expect(b.shareability == 1)
        #expect(b.physicalAddress == GuestPhysicalAddress(0x4009_0000))
        #expect(GITSBaser.layout.field("InnerCache")?.extract(b.rawValue) == 3)
        #expect(GITSBaser.layout.field("OuterCache")?.extract(b.rawValue) == 0)
        // 1 page of L1 = 8192 L1 entries; DeviceID 0x123 → l1 0, DTE at L2 + 0x918.
        let g = TableGeometry(baserIndex: 0, baser: b, base: b.physicalAddress, indirect: true,
                              pageSize: 65536, entrySize: 8, tableBytes: b.tableBytes, idLimit: 1 << 16)
        #expect(g.slotCount == 8192)
        #expect(0x123 / g.entriesPerPage == 0)
        #expect(0x123 % g.entriesPerPage * 8 == 0x918)
        #expect(g.reachableIDs == 65536)
    }

    @Test func exampleB_flat4KCollectionTableBaser() {
        let b = GITSBaser(rawValue: 0xBC07_0000_8123_4400)
        #expect(b.valid && !b.indirect)
        #expect(b.type == .collections)
        #expect(GITSBaser.layout.field("InnerCache")?.extract(b.rawValue) == 7)
        #expect(b.entrySize == 8)
        #expect(b.physicalAddress == GuestPhysicalAddress(0x8123_4000))
        #expect(b.shareability == 1)
        #expect(b.pageSize == .size4K)
        #expect(b.tableBytes / b.entrySize == 512)
    }

    @Test func exampleC_52BitAddressWith64KPages() {
        let b = GITSBaser(rawValue: 0x8107_0000_1234_F200)
        #expect(b.valid && b.type == .devices && b.entrySize == 8 && b.pageSize == .size64K)
        #expect(b.physicalAddress == GuestPhysicalAddress(0x000F_0000_1234_0000))
    }

    @Test func exampleD_kvmTyper() {
        let t = GITSTyper(rawValue: 0x1EF71)
        #expect(t.physical && !t.virtual)
        #expect(t.ittEntrySize == 8)
        #expect(t.eventIDBits == 16 && t.deviceIDBits == 16)
        #expect(!t.pta && t.hcc == 0 && !t.cil && t.collectionIDBits == 16)
    }

    @Test func exampleE_qemuTyper() {
        let t = GITSTyper(rawValue: 0x1F_0001_EFB1)
        #expect(t.physical && !t.virtual)
        #expect(t.ittEntrySize == 12)
        #expect(t.eventIDBits == 16 && t.deviceIDBits == 16)
        #expect(!t.pta && t.cil && t.collectionIDBits == 16)
        let v4 = GITSTyper(rawValue: 0x3F_0001_EFB3)
        #expect(v4.virtual && GITSTyper.layout.field("VMOVP")?.extract(v4.rawValue) == 1)
    }

    @Test func exampleF_commandQueue() {
        let c = GITSCBaser(rawValue: 0xB800_0000_4002_040F)
        #expect(c.valid)
        #expect(GITSCBaser.layout.field("InnerCache")?.extract(c.rawValue) == 7)
        #expect(GITSCBaser.layout.field("OuterCache")?.extract(c.rawValue) == 0)
        #expect(c.physicalAddress == GuestPhysicalAddress(0x4002_0000))
        #expect(GITSCBaser.layout.field("Shareability")?.extract(c.rawValue) == 1)
        #expect(c.queueBytes == 65536 && c.queueBytes / 32 == 2048)
        let w = GITSCommandOffset(rawValue: 0x1E0)
        #expect(w.offset == 0x1E0 && w.offset / 32 == 15)
    }

    @Test func exampleG_propbaser() {
        let p = GICRPropBaser(rawValue: 0x4030_078F)
        #expect(p.idBits == 16)
        #expect(p.intidLimit - 8192 == 57344)
        #expect(GICRPropBaser.layout.field("InnerCache")?.extract(p.rawValue) == 7)
        #expect(GICRPropBaser.layout.field("Shareability")?.extract(p.rawValue) == 1)
        #expect(p.physicalAddress == GuestPhysicalAddress(0x4030_0000))
        #expect(p.physicalAddress.rawValue + (8195 - 8192) == 0x4030_0003)
    }

    @Test func exampleH_pendbaser() {
        let p = GICRPendBaser(rawValue: 0x4000_0000_4040_0780)
        #expect(p.ptz)
        #expect(GICRPendBaser.layout.field("InnerCache")?.extract(p.rawValue) == 7)
        #expect(p.physicalAddress == GuestPhysicalAddress(0x4040_0000))
        // LPI 8195 ↔ byte 0x4040_0400 bit 3.
        #expect(p.physicalAddress.rawValue + 8195 / 8 == 0x4040_0400 && 8195 % 8 == 3)
    }

    @Test func iidrIdentifiesKVM() {
        let k = GITSIIDR(rawValue: 0x4B00_043B)
        #expect(k.productID == 0x4B && k.implementer == 0x43B && k.revision == 0 && k.variant == 0)
        let q = GITSIIDR(rawValue: 0x43B)
        #expect(q.productID == 0 && q.implementer == 0x43B)
    }

    @Test func ctlrFields() {
        let c = GITSCTLR(rawValue: 0x8000_0001)
        #expect(c.enabled && c.quiescent)
    }

    @Test func formatIsChosenFromTyperThenIIDR() throws {
        var r = ITSRegisterState()
        r.typer = Sourced(GITSTyper(rawValue: 0x1EF71), Provenance(.flag, "--typer"))
        #expect(try chooseFormat(r, itsIndex: 0, override: nil).0 == .kvm)
        r.typer = Sourced(GITSTyper(rawValue: 0x1F_0001_EFB1), Provenance(.flag, "--typer"))
        #expect(try chooseFormat(r, itsIndex: 0, override: nil).0 == .qemu)
        #expect(try chooseFormat(r, itsIndex: 0, override: .kvm).0 == .kvm)
        r.typer = nil
        r.iidr = Sourced(GITSIIDR(rawValue: 0x4B00_043B), Provenance(.flag, "--iidr"))
        #expect(try chooseFormat(r, itsIndex: 0, override: nil).0 == .kvm)
        r.iidr = Sourced(GITSIIDR(rawValue: 0), Provenance(.migrationStream, "arm_gicv3_its"))
        #expect(try chooseFormat(r, itsIndex: 0, override: nil).0 == .qemu)
        r.iidr = nil
        #expect(throws: ITSLayoutError.self) { try chooseFormat(r, itsIndex: 0, override: nil) }
    }
}

@Suite struct KVMEntryWorkedExamples {
    @Test func dteWithNext() {
        let d = KVMFormat.decodeDTE(0x8010_0000_0814_0004)
        #expect(d.valid && d.next == 8)
        #expect(d.ittAddress == GuestPhysicalAddress(0x40A0_0000))
        #expect(d.eventIDBits == 5)
        // Bytes in RAM 04 00 14 08 00 00 10 80.
        #expect([0x04, 0x00, 0x14, 0x08, 0x00, 0x00, 0x10, 0x80].loadLE(at: 0, count: 8) == 0x8010_0000_0814_0004)
        #expect(KVMFormat.decodeDTE(0x8000_0000_0814_0004).next == 0)
        #expect(KVMFormat.dteLayout.field("ITT_addr")?.extract(0x8010_0000_0814_0004) == 0x40A000)
    }

    @Test func cte() {
        let c = KVMFormat.decodeCTE(0x8000_0000_0001_0002)
        #expect(c.valid && c.rdBase == 1 && c.icid == ICID(2))
        let u = KVMFormat.decodeCTE(0x8000_FFFF_FFFF_0003)
        #expect(u.valid && u.rdBase == KVMFormat.collectionNotMapped && u.icid == ICID(3))
        #expect(!KVMFormat.decodeCTE(0).valid)
    }

    @Test func ite() {
        let a = KVMFormat.decodeITE(0x0001_0000_2000_0002)
        #expect(a.valid && a.next == 1 && a.lpi == LPI(8192) && a.icid == ICID(2))
        let b = KVMFormat.decodeITE(0x0000_0000_2001_0000)
        #expect(b.valid && b.next == 0 && b.lpi == LPI(8193) && b.icid == ICID(0))
        #expect(!KVMFormat.decodeITE(0).valid)
    }

    @Test func level1Entry() {
        let l = Level1Entry(raw: 0x8000_0000_4010_0000)
        #expect(l.valid && l.level2Address == GuestPhysicalAddress(0x4010_0000))
    }
}

@Suite struct QEMUEntryWorkedExamples {
    @Test func dte() {
        let d = QEMUFormat.decodeDTE(0x1028_0009)
        #expect(d.valid && d.eventIDBits == 5 && d.next == nil)
        #expect(d.ittAddress == GuestPhysicalAddress(0x40A0_0000))
    }

    @Test func cteIndexedByICID() {
        let c = QEMUFormat.decodeCTE(0x3)
        #expect(c.valid && c.rdBase == 1 && c.icid == nil)
    }

    @Test func iteAndQEMU62Residue() {
        let i = QEMUFormat.decodeITE(low: 0x0000_0002_0000_800F, high: 0)
        #expect(i.valid && i.physical && i.lpi == LPI(8195) && i.icid == ICID(2) && !i.writtenByQEMU62)
        let old = QEMUFormat.decodeITE(low: 0x0000_0002_FC00_800F, high: 0)
        #expect(old.valid && old.physical && old.lpi == LPI(8195) && old.icid == ICID(2) && old.writtenByQEMU62)
        // EventID 3 sits at ITT + 0x24.
        #expect(3 * QEMUFormat.iteSize == 0x24)
    }
}

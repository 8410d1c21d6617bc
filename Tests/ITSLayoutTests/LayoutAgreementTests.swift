import Testing
@testable import ITSLayout

/// One source of truth: every decoder reads its fields through the layout that names them, so
/// decoding random raw values through the layout (`BitLayout.decode`) and through the decoder
/// must agree field by field. A decoder that re-typed a shift or mask wrongly fails here.
@Suite struct LayoutAgreementTests {
    /// SplitMix64: the same values on every run.
    struct Values: Sequence, IteratorProtocol {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var left = 20_000
        mutating func next() -> UInt64? {
            guard left > 0 else { return nil }
            left -= 1
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            // Every fourth value has its top bits set, so valid bits are exercised both ways.
            return left % 4 == 0 ? z | 0xC000_0000_0000_0001 : z ^ (z >> 31)
        }
    }

    func field(_ layout: BitLayout, _ name: String, _ raw: UInt64) throws -> UInt64 {
        let fields = Dictionary(uniqueKeysWithValues: layout.decode(raw).map { ($0.name, $0.value) })
        return try #require(fields[name], "\(layout.name) has no field \(name)")
    }

    @Test func kvmEntriesAgreeWithTheirLayouts() throws {
        for raw in Values() {
            let d = KVMFormat.decodeDTE(raw)
            #expect(d.valid == (try field(KVMFormat.dteLayout, "V", raw) == 1))
            #expect(d.next == (try field(KVMFormat.dteLayout, "next", raw)))
            #expect(d.ittAddress.rawValue == (try field(KVMFormat.dteLayout, "ITT_addr", raw)) << 8)
            #expect(d.eventIDBits == (try field(KVMFormat.dteLayout, "Size", raw)) + 1)
            let c = KVMFormat.decodeCTE(raw)
            #expect(c.valid == (try field(KVMFormat.cteLayout, "V", raw) == 1))
            #expect(c.icid.map { UInt64($0.rawValue) } == (try field(KVMFormat.cteLayout, "ICID", raw)))
            #expect(c.rdBase == (try field(KVMFormat.cteLayout, "RDBase", raw)))
            let i = KVMFormat.decodeITE(raw)
            #expect(UInt64(i.lpi.rawValue) == (try field(KVMFormat.iteLayout, "pINTID", raw)))
            #expect(i.valid == (i.lpi.rawValue != 0))
            #expect(UInt64(i.icid.rawValue) == (try field(KVMFormat.iteLayout, "ICID", raw)))
            #expect(i.next == (try field(KVMFormat.iteLayout, "next", raw)))
        }
    }

    @Test func qemuEntriesAgreeWithTheirLayouts() throws {
        var highs = Values()
        highs.state = 42
        for raw in Values() {
            let d = QEMUFormat.decodeDTE(raw)
            #expect(d.valid == (try field(QEMUFormat.dteLayout, "Valid", raw) == 1))
            #expect(d.ittAddress.rawValue == (try field(QEMUFormat.dteLayout, "ITT_addr", raw)) << 8)
            #expect(d.eventIDBits == (try field(QEMUFormat.dteLayout, "Size", raw)) + 1)
            #expect(d.next == nil)
            let c = QEMUFormat.decodeCTE(raw)
            #expect(c.valid == (try field(QEMUFormat.cteLayout, "Valid", raw) == 1))
            #expect(c.rdBase == (try field(QEMUFormat.cteLayout, "RDBase", raw)))
            let high = (highs.next() ?? 0) & 0xFFFF_FFFF
            let i = QEMUFormat.decodeITE(low: raw, high: high)
            let l = QEMUFormat.iteLowLayout
            #expect(i.valid == (try field(l, "Valid", raw) == 1))
            #expect(i.physical == (try field(l, "IntType", raw) == 1))
            #expect(UInt64(i.lpi.rawValue) == (try field(l, "INTID", raw)))
            #expect(UInt64(i.icid.rawValue) == (try field(l, "ICID", raw)))
            #expect(i.writtenByQEMU62 == (try field(l, "unused", raw) == 0x3F))
            #expect(i.raw == [raw, high])
        }
    }

    @Test func registersAgreeWithTheirLayouts() throws {
        for raw in Values() {
            let b = GITSBaser(rawValue: raw), bl = GITSBaser.layout
            #expect(b.valid == (try field(bl, "Valid", raw) == 1))
            #expect(b.indirect == (try field(bl, "Indirect", raw) == 1))
            #expect(b.type.rawValue == (try field(bl, "Type", raw)))
            #expect(b.entrySize == (try field(bl, "Entry_Size", raw)) + 1)
            #expect(b.pages == (try field(bl, "Size", raw)) + 1)
            #expect(b.shareability == (try field(bl, "Shareability", raw)))
            let pageSizeField = try field(bl, "Page_Size", raw)
            #expect(b.pageSize?.bytes == [0: 4096, 1: 16384, 2: 65536][pageSizeField])
            let pa = try field(bl, "Physical_Address", raw) << 12
            // §1.6: with 64 KiB pages the address field's low four bits are PA[51:48].
            let expected = b.pageSize == .size64K ? (pa & ~0xF000) | ((pa >> 12 & 0xF) << 48) : pa
            #expect(b.physicalAddress.rawValue == expected)

            let t = GITSTyper(rawValue: raw), tl = GITSTyper.layout
            #expect(t.physical == (try field(tl, "Physical", raw) == 1))
            #expect(t.virtual == (try field(tl, "Virtual", raw) == 1))
            #expect(t.ittEntrySize == (try field(tl, "ITT_entry_size", raw)) + 1)
            #expect(t.eventIDBits == (try field(tl, "IDbits", raw)) + 1)
            #expect(t.deviceIDBits == (try field(tl, "Devbits", raw)) + 1)
            #expect(t.pta == (try field(tl, "PTA", raw) == 1))
            #expect(t.hcc == (try field(tl, "HCC", raw)))
            #expect(t.collectionIDBits == (try field(tl, "CIL", raw) == 1 ? (try field(tl, "CIDbits", raw)) + 1 : 16))

            let r32 = raw & 0xFFFF_FFFF
            let i = GITSIIDR(rawValue: r32)
            #expect([i.productID, i.variant, i.revision, i.implementer] == GITSIIDR.layout.decode(r32).map(\.value))
            let c = GITSCTLR(rawValue: r32)
            #expect(c.enabled == (try field(GITSCTLR.layout, "Enabled", r32) == 1))
            #expect(c.quiescent == (try field(GITSCTLR.layout, "Quiescent", r32) == 1))

            let cb = GITSCBaser(rawValue: raw)
            #expect(cb.valid == (try field(GITSCBaser.layout, "Valid", raw) == 1))
            #expect(cb.physicalAddress.rawValue == (try field(GITSCBaser.layout, "Physical_Address", raw)) << 12)
            #expect(cb.queueBytes == ((try field(GITSCBaser.layout, "Size", raw)) + 1) * 4096)

            let o = GITSCommandOffset(rawValue: raw)
            #expect(o.offset == (try field(GITSCommandOffset.writerLayout, "Offset", raw)) << 5)
            #expect(o.flag == (try field(GITSCommandOffset.readerLayout, "Stalled", raw) == 1))

            let p = GICRPropBaser(rawValue: raw)
            #expect(p.idBits == (try field(GICRPropBaser.layout, "IDbits", raw)) + 1)
            #expect(p.physicalAddress.rawValue == (try field(GICRPropBaser.layout, "Physical_Address", raw)) << 12)
            let q = GICRPendBaser(rawValue: raw)
            #expect(q.ptz == (try field(GICRPendBaser.layout, "PTZ", raw) == 1))
            #expect(q.physicalAddress.rawValue == (try field(GICRPendBaser.layout, "Physical_Address", raw)) << 16)

            let l1 = Level1Entry(raw: raw)
            #expect(l1.valid == (try field(Level1Entry.layout, "Valid", raw) == 1))
            #expect(l1.level2Address.rawValue == (try field(Level1Entry.layout, "Physical_Address", raw)) << 12)

            let byte = raw & 0xFF
            #expect(LPIProperty.priority.inPlace(byte) == (try field(LPIProperty.layout, "Priority", byte)) << 2)
            #expect(LPIProperty.enable.isSet(byte) == (byte & 1 == 1))
        }
    }

    /// Commands: the fields of its-formats.md §2.3, read through `ITSCommand.layouts`.
    @Test func commandsAgreeWithTheirLayouts() throws {
        var values = Values()
        for opcode: UInt8 in [0x08, 0x09, 0x0A, 0x0B, 0x01, 0x0F, 0x0C, 0x03, 0x04, 0x0D, 0x05, 0x0E] {
            for _ in 0..<2000 {
                var w = (0..<4).map { _ in values.next() ?? 0 }
                w[0] = w[0] & ~0xFF | UInt64(opcode)
                let c = ITSCommand(slot: 0, address: GuestPhysicalAddress(0), words: w, state: .processed)
                let layout = try #require(ITSCommand.layouts[opcode])
                #expect(c.name == layout.name)
                let names = Set(layout.fields.map(\.bits.name))
                #expect((c.deviceID != nil) == names.contains("DeviceID"))
                #expect((c.eventID != nil) == names.contains("EventID"))
                #expect((c.icid != nil) == names.contains("ICID"))
                if let d = c.deviceID { #expect(UInt64(d.rawValue) == w[0] >> 32) }
                if let e = c.eventID { #expect(UInt64(e.rawValue) == w[1] & 0xFFFF_FFFF) }
                if let i = c.icid { #expect(UInt64(i.rawValue) == w[2] & 0xFFFF) }
                // The KVM decoders of §2.3, written out once here as the cross-check.
                switch opcode {
                case 0x08:
                    if w[2] >> 63 == 1 {
                        #expect(c.description.contains("ITT \(hex(((w[2] >> 8) & ((1 << 44) - 1)) << 8))"))
                        #expect(c.description.contains("\((w[1] & 0x1F) + 1) EventID bits"))
                    } else {
                        #expect(c.description.hasSuffix("V=0 (unmap)"))
                    }
                case 0x0A: #expect(c.description.contains("LPI \(w[1] >> 32)"))
                case 0x0E: #expect(c.description == "RDbase \(w[2] >> 16 & 0xF_FFFF_FFFF) → \(w[3] >> 16 & 0xF_FFFF_FFFF)")
                default: break
                }
            }
        }
    }
}

@testable import ITSLayout

/// Guest images built entry by entry, each with the registers that describe it. The image
/// tests check what the walk makes of them; RuleCoverageTests names, for each rule, the one
/// in which it fires.
enum Scenarios {
    // MARK: KVM ABI 0 (its-formats.md §1.10): 64 KiB pages, device table at `dt`, collections at `ct`

    static let dt: UInt64 = 0x4010_0000
    static let kvmCT: UInt64 = 0x4100_0000

    static func kvm(pages: UInt64 = 1, indirect: Bool = false) -> ITSRegisterState {
        tables(.kvm, dt: dt, ct: kvmCT, indirect: indirect, pages: pages)
    }

    /// Collections 0-3 → vCPUs 0-3.
    static func kvmWithCollections() -> ImageBuilder {
        var b = ImageBuilder()
        b.map(kvmCT, 65536)
        for i in 0..<UInt64(4) { b.kvmCTE(kvmCT + i * 8, icid: i, rd: i) }
        return b
    }

    /// DeviceID 10's `next` is capped (16383; the real gap is 19990): the walk lands short and
    /// steps on one by one to DeviceID 20000, jumping over the valid DTE of DeviceID 12.
    static func kvmCappedNext() -> Scenario {
        var b = kvmWithCollections()
        b.map(dt, 4 * 65536)  // flat, 32768 DTEs
        b.kvmDTE(dt + 10 * 8, itt: 0x4200_0000, bits: 1, next: KVMFormat.maxDeviceOffset)  // real gap 19990
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 1, next: 0)
        b.kvmDTE(dt + 20000 * 8, itt: 0x4200_0100, bits: 2, next: 0)
        b.kvmITE(0x4200_0100, lpi: 8193, icid: 2, next: 2)
        b.kvmITE(0x4200_0100 + 2 * 8, lpi: 8194, icid: 3, next: 0)
        // Skipped by the capped jump: stale, never restored.
        b.kvmDTE(dt + 12 * 8, itt: 0x4200_0200, bits: 1, next: 1)
        b.kvmITE(0x4200_0200, lpi: 8195, icid: 0, next: 0)
        return Scenario(builder: b, its: kvm(pages: 4))
    }

    /// A valid DTE (16) and a valid ITE (DeviceID 8, EventID 3) after the `next = 0` that ends
    /// their chain.
    static func kvmValidAfterNextZero() -> Scenario {
        var b = kvmWithCollections()
        b.map(dt, 65536)
        b.kvmDTE(dt + 8 * 8, itt: 0x4200_0000, bits: 2, next: 0)
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 0, next: 0)
        b.kvmITE(0x4200_0000 + 3 * 8, lpi: 8199, icid: 1, next: 0)  // after next = 0
        b.kvmDTE(dt + 16 * 8, itt: 0x4200_0100, bits: 1, next: 0)  // after next = 0
        b.kvmITE(0x4200_0100, lpi: 8200, icid: 0, next: 0)
        return Scenario(builder: b, its: kvm())
    }

    /// Collection slot 2 is the terminator; ICID 2's CTE after it is never read, so the ITE
    /// that names ICID 2 has no collection.
    static func kvmCollectionTableWithAHole() -> Scenario {
        var b = kvmCollections([(0, 0), (1, 1), nil, (2, 2)])  // slot 2 is the terminator
        b.kvmDevice8([(8192, 1), (8193, 2)])
        return Scenario(builder: b, its: kvm())
    }

    /// A flat device table and the collection table with `ctes` (ICID, RDbase) from slot 0;
    /// nil leaves a slot invalid.
    static func kvmCollections(_ ctes: [(icid: UInt64, rd: UInt64)?]) -> ImageBuilder {
        var b = ImageBuilder()
        b.map(kvmCT, 65536)
        b.map(dt, 65536)
        for (i, c) in ctes.enumerated() {
            if let c { b.kvmCTE(kvmCT + UInt64(i) * 8, icid: c.icid, rd: c.rd) }
        }
        return b
    }

    /// Two level-2 pages (level-1 entries 0 and 3); DeviceID 256's capped `next` leaves page 0.
    static func kvmTwoLevelLeavingPages() -> Scenario {
        var b = kvmWithCollections()
        b.map(dt, 65536)
        let l2a: UInt64 = 0x4300_0000, l2b: UInt64 = 0x4400_0000
        b.map(l2a, 65536); b.map(l2b, 65536)
        b.l1(dt + 0, page: l2a)
        b.l1(dt + 3 * 8, page: l2b)  // DeviceIDs 24576..32767
        b.kvmDTE(l2a + 256 * 8, itt: 0x4200_0000, bits: 1, next: KVMFormat.maxDeviceOffset)
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 3, next: 0)
        b.kvmDTE(l2b + (25856 - 24576) * 8, itt: 0x4200_0100, bits: 1, next: 0)
        b.kvmITE(0x4200_0100, lpi: 8193, icid: 0, next: 0)
        return Scenario(builder: b, its: kvm(indirect: true))
    }

    /// DeviceID 8's uncapped `next` (4) lands on DeviceID 12, an invalid entry.
    static func kvmUncappedNextLandingOnAnInvalidEntry() -> Scenario {
        var b = kvmWithCollections()
        b.map(dt, 65536)
        b.kvmDTE(dt + 8 * 8, itt: 0x4200_0000, bits: 1, next: 4)  // lands on 12: invalid
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 0, next: 0)
        b.kvmDTE(dt + 16 * 8, itt: 0x4200_0100, bits: 1, next: 0)
        b.kvmITE(0x4200_0100, lpi: 8193, icid: 0, next: 0)
        return Scenario(builder: b, its: kvm())
    }

    /// An unmapped collection (5), a duplicate ICID (0), a target beyond 4 vCPUs (ICID 6) and
    /// an ITE whose pINTID (42) KVM's restore rejects.
    static func kvmRestoreRejects() -> Scenario {
        // ICID 0 twice: a duplicate; RDbase 77: beyond 4 vCPUs.
        var b = kvmCollections([(0, 0), (5, KVMFormat.collectionNotMapped), (0, 1), (6, 77)])
        b.kvmDevice8([(8192, 5), (42, 0)])  // pINTID < 8192: restore fails
        return Scenario(builder: b, its: kvm())
    }

    /// DeviceID 8's ITT (0x7700_0000) is not in the dump.
    static func kvmAbsentITT() -> Scenario {
        var b = kvmWithCollections()
        b.map(dt, 65536)
        b.kvmDTE(dt + 8 * 8, itt: 0x7700_0000, bits: 1, next: 8)
        b.kvmDTE(dt + 16 * 8, itt: 0x4200_0000, bits: 1, next: 0)
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 0, next: 0)
        return Scenario(builder: b, its: kvm())
    }

    /// A DTE asking for 32 EventID bits (Size 31) on an ITS of 16; its ITE at EventID 65535,
    /// the last one the ITS supports.
    static func kvmDTESize31() -> Scenario {
        var b = kvmWithCollections()
        b.map(dt, 65536)
        b.kvmDTE(dt + 8 * 8, itt: 0x4200_0000, bits: 32, next: 0)
        b.map(0x4200_0000, 65536 * 8)
        b.kvmITE(0x4200_0000 + 65535 * 8, lpi: 9000, icid: 1, next: 0)
        return Scenario(builder: b, its: kvm())
    }

    // MARK: QEMU ≥ 7.0 (its-formats.md §1.11): device table at `dt`, collections at `qemuCT`

    static let qemuCT: UInt64 = 0x4020_0000

    static func qemu(page: UInt64 = 65536, indirect: Bool = false) -> ITSRegisterState {
        tables(.qemu, dt: dt, ct: qemuCT, page: page, indirect: indirect)
    }

    /// Level-1 entries 0 and 2 of a two-level table; with 16 KiB and 64 KiB pages entry 2
    /// starts beyond the ITS's 16 DeviceID bits.
    static func qemuTwoLevel(page: UInt64) -> Scenario {
        var b = ImageBuilder()
        let l1 = dt, ct = qemuCT
        b.map(l1, page)
        b.map(ct, page)
        b.qemuCTE(ct + 2 * 8, rd: 2)
        let l2a: UInt64 = 0x4040_0000, l2b: UInt64 = 0x4080_0000
        b.map(l2a, page)
        b.map(l2b, page)
        b.l1(l1 + 0 * 8, page: l2a)
        b.l1(l1 + 2 * 8, page: l2b)
        b.qemuDTE(l2a + 5 * 8, itt: 0x4030_0000, bits: 1)
        b.qemuITE(0x4030_0000, lpi: 8200, icid: 2)
        b.qemuDTE(l2b + 7 * 8, itt: 0x4030_0200, bits: 1)
        b.qemuITE(0x4030_0200 + 12, lpi: 8201, icid: 2)
        return Scenario(builder: b, its: qemu(page: page, indirect: true))
    }

    /// Level-1 entries 0 and 8 of a two-level table of 64 KiB pages: entry 8 covers DeviceIDs
    /// 65536-73727, beyond GITS_TYPER's 16 DeviceID bits (its-formats.md §1.4, §1.7).
    static func qemuLevel1BeyondTyper() -> Scenario {
        var b = ImageBuilder()
        let l2a: UInt64 = 0x4040_0000, l2b: UInt64 = 0x4080_0000
        b.map(dt, 65536); b.map(qemuCT, 65536); b.map(l2a, 65536); b.map(l2b, 65536)
        b.qemuCTE(qemuCT, rd: 0)
        b.l1(dt, page: l2a)
        b.l1(dt + 8 * 8, page: l2b)
        b.qemuDTE(l2a + 5 * 8, itt: 0x4030_0000, bits: 1)
        b.qemuITE(0x4030_0000, lpi: 8192, icid: 0)
        b.qemuDTE(l2b + 5 * 8, itt: 0x4030_0100, bits: 1)
        b.qemuITE(0x4030_0100, lpi: 8193, icid: 0)
        return Scenario(builder: b, its: qemu(indirect: true))
    }

    /// One image with a problem per device: an absent ITT, an ITT over the device table, two
    /// devices sharing one ITT (an ICID without a collection, an LPI below 8192), a DTE of Size
    /// 31 at the top of the ITT address field, a collection beyond 4 vCPUs.
    static func qemuProblems() -> Scenario {
        var b = ImageBuilder()
        let ct = qemuCT
        b.map(dt, 65536); b.map(ct, 65536)
        b.qemuCTE(ct + 0 * 8, rd: 0)
        b.qemuCTE(ct + 1 * 8, rd: 9)  // beyond 4 vCPUs
        // ITT page absent from the dump.
        b.qemuDTE(dt + 1 * 8, itt: 0x7000_0000, bits: 2)
        // ITT overlapping the device table.
        b.qemuDTE(dt + 2 * 8, itt: dt + 0x100, bits: 1)
        // Two devices sharing one ITT.
        b.qemuDTE(dt + 3 * 8, itt: 0x4030_0000, bits: 1)
        b.qemuDTE(dt + 4 * 8, itt: 0x4030_0000, bits: 1)
        b.qemuITE(0x4030_0000, lpi: 8192, icid: 7)  // ICID without a collection
        b.qemuITE(0x4030_0000 + 12, lpi: 100, icid: 1)  // LPI below 8192
        // DTE Size 31 with an ITT at the top of the address space.
        b.qemuDTE(dt + 5 * 8, itt: 0xFFFF_FFFF_FFFF_FF00 & ((1 << 52) - 1), bits: 32)
        return Scenario(builder: b, its: qemu())
    }

    /// `entries` level-1 entries of 4 KiB pages, all pointing at one level-2 page.
    static func qemuLevel1Aliases(entries: UInt64 = 128) -> Scenario {
        var b = ImageBuilder()
        let l1 = dt, ct = qemuCT, l2: UInt64 = 0x4040_0000
        let pages = (entries * 8 + 4095) / 4096
        b.map(l1, pages * 4096); b.map(ct, 4096); b.map(l2, 4096)
        for i in 0..<entries { b.l1(l1 + i * 8, page: l2) }
        b.qemuCTE(ct, rd: 0)
        b.qemuDTE(l2 + 3 * 8, itt: 0x4030_0000, bits: 1)
        b.qemuITE(0x4030_0000, lpi: 8192, icid: 0)
        return Scenario(builder: b, its: tables(.qemu, dt: l1, ct: ct, page: 4096, indirect: true, pages: pages))
    }

    /// An ITE written by QEMU 6.2 (EventID 0) and a virtual ITE (EventID 1).
    static func qemuVirtualAndQEMU62ITEs() -> Scenario {
        var b = ImageBuilder()
        let ct = qemuCT
        b.map(dt, 65536); b.map(ct, 65536)
        b.qemuCTE(ct + 2 * 8, rd: 1)
        b.qemuDTE(dt + 8 * 8, itt: 0x4030_0000, bits: 2)
        b.image.write64(0x4030_0000, 0x0000_0002_FC00_800F)  // §1.11: written by QEMU 6.2
        b.image.write64(0x4030_0000 + 12, 1 | 0 << 1 | 8300 << 2 | 5 << 48)  // virtual
        return Scenario(builder: b, its: qemu())
    }

    /// 8192 valid DTEs read with a budget of 64 KiB.
    static func qemuOverBudget() -> Scenario {
        var b = ImageBuilder()
        b.map(qemuCT, 65536)
        for i in 0..<UInt64(8192) { b.qemuDTE(dt + i * 8, itt: 0x4100_0000 + i * 256, bits: 1) }
        var s = Scenario(builder: b, its: qemu())
        s.limits.maxBytesRead = 1 << 16
        return s
    }

    /// The device table's GITS_BASER0 is `device` (its-formats.md §1.6); the collection table
    /// is valid and empty.
    static func deviceBaser(_ device: UInt64) -> Scenario {
        var b = ImageBuilder()
        b.map(dt, 65536); b.map(qemuCT, 65536)
        return Scenario(builder: b, its: registers(.qemu, device: device, collection: baser(type: 4, base: qemuCT, page: 65536)))
    }

    /// A two-level table of 64 KiB pages whose level-1 entry 0 points 4 KiB into its level-2
    /// page (its-formats.md §1.7: the page is read as the aligned one); DeviceID 5 → LPI 8192.
    static func qemuMisalignedLevel1() -> Scenario {
        var b = ImageBuilder()
        let l2: UInt64 = 0x4040_0000
        b.map(dt, 65536); b.map(qemuCT, 65536); b.map(l2, 65536)
        b.qemuCTE(qemuCT, rd: 0)
        b.l1(dt, page: l2 + 0x1000)
        b.qemuDTE(l2 + 5 * 8, itt: 0x4030_0000, bits: 1)
        b.qemuITE(0x4030_0000, lpi: 8192, icid: 0)
        return Scenario(builder: b, its: qemu(indirect: true))
    }

    /// A flat table of one 4 KiB page (512 DeviceIDs) with a device at `deviceID` → LPI 8192.
    static func qemuSmallFlatTable(deviceID: UInt64) -> Scenario {
        var b = ImageBuilder()
        b.map(dt, 4096); b.map(qemuCT, 4096)
        b.qemuCTE(qemuCT, rd: 0)
        b.qemuDTE(dt + deviceID * 8, itt: 0x4030_0000, bits: 1)
        b.qemuITE(0x4030_0000, lpi: 8192, icid: 0)
        return Scenario(builder: b, its: qemu(page: 4096))
    }

    // MARK: LPI state and the command queue (its-formats.md §1.8, §2): QEMU, 2 vCPUs

    static let prop: UInt64 = 0x4050_0000
    static let pendingTables: [UInt64] = [0x4060_0000, 0x4070_0000]

    /// DeviceID 8 EventID 0 → LPI 8195 → ICID 1 → vCPU 1, enabled unless `enabled` is false;
    /// `pendingLPI` pending in vCPU `pendingCPU`'s table.
    static func lpiState(enabled: Bool = true, pendingLPI: UInt64? = nil, pendingCPU: Int = 1) -> ImageBuilder {
        var b = ImageBuilder()
        b.map(dt, 65536); b.map(qemuCT, 65536)
        b.qemuCTE(qemuCT + 8, rd: 1)
        b.qemuDTE(dt + 8 * 8, itt: 0x4030_0000, bits: 1)
        b.qemuITE(0x4030_0000, lpi: 8195, icid: 1)
        b.image.write(prop + 3, bytes: [enabled ? 0xA3 : 0xA2])
        b.map(pendingTables[0], 16384); b.map(pendingTables[1], 16384)
        if let l = pendingLPI { b.image.write(pendingTables[pendingCPU] + l / 8, bytes: [1 << UInt8(l % 8)]) }
        return b
    }

    /// A device and a collection table that hold nothing.
    static func emptyTables() -> ImageBuilder {
        var b = ImageBuilder()
        b.map(dt, 65536); b.map(qemuCT, 65536)
        return b
    }

    /// `b` with the ITS enabled (GITS_CTLR `ctlr`) and two vCPUs whose GICR_PENDBASERs are `pend`.
    static func withLPIRegisters(_ b: ImageBuilder, pend: [UInt64] = pendingTables, ctlr: UInt64 = 1) -> Scenario {
        var regs = qemu()
        regs.ctlr = Sourced(GITSCTLR(rawValue: ctlr), Provenance(.flag, "test"))
        return Scenario(builder: b, its: regs, cpus: 2, rds: redistributors(2, prop: prop | 0xF) { pend[$0] })
    }

    static let queue: UInt64 = 0x4080_0000

    /// §2.6's worked example: MAPD, MAPTI, SYNC, MAPC in slots 14..17.
    static let workedExampleCommands: [[UInt64]] = [
        [0x0000_0008_0000_0008, 4, 0x8000_0000_40A0_0000, 0], [0x0000_0008_0000_000A, 0x0000_2000_0000_0000, 2, 0],
        [0x05, 0, 0x0000_0000_0001_0000, 0], [0x09, 0, 0x8000_0000_0001_0002, 0],
    ]

    /// The LPI-state image with §2.6's commands in its queue; GITS_CREADR and GITS_CWRITER
    /// are byte offsets into it.
    static func withWorkedExampleQueue(creadr: UInt64, cwriter: UInt64) -> Scenario {
        var b = lpiState()
        b.map(queue, 4096)
        b.commands(queue, from: 14, workedExampleCommands)
        var s = withLPIRegisters(b)
        s.its = withQueue(s.its, at: queue, creadr: creadr, cwriter: cwriter)
        return s
    }

    /// MAPD DeviceID 8 V=1, MAPTI 8/0, then (if `unmapped`) MAPD DeviceID 8 V=0: all
    /// processed, yet DeviceID 8's DTE is still valid.
    static func unmappedButLive(unmapped: Bool = true) -> Scenario {
        var b = lpiState()
        b.map(queue, 4096)
        b.commands(queue, [[0x0000_0008_0000_0008, 1, 0x8000_0000_4030_0000, 0], [0x0000_0008_0000_000A, 0x2003_0000_0000, 1, 0],
                           unmapped ? [0x0000_0008_0000_0008, 1, 0, 0] : [0, 0, 0, 0]])
        var s = withLPIRegisters(b, ctlr: 0)
        s.its = withQueue(s.its, at: queue, creadr: 3 * 32, cwriter: 3 * 32)
        return s
    }
}

extension ImageBuilder {
    /// KVM DeviceID 8 (the last on the chain) with its ITT at 0x4200_0000 holding `ites`
    /// (LPI, ICID) at EventIDs 0, 1, …, each chained to the next.
    mutating func kvmDevice8(_ ites: [(lpi: UInt64, icid: UInt64)]) {
        kvmDTE(Scenarios.dt + 8 * 8, itt: 0x4200_0000, bits: 1, next: 0)
        for (e, i) in ites.enumerated() {
            kvmITE(0x4200_0000 + UInt64(e) * 8, lpi: i.lpi, icid: i.icid, next: e + 1 < ites.count ? 1 : 0)
        }
    }
}

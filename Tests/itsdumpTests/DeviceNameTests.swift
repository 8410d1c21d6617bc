import Foundation
import Testing
@testable import CoreDumpReader
import ITSAnalysis

/// Devices named as their users know them (issue 19): every route of `routes --vmlinux --output
/// json` carries the ground truth's `bdf`, `irq` and `name`; a stream names the QEMU device.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct DeviceNameTests {
    /// ground-truth.json's interrupts as [deviceID, eventID] → (bdf, irq, name); KVM rows name
    /// their function through the `devices[].msiIrqs` that list their irq.
    static func groundTruth(_ stop: String) throws -> [[Int]: (String, Int, String)] {
        let data = try Data(contentsOf: Fixtures.shared.appendingPathComponent(stop).appendingPathComponent("ground-truth.json"))
        let top = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var byIRQ: [Int: String] = [:]
        for d in (top["devices"] as? [[String: Any]]) ?? [] {
            for irq in (d["msiIrqs"] as? [Int]) ?? [] { byIRQ[irq] = d["bdf"] as? String }
        }
        var out: [[Int]: (String, Int, String)] = [:]
        for r in try #require(top["interrupts"] as? [[String: Any]]) {
            let irq = try #require(r["irq"] as? Int)
            out[[try #require(r["deviceID"] as? Int), try #require(r["eventID"] as? Int)]] =
                (try #require((r["bdf"] as? String) ?? byIRQ[irq]), irq, try #require(r["name"] as? String))
        }
        return out
    }

    @Test(arguments: Fixtures.stops)
    func routesWithTheVmlinuxCarryTheGroundTruthsBDFIrqAndName(stop: String) throws {
        try expectGroundTruthNames(stop, ["--vmlinux", try Fixtures.vmlinux.get()])
    }

    /// Zero configuration: no flag at all. The types come from the BTF in guest RAM, the
    /// descriptor tree (`irq_desc_tree`, a data symbol this kallsyms lacks) from the ADRP
    /// references of irq_to_desc, and its_irq_chip from the driver's its_devices.
    @Test(arguments: Fixtures.stops)
    func routesWithNoFlagsCarryTheGroundTruthsBDFIrqAndName(stop: String) throws {
        try expectGroundTruthNames(stop, [])
    }

    func expectGroundTruthNames(_ stop: String, _ flags: [String]) throws {
        let r = try CLI.run(["routes", try Fixtures.member(stop, "core.elf"), "--format", "json"] + flags)
        #expect(r.status == 0, "\(r.stderr)")
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let routes = try #require(top["routes"] as? [[String: Any]])
        var got: [[Int]: (String, Int, String)] = [:]
        for row in routes {
            let k = [try #require(row["deviceID"] as? Int), try #require(row["eventID"] as? Int)]
            #expect(row["bdfSource"] as? String == "guest kernel")
            // No fixture puts two functions behind one DeviceID.
            #expect(row["aliased"] as? Bool == false)
            got[k] = (try #require(row["bdf"] as? String), try #require(row["irq"] as? Int), try #require(row["name"] as? String))
        }
        let want = try Self.groundTruth(stop)
        #expect(!want.isEmpty)
        #expect(got.keys.sorted { $0.lexicographicallyPrecedes($1) } == want.keys.sorted { $0.lexicographicallyPrecedes($1) })
        for (k, w) in want {
            let g = got[k]
            #expect(g?.0 == w.0 && g?.1 == w.1 && g?.2 == w.2, "\(stop) \(k): \(String(describing: g)) vs \(w)")
        }
    }

    /// The QEMU type behind each PCI ID of the fixtures (their READMEs' device tables).
    static let qemuType: [String: String] = [
        "1af4:1000": "virtio-net", "1af4:1041": "virtio-net", "1af4:1001": "virtio-blk", "1af4:1042": "virtio-blk",
        "1af4:1004": "virtio-scsi", "1af4:1048": "virtio-scsi", "1af4:1005": "virtio-rng", "1af4:1044": "virtio-rng",
        "1b36:000c": "pcie-root-port",
    ]

    @Test(arguments: Fixtures.stops)
    func theStreamNamesTheQEMUDeviceOfEveryFunctionWithInterrupts(stop: String) throws {
        let stream = try #require(try Dump.open(try Fixtures.member(stop, "migration.bin")).reader as? MigrationStream)
        let names = stream.pciDevices.byAddress
        // Every fixture stream migrates its bridges' config space: no bus number is guessed.
        #expect(!stream.pciDevices.busesInferred)
        let data = try Data(contentsOf: Fixtures.shared.appendingPathComponent(stop).appendingPathComponent("ground-truth.json"))
        let top = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let bdfs = Set(try Self.groundTruth(stop).values.map(\.0))
        var checked = 0
        for d in (top["devices"] as? [[String: Any]]) ?? [] {
            guard let bdf = d["bdf"] as? String, bdfs.contains(bdf), let id = d["vendorDevice"] as? String else { continue }
            #expect(names[bdf] == Self.qemuType[id], "\(stop) \(bdf) \(id)")
            checked += 1
        }
        #expect(checked == bdfs.count)
    }

    @Test func aBridgesSecondaryBusIsNumberedDepthFirst() {
        let d = StreamPCIDevices(sections: ["0000:00:04.0/pcie-root-port", "0000:00:05.0/pcie-root-port", "0000:00:06.0/pcie-root-port",
                                            "0000:00:05.0:00.0/virtio-net", "0000:00:04.0:00.0/virtio-rng", "0000:00:01.0/virtio-blk",
                                            "arm_gicv3_its", "0000:00:00.0/gpex_root"].map { ($0, nil) })
        #expect(d.byAddress == ["0000:00:00.0": "gpex_root", "0000:00:01.0": "virtio-blk", "0000:00:04.0": "pcie-root-port",
                                "0000:00:05.0": "pcie-root-port", "0000:00:06.0": "pcie-root-port",
                                "0000:01:00.0": "virtio-rng", "0000:02:00.0": "virtio-net"])
        #expect(d.busesInferred)
        // A migrated secondary bus number wins (kvm-sparse: pci=hpbussize=100 puts 00:05.0's bus at 0x65).
        let e = StreamPCIDevices(sections: [("0000:00:04.0/pcie-root-port", 1), ("0000:00:05.0/pcie-root-port", 0x65),
                                            ("0000:00:05.0:00.0/virtio-net", nil)])
        #expect(e.byAddress["0000:65:00.0"] == "virtio-net" && !e.busesInferred)
    }
}

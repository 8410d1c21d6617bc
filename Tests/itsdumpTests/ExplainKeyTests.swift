import Foundation
import Testing

/// `explain` keyed as users know a device: by PCI address (--bdf) and by Linux irq (--irq, from
/// the guest kernel), and its argument errors (review findings).
@Suite struct ExplainKeyTests {
    static let extract = ["fixtures/kvm-basic/core.extract.elf", "--regs", "fixtures/kvm-basic/its-regs.json"]

    /// An unknown option is reported as one, not hidden behind "give --device or --lpi".
    @Test func anUnknownOptionIsReportedAsSuch() throws {
        let r = try CLI.run(["explain"] + Self.extract + ["--bogus", "1"])
        #expect(r.status == 2 && r.stderr.hasPrefix("Error: Unknown option '--bogus'"))
        let none = try CLI.run(["explain"] + Self.extract)
        #expect(none.status == 2 && none.stderr == "itsdump: give one key: --device D [--event E], --lpi N, --bdf B or --irq N\n")
        let two = try CLI.run(["explain"] + Self.extract + ["--lpi", "8193", "--bdf", "00:02.0"])
        #expect(two.status == 2 && two.stderr == none.stderr)
    }

    /// --bdf 00:02.0 is DeviceID 0x10 on kvm-basic (ground-truth.json: 0000:00:02.0, deviceID 16):
    /// every event the ground truth lists for it, with its LPI, and the same lookups as
    /// --device 0x10, in text and JSON.
    @Test func bdfExplainsTheDeviceAtThatAddress() throws {
        let truth = try Fixtures.groundTruth(Fixtures.packageRoot.appendingPathComponent("fixtures/kvm-basic")).filter { $0[0] == 16 }
        #expect(truth.count == 5)
        let text = try CLI.run(["explain"] + Self.extract + ["--bdf", "00:02.0"])
        let heads = text.stdout.split(separator: "\n").filter { $0.hasPrefix("ITS ") }.map(String.init)
        #expect(heads == truth.map { "ITS 0: DeviceID 0x10 (0000:00:02.0) EventID \($0[1])" })
        for row in truth { #expect(text.stdout.contains("[live]: LPI \(row[2]), ICID")) }
        for format in ["text", "json"] {
            let byBDF = try CLI.run(["explain"] + Self.extract + ["--bdf", "0000:00:02.0", "--format", format])
            let byID = try CLI.run(["explain"] + Self.extract + ["--device", "0x10", "--format", format])
            #expect(byBDF.status == 0 && byID.status == 0)
            #expect(byBDF.stdout == byID.stdout && !byBDF.stdout.isEmpty)
        }
        // No route at that address: the identity mapping's DeviceID (0xf8) and where it stops.
        let absent = try CLI.run(["explain"] + Self.extract + ["--bdf", "00:1f.0"])
        #expect(absent.status == 1 && absent.stdout.hasPrefix("ITS 0: DeviceID 0xf8 (0000:00:1f.0) EventID -: not routed — the DTE's valid bit is clear"))
        let bad = try CLI.run(["explain"] + Self.extract + ["--bdf", "00:20.0"])
        #expect(bad.status == 2 && bad.stderr.contains("--bdf 00:20.0: give a PCI address"))
    }

    /// kvm-basic's ground truth: Linux irq 23 is virtio0-input.0, DeviceID 8 EventID 1, LPI 8194
    /// on vCPU 1; zero configuration finds the irq in the guest kernel's descriptors.
    @Test func irqExplainsTheEventBehindIt() throws {
        let core = try Fixtures.member("kvm-basic", "core.elf")
        let r = try CLI.run(["explain", core, "--irq", "23"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("ITS 0: DeviceID 0x8 EventID 1 (KVM ITS table ABI rev 0)\n"))
        #expect(r.stdout.contains("LPI 8194, ICID 1") && r.stdout.contains("6. target: vCPU 1"))
        let json = try CLI.run(["explain", core, "--irq", "23", "--format", "json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let lookup = try #require((doc["lookups"] as? [[String: Any]])?.first)
        #expect(lookup["irq"] as? Int == 23 && lookup["name"] as? String == "virtio0-input.0")
        let none = try CLI.run(["explain", core, "--irq", "9999"])
        #expect(none.status == 1 && none.stdout.hasPrefix("no route carries Linux irq 9999"))
        // Without the guest kernel (an extract with its registers): no irqs to look in.
        let bare = try CLI.run(["explain"] + Self.extract + ["--irq", "23"])
        #expect(bare.status == 2 && bare.stderr.hasPrefix("itsdump: --irq 23: no Linux irqs here"))
    }
}

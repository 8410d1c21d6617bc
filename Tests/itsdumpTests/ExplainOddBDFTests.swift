import ITSAnalysis
import ITSLayout
import Testing

/// `explain --bdf` with addresses a hostile or careless user types (review findings): a sign
/// is no hex digit, and an address the identity mapping cannot name (another PCI segment)
/// says so instead of an empty output with exit status 1.
@Suite struct ExplainOddBDFTests {
    static let extract = ["fixtures/kvm-basic/core.extract.elf", "--regs", "fixtures/kvm-basic/its-regs.json"]

    @Test func aSignIsNoHexDigit() {
        for bad in ["+0:+2.+0", "00:02.-0", "-0:02.0", "00:+2.0", "+000:00:02.0", "0:0２.0", "00:02.0\u{301}"] {
            #expect(RouteFilter.canonicalBDF(bad) == nil, "\(bad)")
        }
        #expect(RouteFilter.canonicalBDF("0:2.0") == "0000:00:02.0")
        // The identity requester ID comes from the same parser: kvm-basic's 0000:00:02.0 is
        // DeviceID 16 (ground-truth.json); another segment or a sign has none.
        #expect(DeviceIdentity.deviceID(bdf: "0:2.0") == DeviceID(16))
        #expect(DeviceIdentity.deviceID(bdf: "0000:ff:1f.7") == DeviceID(0xFFFF))
        for none in ["0001:00:02.0", "+0:+2.+0", "00:02.-0", ""] { #expect(DeviceIdentity.deviceID(bdf: none) == nil, "\(none)") }
        #expect(RouteFilter.canonicalBDF("ffff:ff:1f.7") == "ffff:ff:1f.7")
    }

    @Test func signedAddressesAreRefusedWithExitStatus2() throws {
        let r = try CLI.run(["explain"] + Self.extract + ["--bdf", "+0:+2.+0"])
        #expect(r.status == 2 && r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("Error: --bdf +0:+2.+0: give a PCI address as 0000:00:02.0 or 00:02.0"))
    }

    /// kvm-basic's devices are all on segment 0000 (ground-truth.json): 0001:00:02.0 has no
    /// route, and no DeviceID by the identity mapping.
    @Test func anotherSegmentIsSaidNotSilent() throws {
        for (bdf, canonical) in [("0001:00:02.0", "0001:00:02.0"), ("1:2:3.4", "0001:02:03.4"), ("ffff:ff:1f.7", "ffff:ff:1f.7")] {
            let r = try CLI.run(["explain"] + Self.extract + ["--bdf", bdf])
            #expect(r.status == 1 && r.stderr.isEmpty)
            #expect(r.stdout == "no route carries PCI address \(canonical), and the identity requester-ID mapping gives DeviceIDs to segment 0000 only\n")
        }
        let json = try CLI.run(["explain"] + Self.extract + ["--bdf", "0001:00:02.0", "--format", "json"])
        #expect(json.status == 1)
        #expect(json.stdout == "{\n  \"command\": \"explain\",\n  \"found\": false,\n  \"lookups\": [],\n  \"schemaVersion\": 2\n}\n")
    }
}

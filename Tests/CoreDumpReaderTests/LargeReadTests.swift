import Foundation
import Glibc
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// The reads zero configuration makes of the kernel image (issue 20's cost): one read of 2 MiB
/// or more goes into memory of its own (not zeroed, advised for huge pages), and a read inside
/// one ELF segment hands over the file's array. Each must give the file's bytes exactly, and a
/// file that shrinks under them must still be an error, not a crash.
@Suite struct LargeReadTests {
    /// Bytes no two nearby offsets share (251 is prime, so no power-of-two period).
    static func pattern(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 % 251) } }

    func write(_ bytes: [UInt8]) throws -> String {
        let url = try temporaryDirectory().appendingPathComponent("big")
        try Data(bytes).write(to: url)
        return url.path
    }

    @Test(arguments: [(0, 2 << 20), (5, (5 << 20) - 2), (4093, (2 << 20) + 4099)])
    func aLargeReadIsTheFilesBytes(offset: Int, count: Int) throws {
        let bytes = Self.pattern((5 << 20) + 3)
        let f = try MappedFile(path: try write(bytes))
        let got = try #require(f.bytes(at: UInt64(offset), count: count))
        #expect(got.count == count)
        #expect(got == Array(bytes[offset..<(offset + count)]))
        // One byte past the end: refused, as for any read.
        #expect(f.bytes(at: UInt64(bytes.count - count + 1), count: count) == nil)
    }

    @Test func aLargeReadOfAFileThatShrankIsNilAndRemembered() throws {
        let path = try write(Self.pattern(4 << 20))
        let f = try MappedFile(path: path)
        #expect(truncate(path, 1 << 20) == 0)
        #expect(f.bytes(at: 0, count: 3 << 20) == nil)
        #expect { try f.checkUnchanged() } throws: { "\($0)".contains("the file changed while it was read") }
    }

    @Test func elfReadsInsideOneSegmentAndAcrossSegmentsAgree() throws {
        // Two adjacent segments; the second holds 4 KiB in the file and reads as zeros after.
        let a = Self.pattern(3 << 20), b = [UInt8](repeating: 0xC5, count: 4096)
        var builder = ELFBuilder()
        builder.segments = [.init(paddr: 0x4000_0000, memsz: UInt64(a.count), data: a),
                            .init(paddr: 0x4000_0000 + UInt64(a.count), memsz: 8192, data: b)]
        let core = try ELFCore(file: MappedFile(path: try write(builder.build())))
        let base = GuestPhysicalAddress(0x4000_0000)
        // Inside the first segment: the fast path.
        guard case .bytes(let inside) = core.read(GuestPhysicalAddress(0x4000_0007), count: (2 << 20) + 1) else {
            Issue.record("expected bytes"); return
        }
        #expect(inside == Array(a[7..<(7 + (2 << 20) + 1)]))
        // Across both segments and into the second's zeros: the assembled path.
        let start = a.count - 100
        guard case .bytes(let across) = core.read(GuestPhysicalAddress(base.rawValue + UInt64(start)), count: 100 + 4096 + 50) else {
            Issue.record("expected bytes"); return
        }
        #expect(across == Array(a[start...]) + b + [UInt8](repeating: 0, count: 50))
        // Past the last segment: the absent part, exactly.
        guard case .absent(let r) = core.read(GuestPhysicalAddress(base.rawValue + UInt64(a.count) + 8000), count: 300) else {
            Issue.record("expected absent"); return
        }
        #expect(r == GuestRange(start: GuestPhysicalAddress(base.rawValue + UInt64(a.count) + 8192), length: 108))
    }
}

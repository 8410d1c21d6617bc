import Foundation
import Testing
import Glibc
import ITSLayout
import ITSAnalysis
@testable import CoreDumpReader

/// The real snapshots of ../shared/fixtures (or $ITSDUMP_SHARED_FIXTURES), unpacked once per
/// test run into a temporary folder that is removed when the run ends; never into the repo.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static let shared: URL = {
        if let p = ProcessInfo.processInfo.environment["ITSDUMP_SHARED_FIXTURES"] { return URL(fileURLWithPath: p) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }()

    static let stops = ["tcg-basic", "tcg-kdump", "kvm-basic", "kvm-sparse",
                        "tcg-prepost/a", "tcg-prepost/b", "kvm-prepost/a", "kvm-prepost/b"]

    static let bundled = packageRoot.appendingPathComponent("fixtures")

    /// Where each stop's members were unpacked, or why they could not be.
    static let unpacked: Result<URL, FixtureError> = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-fixtures-\(getpid())")
        unpackDirectory = dir.path
        atexit { if let d = unpackDirectory { try? FileManager.default.removeItem(atPath: d) } }
        for stop in stops {
            let archive = shared.appendingPathComponent(stop).appendingPathComponent("snapshot.tar.zst")
            guard FileManager.default.fileExists(atPath: archive.path) else {
                return .failure(FixtureError(message: "\(archive.path) not found: the real fixtures live in ../shared/fixtures (or set ITSDUMP_SHARED_FIXTURES)"))
            }
            let out = dir.appendingPathComponent(stop)
            do { try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true) } catch {
                return .failure(FixtureError(message: "\(error)"))
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "zstd -d -q --long=28 -c '\(archive.path)' | tar x -C '\(out.path)'"]
            do { try p.run() } catch { return .failure(FixtureError(message: "cannot run zstd/tar: \(error)")) }
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                return .failure(FixtureError(message: "unpacking \(archive.path) failed (zstd and tar needed)"))
            }
        }
        return .success(dir)
    }()

    nonisolated(unsafe) static var unpackDirectory: String?

    /// The reduced debug vmlinux of the guest kernel (kernel/vmlinux-6.1.0-56-arm64.its.debug.zst),
    /// decompressed once per run beside the snapshots.
    static let vmlinux: Result<String, FixtureError> = {
        let dir: URL
        switch unpacked {
        case .success(let d): dir = d
        case .failure(let e): return .failure(e)
        }
        let src = shared.appendingPathComponent("kernel/vmlinux-6.1.0-56-arm64.its.debug.zst").path
        let out = dir.appendingPathComponent("vmlinux.debug").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "zstd -d -q -f '\(src)' -o '\(out)'"]
        do { try p.run() } catch { return .failure(FixtureError(message: "cannot run zstd: \(error)")) }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? .success(out) : .failure(FixtureError(message: "cannot decompress \(src)"))
    }()

    static func member(_ stop: String, _ name: String) throws -> String {
        try unpacked.get().appendingPathComponent(stop).appendingPathComponent(name).path
    }

    static func registers(_ stop: String) throws -> RegisterState {
        try RegisterStateFile.load(path: shared.appendingPathComponent(stop).appendingPathComponent("its-regs.json").path)
    }

    /// (DeviceID, EventID, LPI, vCPU) of `ground-truth.json`'s interrupts.
    static func groundTruth(_ dir: URL) throws -> [[Int]] {
        let data = try Data(contentsOf: dir.appendingPathComponent("ground-truth.json"))
        let top = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let rows = (top?["interrupts"] as? [[String: Any]]) ?? []
        return rows.map { r in ["deviceID", "eventID", "lpi", "vcpu"].map { (r[$0] as? Int) ?? -1 } }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func routeRows(_ g: [RoutingGraph]) -> [[Int]] {
        g.flatMap(\.routes).map { [Int($0.deviceID.rawValue), Int($0.eventID.rawValue), Int($0.lpi.rawValue), $0.vcpu.map(Int.init) ?? -1] }
            .sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func walk(_ memory: any GuestMemory, _ regs: RegisterState, vcpus: Int?) throws -> (tables: [ITSTables], graphs: [RoutingGraph]) {
        let a = try analyse(memory, regs, vcpus: vcpus)
        return (a.tables, a.graphs)
    }

    /// The whole analysis (walk, graph, queue, freshness, state checks) of one dump.
    static func analyse(_ memory: any GuestMemory, _ regs: RegisterState, vcpus: Int?) throws -> Analysis {
        try Analysis.run(memory: memory, registers: regs, vcpus: vcpus)
    }

    /// The 4 KiB pages a walk read (tables and LPI state), for comparing two dumps of one stop.
    static func pagesRead(_ w: (tables: [ITSTables], graphs: [RoutingGraph])) -> [UInt64] {
        Set(w.tables.flatMap(\.touchedPages) + w.graphs.flatMap(\.touchedPages)).sorted()
    }

    /// Pages that differ between two dumps, or are absent from one ("absent 0x…").
    static func differingPages(_ pages: [UInt64], _ a: any GuestMemory, _ b: any GuestMemory) -> [String] {
        pages.compactMap { p in
            guard case .bytes(let x) = a.read(GuestPhysicalAddress(p), count: 4096),
                  case .bytes(let y) = b.read(GuestPhysicalAddress(p), count: 4096) else { return "absent \(hex(p))" }
            return x == y ? nil : hex(p)
        }
    }

    /// Cuts every PT_LOAD of an ELF core into its own raw image file, as FILE@GPA specs.
    /// A copy of an ELF core without itsdump's ITSDUMP registers note, in a temporary file.
    static func withoutRegistersNote(_ path: String) throws -> String {
        guard let core = try Dump.open(path).elf else { throw FixtureError(message: "\(path) is not an ELF core") }
        var ranges: [ELFCoreWriter.Range] = []
        for s in core.segments {
            if case .bytes(let b) = core.read(GuestPhysicalAddress(s.physicalAddress), count: Int(s.memorySize)) {
                ranges.append(.init(address: GuestPhysicalAddress(s.physicalAddress), bytes: b))
            }
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-nonote-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).elf").path
        try ELFCoreWriter.write(path: out, notes: core.notes.filter { $0.name != RegistersNote.name }, ranges: ranges)
        return out
    }

    static func rawImages(of core: ELFCore, into dir: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var specs: [String] = []
        for (i, s) in core.segments.enumerated() {
            let url = dir.appendingPathComponent("ram\(i).img")
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            let h = try FileHandle(forWritingTo: url)
            var off: UInt64 = 0
            while off < s.memorySize {
                let n = Int(min(1 << 22, s.memorySize - off))
                if case .bytes(let b) = core.read(GuestPhysicalAddress(s.physicalAddress + off), count: n) {
                    try h.write(contentsOf: b)
                }
                off += UInt64(n)
            }
            try h.close()
            specs.append("\(url.path)@0x\(String(s.physicalAddress, radix: 16))")
        }
        return specs
    }
}

extension Tag {
    /// Reads the real snapshots of ../shared/fixtures (or $ITSDUMP_SHARED_FIXTURES).
    @Tag static var realSnapshots: Self
}

/// `ITSDUMP_SKIP_REAL_SNAPSHOTS=1 swift test` runs the suite without the shared fixtures (README);
/// by default every real-snapshot test runs, and a missing fixture fails it.
let realSnapshotsWanted = ProcessInfo.processInfo.environment["ITSDUMP_SKIP_REAL_SNAPSHOTS"] != "1"

struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

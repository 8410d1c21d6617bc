import CoreDumpReader
import Foundation
import Glibc
import ITSLayout

/// The inputs of one command, opened, and the walk of every ITS the registers describe.
struct Session {
    let dumps: [Dump]
    let memory: any GuestMemory
    let vcpuCount: Int?

    init(_ specs: [String], ramBlocks: [String: UInt64] = [:]) throws {
        dumps = try specs.map { spec throws(DumpError) in try Dump.open(spec, ramBlocks: ramBlocks, progress: Progress(spec).report) }
        memory = dumps.count == 1 ? dumps[0].memory : try CompositeMemory(dumps.map(\.memory))
        vcpuCount = dumps.compactMap(\.vcpuCount).max()
    }

    struct Analysis {
        let registers: RegisterState
        let tables: [ITSTables]
        let graphs: [RoutingGraph]
        var routes: [RoutingGraph.Route] { graphs.flatMap(\.routes) }
        var findings: [Finding] {
            let all = tables.flatMap(\.findings) + graphs.flatMap(\.findings)
            return all.sorted {
                ($0.severity, $0.address?.rawValue ?? 0, $0.rule) < ($1.severity, $1.address?.rawValue ?? 0, $1.rule)
            }
        }
    }

    func analyse(_ input: InputOptions) throws -> Analysis {
        let registers = try input.registerState(vcpuCount: vcpuCount, carried: dumps.compactMap(\.registers).first)
        guard !registers.its.isEmpty else { throw ITSLayoutError.noRegisters }
        var tables: [ITSTables] = []
        var graphs: [RoutingGraph] = []
        for (i, its) in registers.its.enumerated() {
            let t = try ITSWalker.walk(memory: memory, registers: its, itsIndex: i, format: input.format)
            tables.append(t)
            graphs.append(RoutingGraph.build(t, redistributors: registers.redistributors,
                                             memory: memory, vcpuCount: vcpuCount))
        }
        return Analysis(registers: registers, tables: tables, graphs: graphs)
    }

    /// One line per input: what was read.
    var inputLines: [String] {
        dumps.map { d in
            let ranges = d.memory.presentRanges.map(\.description).joined(separator: ", ")
            var s = "\(d.kind.rawValue) \(d.path): RAM \(ranges.isEmpty ? "none mapped" : ranges)"
            if let n = d.vcpuCount { s += ", \(n) vCPUs" }
            for note in d.stream?.notes ?? [] { s += "\n  note: \(note)" }
            return s
        }
    }
}

extension Sourced {
    var sourceText: String { provenance.description }
}

/// "indexing FILE: 42%" on stderr, only when stderr is a terminal and the pass takes a while.
final class Progress: @unchecked Sendable {
    let name: String
    let start = Date()
    var shown = false
    init(_ name: String) { self.name = name }

    func report(_ done: UInt64, _ total: UInt64) {
        guard isatty(2) != 0, total > 0 else { return }
        if done >= total {
            if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            return
        }
        guard Date().timeIntervalSince(start) > 0.5 else { return }
        shown = true
        FileHandle.standardError.write(Data("\rindexing \(name): \(done * 100 / total)%".utf8))
    }
}

import Foundation
import GuestKernel
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// Hostile BTF and kallsyms (issue 20), built from the real ones of tcg-basic: each damage is a
/// named problem, never a trap, a hang or a large allocation.
@Suite(.serialized) struct ZeroConfigHostileTests {
    /// Read-only once built; the closure reads a mapped file.
    struct Real: @unchecked Sendable {
        let btf: BTF
        let addresses: Kallsyms.Addresses
        let read: KernelBytes
    }

    static let real: Result<Real, FixtureError> = {
        do {
            let d = try Dump.open(try Fixtures.member("tcg-basic", "core.elf"))
            guard let pairs = d.vmcoreinfo else { return .failure(FixtureError(message: "tcg-basic has no VMCOREINFO note")) }
            let info = VMCOREINFO(text: pairs.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"), source: "note")
            let space = try KernelAddressSpace(info, memory: d.memory)
            let k = try ZeroConfigKernel.load(vmcoreinfo: info, space: space, memory: d.memory, btfFile: nil, cpus: d.vcpuCount)
            let image = KernelImageMemory(space: space, memory: d.memory)
            return .success(Real(btf: k.types.btf, addresses: try Kallsyms.Addresses(info), read: image.read))
        } catch {
            return .failure(FixtureError(message: "\(error)"))
        }
    }()

    func btfProblem(_ bytes: [UInt8]) -> BTF.Problem? {
        do {
            _ = try BTFKernelTypes(btf: try BTF(bytes: bytes), symbols: [:], source: "test")
            return nil
        } catch {
            return error
        }
    }

    /// Byte offset of member `name` of the driver's struct `structure` in the BTF bytes.
    func memberAt(_ btf: BTF, _ structure: String, _ name: String) throws -> Int {
        for id in btf.structures(named: structure) {
            let t = try btf.entry(id)
            for i in 0..<t.vlen where (try? btf.string(UInt32(btf.bytes.loadLE(at: t.extra + i * 12, count: 4)))) == name {
                let layout = try btf.layout(id)
                if structure != "its_device" || layout.has("event_map") { return t.extra + i * 12 }
            }
        }
        throw FixtureError(message: "no member \(name) in struct \(structure)")
    }

    func put(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }

    @Test func theRealBTFGivesTheDriversStructs() throws {
        let btf = try Self.real.get().btf
        #expect(btfProblem(btf.bytes) == nil)
        let types = try BTFKernelTypes(btf: btf, symbols: [:], source: "test")
        // Offsets of structs-6.1.0-56-arm64.txt (pahole of the DWARF).
        let node = try #require(types.structure("its_node", inUnitOf: "its_nodes"))
        #expect(node.offset("entry") == 40 && node.offset("phys_base") == 72 && node.offset("tables") == 96 && node.offset("typer") == 312)
        let rdists = try #require(types.structure("rdists", inUnitOf: "gic_rdists"))
        #expect(rdists.size == 48 && rdists.offset("prop_table_pa") == 8 && rdists.offset("gicd_typer") == 32)
        let rdist = try #require(types.memberStructure(rdists, "rdist", inUnitOf: "gic_rdists"))
        #expect(rdist.size == 56 && rdist.offset("pend_page") == 16)
        // Two struct its_device in vmlinux: the driver's is the one with event_map.
        #expect(btf.structures(named: "its_device").count == 2)
        #expect(types.structure("its_device", inUnitOf: "its_nodes")?.has("event_map") == true)
    }

    @Test(arguments: [0, 23, 24 + 100, 2_000_000, -1])
    func truncatedBTFIsNamed(length: Int) throws {
        let bytes = try Self.real.get().btf.bytes
        let cut = Array(bytes.prefix(length < 0 ? bytes.count - 1 : length))
        guard case .truncated = btfProblem(cut) else {
            Issue.record("\(String(describing: btfProblem(cut)))")
            return
        }
    }

    @Test func typeSectionLengthOf2To32IsTruncatedNotAllocated() throws {
        var b = try Self.real.get().btf.bytes
        put(&b, 12, 0xFFFF_FFFF)
        guard case .truncated(let what, _, _) = btfProblem(b) else { Issue.record("\(String(describing: btfProblem(b)))"); return }
        #expect(what == "the type section")
    }

    @Test func aTypeIDBeyondTheTableIsNamed() throws {
        let btf = try Self.real.get().btf
        var b = btf.bytes
        put(&b, try memberAt(btf, "its_node", "typer") + 4, 0x7FFF_FFFF)
        #expect(btfProblem(b) == .typeIDOutOfRange(id: 0x7FFF_FFFF, count: btf.types.count))
    }

    @Test func aNameOffsetPastTheStringsIsNamed() throws {
        let btf = try Self.real.get().btf
        var b = btf.bytes
        put(&b, try memberAt(btf, "its_node", "typer"), 0xFFFF_FF00)
        guard case .nameOffsetOutOfRange(_, 0xFFFF_FF00) = btfProblem(b) else { Issue.record("\(String(describing: btfProblem(b)))"); return }
    }

    @Test func aCyclicTypeChainIsNamed() throws {
        let btf = try Self.real.get().btf
        var b = btf.bytes
        // A typedef made to name itself, and its_node.typer made of that typedef.
        let typedef = try #require(btf.types.firstIndex { $0.kind == .typedef })
        let id = UInt32(typedef + 1)
        put(&b, btf.types[typedef].extra - 4, id)
        put(&b, try memberAt(btf, "its_node", "typer") + 4, id)
        #expect(btfProblem(b) == .cyclicTypeChain(id: id))
    }

    @Test func aStructWhoseMembersRunPastItsSizeIsNamed() throws {
        let btf = try Self.real.get().btf
        var b = btf.bytes
        let node = try #require(btf.structures(named: "its_node").first)
        put(&b, try btf.entry(node).extra - 4, 16)
        guard case .memberPastSize("its_node", _, _, 16) = btfProblem(b) else { Issue.record("\(String(describing: btfProblem(b)))"); return }
    }

    // MARK: kallsyms

    /// The real kernel memory with some bytes replaced, and nothing readable in `cut`.
    func patched(_ read: @escaping KernelBytes, _ patches: [UInt64: [UInt8]], cut: Range<UInt64>? = nil) -> KernelBytes {
        return { va, n in
            if let cut, va < cut.upperBound, va &+ UInt64(n) > cut.lowerBound { return nil }
            guard var b = read(va, n) else { return nil }
            for (at, bytes) in patches {
                for (i, x) in bytes.enumerated() where at &+ UInt64(i) >= va && at &+ UInt64(i) < va &+ UInt64(n) {
                    b[Int(at &+ UInt64(i) &- va)] = x
                }
            }
            return b
        }
    }

    func kallsymsProblem(_ read: @escaping KernelBytes, _ a: Kallsyms.Addresses) -> Kallsyms.Problem? {
        do {
            _ = try Kallsyms(a, read: read).lookup(["its_save_disable"])
            return nil
        } catch {
            return error
        }
    }

    @Test func theRealKallsymsDecode() throws {
        let r = try Self.real.get()
        let k = try Kallsyms(r.addresses, read: r.read)
        // System.map's its_save_disable + KERNELOFFSET; the table holds text symbols only.
        let found = try k.lookup(["its_save_disable", "its_nodes"]).mapValues { $0.map(\.address) }
        #expect(found == ["its_save_disable": [0xffff_b9cf_e640_5e90]])
    }

    @Test func aTokenIndexOutsideTheTableIsNamed() throws {
        let r = try Self.real.get()
        let p = patched(r.read, [r.addresses.tokenIndex + 10: [0xFF, 0xFF]])
        #expect(kallsymsProblem(p, r.addresses) == .tokenIndexOutsideTable(token: 5, offset: 0xFFFF))
    }

    @Test func aSymbolCountOf2To32MinusOneIsRefused() throws {
        let r = try Self.real.get()
        let p = patched(r.read, [r.addresses.numSyms: [0xFF, 0xFF, 0xFF, 0xFF]])
        #expect(kallsymsProblem(p, r.addresses) == .countBeyondBound(0xFFFF_FFFF))
    }

    /// 2^32 as a 64-bit count (a `PTR` kallsyms_num_syms): the 32-bit count is 0, no symbol.
    @Test func aSymbolCountOf2To32ReadsAsNoSymbols() throws {
        let r = try Self.real.get()
        let p = patched(r.read, [r.addresses.numSyms: [0, 0, 0, 0, 1, 0, 0, 0]])
        let k = try Kallsyms(r.addresses, read: p)
        let found = try k.lookup(["its_save_disable"])
        #expect(k.count == 0 && found.isEmpty)
    }

    @Test func aNamesTableCutShortIsNamed() throws {
        let r = try Self.real.get()
        // The names table lies between kallsyms_names and kallsyms_token_table (6.1's order).
        let p = patched(r.read, [:], cut: r.addresses.names + 100_000 ..< r.addresses.tokenTable)
        guard case .unreadable("kallsyms_names", _) = kallsymsProblem(p, r.addresses) else {
            Issue.record("\(String(describing: kallsymsProblem(p, r.addresses)))")
            return
        }
    }

    @Test func aNameLengthBeyondKSYMNameLenIsNamed() throws {
        let r = try Self.real.get()
        // The first symbol's length as the two-byte form of 32,767.
        let p = patched(r.read, [r.addresses.names: [0xFF, 0xFF]])
        #expect(kallsymsProblem(p, r.addresses) == .nameTooLong(symbol: 0, length: 32767))
    }

    /// The CLI with a BTF file that is not one: exit 2, one message naming the BTF problem.
    @Test func aDamagedBTFFileIsOneMessage() throws {
        let btf = try Self.real.get().btf
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-btf-\(getpid()).bin")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(btf.bytes.prefix(5000)).write(to: file)
        let r = try CLI.run(["routes", try Fixtures.member("tcg-basic", "core.elf"), "--btf", file.path])
        #expect(r.status == 2 && r.stdout.isEmpty)
        #expect(r.stderr.contains("--btf \(file.path): BTF: the type section needs"), "\(r.stderr)")
        // The real BTF as a file gives the same routes as the one in guest RAM.
        try Data(btf.bytes).write(to: file)
        let good = try CLI.run(["routes", try Fixtures.member("tcg-basic", "core.elf"), "--btf", file.path])
        #expect(good.status == 0 && good.stdout.contains("via BTF of --btf \(file.path) and kallsyms"), "\(good.stderr)")
        #expect(good.stdout.split(separator: "\n").filter { $0.hasPrefix("  0  0x") }.count == 31)
    }

    /// fuzz-btf's first finding (a timeout on the first version of the decoder): a kallsyms
    /// image of 8 KiB whose names are made of 256-byte tokens, each name up to 512 of them —
    /// gigabytes of expansion. KSYM_NAME_LEN now bounds the expanded name: a named problem,
    /// in milliseconds. The input format is Fuzz/Sources/DriverTarget/KernelTablesTarget.swift's.
    @Test func fuzzBTFTimeoutEndsWithTheProblemNamed() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Reproducers/fuzz-btf-timeout-447c277a29c3fac4e8c14e2687469c1b71ddce81").path
        let input = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(input.first == 1)  // the kallsyms mode
        let bytes = Array(input.dropFirst())
        let base: UInt64 = 0xffff_8000_0800_0000
        let at = (0..<6).map { base &+ bytes.loadLE(at: $0 * 4, count: 4) }
        let read: KernelBytes = { va, n in
            guard va >= base, n >= 0, va - base <= UInt64(bytes.count), UInt64(bytes.count) - (va - base) >= UInt64(n) else { return nil }
            return Array(bytes[Int(va - base)..<Int(va - base) + n])
        }
        let a = Kallsyms.Addresses(names: at[0], numSyms: at[1], tokenTable: at[2], tokenIndex: at[3], offsets: at[4],
                                   relativeBase: at[5], absoluteAddresses: nil, stext: nil)
        let clock = ContinuousClock()
        let start = clock.now
        let k = try Kallsyms(a, read: read)
        var problem: Kallsyms.Problem?
        do { _ = try k.lookup(["_etext", "its_nodes", "its_save_disable"]) } catch { problem = error }
        do { _ = try DriverSymbolFinder.candidates(kallsyms: k, read: read) } catch { problem = problem ?? error }
        #expect(clock.now - start < .seconds(1))
        guard case .nameTooLong = problem else {
            Issue.record("\(String(describing: problem))")
            return
        }
    }
}

import Foundation
@testable import GuestKernel
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

    /// The problem of a BTF given whole; the same BTF read from guest memory a window at a time
    /// (`BTF(at:count:read:)`, as zero config reads it) must name the same one.
    func btfProblem(_ bytes: [UInt8]) -> BTF.Problem? {
        func problem(_ make: () throws(BTF.Problem) -> BTF) -> BTF.Problem? {
            do {
                _ = try BTFKernelTypes(btf: try make(), symbols: [:], source: "test")
                return nil
            } catch {
                return error
            }
        }
        let whole = problem { () throws(BTF.Problem) in try BTF(bytes: bytes) }
        let streamed = problem { () throws(BTF.Problem) in try BTF(at: 0x1000, count: bytes.count, read: Self.reader(bytes, at: 0x1000)) }
        #expect(whole == streamed)
        return whole
    }

    /// Guest memory that holds `bytes` at `base`.
    static func reader(_ bytes: [UInt8], at base: UInt64) -> SendableKernelBytes {
        { va, n in
            guard va >= base, n >= 0, va - base <= UInt64(bytes.count), UInt64(bytes.count) - (va - base) >= UInt64(n) else { return nil }
            return Array(bytes[Int(va - base)..<Int(va - base) + n])
        }
    }

    /// The real BTF read a window at a time is the BTF given whole: every type, the name
    /// index, the driver's structs' layouts, every aggregate's name.
    @Test func theRealBTFReadAWindowAtATimeIsTheWhole() throws {
        let whole = try Self.real.get().btf
        let bytes = whole.bytes
        let streamed = try BTF(at: 0xffff_8000_1000_0000, count: bytes.count, read: Self.reader(bytes, at: 0xffff_8000_1000_0000))
        #expect(streamed.typeCount == whole.typeCount && streamed.byteCount == bytes.count)
        #expect(streamed.offsets == whole.offsets && streamed.aggregates == whole.aggregates)
        #expect(streamed.bucketStarts == whole.bucketStarts && streamed.bucketIDs == whole.bucketIDs)
        for id in whole.aggregates {
            let a = try whole.entry(id), b = try streamed.entry(id)
            #expect(try whole.string(a.nameOffset) == (try streamed.string(b.nameOffset)))
            #expect(a.vlen == b.vlen && a.sizeOrType == b.sizeOrType && a.kind == b.kind)
        }
        for name in ["its_node", "its_device", "rdists", "irq_desc", "irq_data", "msi_desc", "pci_dev", "device", "maple_node"] {
            #expect(streamed.structures(named: name) == whole.structures(named: name), "\(name)")
            for id in whole.structures(named: name) {
                let a = try whole.layout(id), b = try streamed.layout(id)
                #expect(a.members.map(\.name) == b.members.map(\.name) && a.members.map(\.offset) == b.members.map(\.offset) && a.size == b.size)
            }
        }
        // Guest memory that stops 100 KiB into the type section: a named problem.
        let cut = Self.reader(Array(bytes.prefix(100_000)), at: 0x1000)
        #expect(throws: BTF.Problem.self) { try BTF(at: 0x1000, count: bytes.count, read: cut) }
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

    /// The by-name index answers what comparing every struct and union's name answers, for
    /// every aggregate name of the real BTF (ids ascending, both its_device included).
    @Test func theNameIndexAgreesWithAScanOfEveryAggregate() throws {
        let btf = try Self.real.get().btf
        var scan: [String: [UInt32]] = [:]
        for id in btf.aggregates { scan[try btf.string(btf.entry(id).nameOffset), default: []].append(id) }
        #expect(scan.count > 5_000 && scan["its_device"]?.count == 2)
        for (name, ids) in scan {
            #expect(btf.structures(named: name) == ids, "\(name)")
        }
        #expect(btf.structures(named: "no_such_struct_anywhere").isEmpty)
    }

    /// 60,000 structs that share one name (and 60,000 whose names are one 64 KiB run of the
    /// string section): the index is built by counting, not by probing, so this is linear, and
    /// hashing reads at most 64 bytes of a name; every id comes back, ascending.
    @Test func aBTFOfOneRepeatedNameIsIndexedInLinearTime() throws {
        var strings: [UInt8] = [0] + Array("same".utf8) + [0] + [UInt8](repeating: 0x61, count: 1 << 16)
        strings.append(0)
        var types: [UInt8] = []
        func u32(_ v: UInt32) { for i in 0..<4 { types.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        for i in 0..<120_000 {
            u32(i < 60_000 ? 1 : 6)          // name_off: "same", or the long run
            u32(4 << 24)                     // STRUCT, no members
            u32(8)                           // size
        }
        var b: [UInt8] = [0x9F, 0xEB, 1, 0]
        for v: UInt32 in [24, 0, UInt32(types.count), UInt32(types.count), UInt32(strings.count)] {
            for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
        }
        b += types + strings
        let btf = try BTF(bytes: b)
        let same = btf.structures(named: "same")
        #expect(same.count == 60_000 && same.first == 1 && same.last == 60_000 && same == same.sorted())
        // The long run hashes by its first 64 bytes, as a wanted name of that start does.
        #expect(btf.structures(named: String(repeating: "a", count: 64)).isEmpty)
        #expect(btf.structures(named: "sam").isEmpty)
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

    /// The problem the pass over every name names (the look-up by halves of
    /// kallsyms_seqs_of_names reads only the blocks it needs, and leaves every problem to it).
    func kallsymsProblem(_ read: @escaping KernelBytes, _ a: Kallsyms.Addresses) -> Kallsyms.Problem? {
        do {
            _ = try Kallsyms(a, read: read).lookupEveryName(["its_save_disable"])
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
        // The look-up by halves never reads symbol 0's block for this name: the right answer.
        let k = try Kallsyms(r.addresses, read: p)
        #expect(try k.lookup(["its_save_disable"])["its_save_disable"]?.map(\.address)
                == (try Kallsyms(r.addresses, read: r.read).lookupEveryName(["its_save_disable"]))["its_save_disable"]?.map(\.symbol.address))
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
    /// gigabytes of expansion. KSYM_NAME_LEN bounds an expanded name, and the look-up now
    /// expands only names whose first three bytes begin a wanted one: the names run past the
    /// image's 8 KiB first, a named problem, in milliseconds. The input format is
    /// Fuzz/Sources/DriverTarget/KernelTablesTarget.swift's.
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
        guard case .unreadable("kallsyms_names", _) = problem else {
            Issue.record("\(String(describing: problem))")
            return
        }
    }

    // MARK: kallsyms layouts of other versions, built byte by byte (scripts/kallsyms.c)

    /// A kallsyms image at `base`: token t is the byte t (token 0: "_"), so a name is encoded
    /// one token per character; symbols (type + name, address) in address order.
    func kallsymsImage(_ symbols: [(String, UInt64)], relativeBase: UInt64?, absolute: Bool) -> (Kallsyms.Addresses, KernelBytes) {
        let base: UInt64 = 0xffff_8000_0900_0000
        var image = [UInt8](repeating: 0, count: 64)
        func place(_ b: [UInt8]) -> UInt64 {
            let at = UInt64(image.count)
            image += b + [UInt8](repeating: 0, count: (8 - b.count % 8) % 8)
            return base + at
        }
        var names: [UInt8] = []
        for (n, _) in symbols {
            let tokens = Array(n.utf8)
            // 6.1's big symbols: a length of 0x80 or more takes two bytes.
            names += tokens.count < 0x80 ? [UInt8(tokens.count)] : [UInt8(tokens.count & 0x7F | 0x80), UInt8(tokens.count >> 7)]
            names += tokens
        }
        let tokenTable = [UInt8]("_".utf8) + [0] + (1...255).flatMap { [UInt8($0), 0] }
        let tokenIndex = (0..<256).flatMap { i -> [UInt8] in let o = i == 0 ? 0 : 2 * i; return [UInt8(o & 0xFF), UInt8(o >> 8)] }
        let numAt = place([UInt8(symbols.count), 0, 0, 0])
        let namesAt = place(names)
        let tableAt = place(tokenTable)
        let indexAt = place(tokenIndex)
        var offsetsAt: UInt64?, absoluteAt: UInt64?, relativeAt: UInt64?
        if absolute {
            absoluteAt = place(symbols.flatMap { s in (0..<8).map { UInt8(truncatingIfNeeded: s.1 >> (8 * UInt64($0))) } })
        } else {
            let rb = relativeBase ?? 0xffff_8000_0800_0000  // 6.15+: offsets from _text, no base stored
            offsetsAt = place(symbols.flatMap { s in (0..<4).map { UInt8(truncatingIfNeeded: (s.1 - rb) >> (8 * UInt64($0))) } })
            if let relativeBase { relativeAt = place((0..<8).map { UInt8(truncatingIfNeeded: relativeBase >> (8 * UInt64($0))) }) }
        }
        let bytes = image
        let read: KernelBytes = { va, n in
            guard va >= base, n >= 0, va - base <= UInt64(bytes.count), UInt64(bytes.count) - (va - base) >= UInt64(n) else { return nil }
            return Array(bytes[Int(va - base)..<Int(va - base) + n])
        }
        let stext = symbols.first { $0.0 == "T_stext" }?.1
        return (Kallsyms.Addresses(names: namesAt, numSyms: numAt, tokenTable: tableAt, tokenIndex: indexAt, offsets: offsetsAt,
                                   relativeBase: relativeAt, absoluteAddresses: absoluteAt, stext: stext), read)
    }

    static let long = String(repeating: "x", count: 140)
    static let symbols: [(String, UInt64)] = [("T_text", 0xffff_8000_0800_0000), ("T_stext", 0xffff_8000_0801_0000),
                                              ("tits_save_disable", 0xffff_8000_0860_5e90), ("t" + long, 0xffff_8000_0860_6000),
                                              ("T_etext", 0xffff_8000_08d0_0000)]

    @Test(arguments: ["relative base", "anchored on _stext", "absolute addresses"])
    func kallsymsOfEachLayoutDecode(layout: String) throws {
        let (a, read) = kallsymsImage(Self.symbols, relativeBase: layout == "relative base" ? 0xffff_8000_0800_0000 : nil,
                                      absolute: layout == "absolute addresses")
        let k = try Kallsyms(a, read: read)
        let found = try k.lookupWithEnds(["its_save_disable", Self.long, "_etext"])
        #expect(found["its_save_disable"]?.first?.symbol.address == 0xffff_8000_0860_5e90)
        #expect(found["its_save_disable"]?.first?.symbol.type == "t")
        // Its end is where the next symbol starts (the 140-character one, a two-byte length).
        #expect(found["its_save_disable"]?.first?.end == 0xffff_8000_0860_6000)
        #expect(found[Self.long]?.first?.symbol.address == 0xffff_8000_0860_6000)
        #expect(found["_etext"]?.first?.end == nil)
        var all: [String] = []
        try k.forEach { s throws(Kallsyms.Problem) in all.append(s.name); return true }
        #expect(all == Self.symbols.map { String($0.0.dropFirst()) })
    }

    /// The finder's checks reject the other variables' addresses: no candidate passes for what
    /// it is not (tcg-basic, addresses of System.map + KERNELOFFSET).
    @Test func eachValidatorRejectsTheOtherVariables() throws {
        let d = try Dump.open(try Fixtures.member("tcg-basic", "core.elf"))
        let pairs = try #require(d.vmcoreinfo)
        let info = VMCOREINFO(text: pairs.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"), source: "note")
        let space = try KernelAddressSpace(info, memory: d.memory)
        let finder = try DriverSymbolFinder(space: space, memory: d.memory, types: try BTFKernelTypes(btf: try Self.real.get().btf, symbols: [:], source: "test"))
        let offset: UInt64 = 0x39cf_dde0_0000
        let nodes = 0xffff_8000_09dc_3560 &+ offset, rdists = 0xffff_8000_09fe_3078 &+ offset, percpu = 0xffff_8000_09cc_3010 &+ offset
        #expect(finder.validateITSNodes(nodes) == 1)
        #expect(finder.validateITSNodes(rdists) == nil && finder.validateITSNodes(percpu) == nil)
        #expect(finder.validateRdists(rdists) && !finder.validateRdists(nodes) && !finder.validateRdists(percpu))
        let pointer = try #require(finder.u64(image: rdists))
        #expect(finder.validatePerCPUOffset(percpu, rdistsPointer: pointer, cpus: 4) == 4)
        #expect(finder.validatePerCPUOffset(percpu, rdistsPointer: pointer, cpus: nil) == 4)
        #expect(finder.validatePerCPUOffset(nodes, rdistsPointer: pointer, cpus: 4) == nil)
        #expect(finder.validatePerCPUOffset(rdists, rdistsPointer: pointer, cpus: 4) == nil)
    }

    /// ADRP + ADD and ADRP + LDR decode as the Arm ARM says (C6.2.10 ADRP, C6.2.4 ADD, C6.2.132 LDR).
    @Test func adrpPairsDecode() {
        // adrp x1, +2 pages; add x1, x1, #0x560 / adrp x0, -1 page; ldr x0, [x0, #0x78]
        let code: [UInt32] = [0x9000_0001 | 2 << 29, 0x9115_8021, 0x90FF_FFE0 | 3 << 29, 0xF940_3C00]
        let bytes = code.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * UInt32($0))) } }
        let pc: UInt64 = 0xffff_8000_0860_5e90
        #expect(DriverSymbolFinder.adrpTargets(bytes, at: pc) == [0xffff_8000_0860_7560, 0xffff_8000_0860_4078])
    }
}

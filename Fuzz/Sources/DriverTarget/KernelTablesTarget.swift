import GuestKernel
import ITSLayout

/// fuzz-btf (issue 20): the BTF reader and the kallsyms decoder on arbitrary bytes. The first
/// byte chooses: even, the rest is a BTF blob (parsed, the driver's structs resolved, every
/// struct's layout read); odd, the rest is kernel memory at `base` whose first 24 bytes are six
/// u32 offsets (kallsyms_names, kallsyms_num_syms, kallsyms_token_table, kallsyms_token_index,
/// kallsyms_offsets, kallsyms_relative_base) into it; the table is decoded and the driver's
/// functions' ADRP references collected, as the zero-configuration path does (by halves of
/// kallsyms_seqs_of_names when the bytes hold it, and by a pass over every name). A BTF is
/// also read as guest memory a window at a time, which must index it as the whole does.
public enum KernelTablesTarget {
    public static let base: UInt64 = 0xffff_8000_0800_0000

    public static func run(_ bytes: [UInt8]) {
        guard let mode = bytes.first else { return }
        let rest = Array(bytes.dropFirst())
        if mode & 1 == 0 { btf(rest) } else { kallsyms(rest) }
    }

    static func btf(_ bytes: [UInt8]) {
        // The same bytes read from guest memory a window at a time, as zero config reads them:
        // the same index or the same failure.
        let streamed = try? BTF(at: base, count: bytes.count, read: { va, n in
            guard va >= base, n >= 0, va - base <= UInt64(bytes.count), UInt64(bytes.count) - (va - base) >= UInt64(n) else { return nil }
            let s = Int(va - base)
            return Array(bytes[s..<s + n])
        })
        let whole = try? BTF(bytes: bytes)
        precondition(streamed?.typeCount == whole?.typeCount, "a BTF read a window at a time differs from the whole")
        if let streamed, let types = try? BTFKernelTypes(btf: streamed, symbols: [:], source: "fuzz") {
            _ = types.structure("its_node", inUnitOf: "its_nodes")
        }
        guard let btf = whole else { return }
        if let types = try? BTFKernelTypes(btf: btf, symbols: [:], source: "fuzz") {
            for name in ["its_node", "its_device", "rdists"] {
                guard let s = types.structure(name, inUnitOf: "its_nodes") else { continue }
                for m in s.members { _ = types.memberStructure(s, m.name, inUnitOf: "its_nodes") }
            }
        }
        // Every struct and union of the first 4096 types, as a lookup by name would.
        for (i, t) in btf.types.prefix(4096).enumerated() where t.kind == .structure || t.kind == .union {
            _ = try? btf.layout(UInt32(i + 1))
        }
    }

    static func kallsyms(_ bytes: [UInt8]) {
        guard bytes.count >= 24 else { return }
        let at = (0..<6).map { base &+ bytes.loadLE(at: $0 * 4, count: 4) }
        let read: KernelBytes = { va, n in
            guard va >= base, n >= 0, va - base <= UInt64(bytes.count), UInt64(bytes.count) - (va - base) >= UInt64(n) else { return nil }
            let s = Int(va - base)
            return Array(bytes[s..<s + n])
        }
        let addresses = Kallsyms.Addresses(names: at[0], numSyms: at[1], tokenTable: at[2], tokenIndex: at[3], offsets: at[4],
                                           relativeBase: at[5], absoluteAddresses: nil, stext: nil)
        guard let k = try? Kallsyms(addresses, read: read) else { return }
        _ = try? DriverSymbolFinder.candidates(kallsyms: k, read: read)
        _ = try? k.lookup(["_etext", "its_nodes"])
        // The pass over every name, whether or not the sorted tables were believed.
        _ = try? k.lookupEveryName(["_etext", "its_nodes"])
    }
}

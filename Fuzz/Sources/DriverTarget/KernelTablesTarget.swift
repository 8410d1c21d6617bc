import GuestKernel
import ITSLayout

/// fuzz-btf (issue 20): the BTF reader and the kallsyms decoder on arbitrary bytes. The first
/// byte chooses: even, the rest is a BTF blob (parsed, the driver's structs resolved, every
/// struct's layout read); odd, the rest is kernel memory at `base` whose first 24 bytes are six
/// u32 offsets (kallsyms_names, kallsyms_num_syms, kallsyms_token_table, kallsyms_token_index,
/// kallsyms_offsets, kallsyms_relative_base) into it; the table is decoded and the driver's
/// functions' ADRP references collected, as the zero-configuration path does.
public enum KernelTablesTarget {
    public static let base: UInt64 = 0xffff_8000_0800_0000

    public static func run(_ bytes: [UInt8]) {
        guard let mode = bytes.first else { return }
        let rest = Array(bytes.dropFirst())
        if mode & 1 == 0 { btf(rest) } else { kallsyms(rest) }
    }

    static func btf(_ bytes: [UInt8]) {
        guard let btf = try? BTF(bytes: bytes) else { return }
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
    }
}

/// Register values with where each one came from (style.md "The house"). Every source —
/// a state file, command-line flags, a migration stream, the guest kernel — produces this one
/// type, and nothing above ITSLayout re-interprets it.

public struct Provenance: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case stateFile = "state file"
        case flag = "command-line flag"
        case migrationStream = "migration stream"
        case guestKernel = "guest kernel"
        case inferred = "inferred"
        /// The `ITSDUMP` note of an extract (README "Self-contained extracts").
        case extractNote = "extract note"
    }
    public var kind: Kind
    /// Which file, flag, section or symbol, e.g. "regs.json", "--baser 0", "arm_gicv3_its[0]".
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }
    public var description: String { detail.isEmpty ? kind.rawValue : "\(kind.rawValue) \(detail)" }
    /// The source without the field: "state file regs.json", "command-line flag --baser 0".
    public var origin: String {
        switch kind {
        case .stateFile, .extractNote: "\(kind.rawValue) \(detail.split(separator: " ").first.map(String.init) ?? "")"
        case .migrationStream: "\(kind.rawValue) \(detail.split(separator: ".").first.map(String.init) ?? "")"
        // "its_node@0x….tables[0].val", "gic_rdists->prop_table_pa", "rdist[2].pend_page": the
        // structure, without the member.
        // "… via BTF in guest RAM and kallsyms" (the zero-configuration path) is kept.
        case .guestKernel: "\(kind.rawValue) \(detail.prefix { $0 != "." && $0 != "-" && $0 != "[" })"
            + (detail.firstRange(of: " via ").map { String(detail[$0.lowerBound...]) } ?? "")
        default: description
        }
    }
}

public struct Sourced<Value: Sendable & Hashable>: Sendable, Hashable {
    public var value: Value
    public var provenance: Provenance
    public init(_ value: Value, _ provenance: Provenance) {
        self.value = value
        self.provenance = provenance
    }
}

/// The registers of one ITS. Everything but the BASERs may be unknown.
public struct ITSRegisterState: Sendable, Hashable {
    public var base: Sourced<GuestPhysicalAddress>?
    public var ctlr: Sourced<GITSCTLR>?
    public var iidr: Sourced<GITSIIDR>?
    public var typer: Sourced<GITSTyper>?
    public var cbaser: Sourced<GITSCBaser>?
    public var cwriter: Sourced<GITSCommandOffset>?
    public var creadr: Sourced<GITSCommandOffset>?
    /// GITS_BASER0..7, index = n; nil where no source gave a value.
    public var baser: [Sourced<GITSBaser>?]

    public init() { baser = Array(repeating: nil, count: 8) }

    public var hasAnyBaser: Bool { baser.contains { $0 != nil } }
}

/// One redistributor's LPI registers (its-formats.md §1.8).
public struct RedistributorState: Sendable, Hashable {
    /// Processor number (GICR_TYPER.Processor_Number; the ICID Linux uses for that CPU).
    public var cpu: UInt32
    public var propbaser: Sourced<GICRPropBaser>?
    public var pendbaser: Sourced<GICRPendBaser>?
    /// Redistributor frame address, needed to resolve RDbase when GITS_TYPER.PTA = 1.
    public var rdBase: Sourced<GuestPhysicalAddress>?

    public init(cpu: UInt32) { self.cpu = cpu }
}

public struct RegisterState: Sendable, Hashable {
    public var its: [ITSRegisterState]
    public var redistributors: [RedistributorState]

    public init(its: [ITSRegisterState] = [], redistributors: [RedistributorState] = []) {
        self.its = its
        self.redistributors = redistributors
    }

    public func redistributor(cpu: UInt32) -> RedistributorState? {
        redistributors.first { $0.cpu == cpu }
    }

    /// Values of `other` replace those of `self` field by field (flags override the file).
    public mutating func overlay(_ other: RegisterState) {
        for (i, o) in other.its.enumerated() {
            while its.count <= i { its.append(ITSRegisterState()) }
            var m = its[i]
            for r in ITSRegister.allCases { if let v = o[r] { m[r] = v } }
            its[i] = m
        }
        for r in other.redistributors {
            if let idx = redistributors.firstIndex(where: { $0.cpu == r.cpu }) {
                for reg in RedistributorRegister.allCases { if let v = r[reg] { redistributors[idx][reg] = v } }
            } else {
                redistributors.append(r)
            }
        }
        redistributors.sort { $0.cpu < $1.cpu }
    }
}

extension RegisterState {
    /// The one rule of precedence between register sources, applied field by field: command-line
    /// flags over the state file, the state file over what the dump carries (a migration
    /// stream, a qcow2 VM state, a Cloud Hypervisor state.json, an extract's ITSDUMP note), and
    /// all of them over the guest driver's records. The driver is asked (`driver()` reads the
    /// guest kernel) only when no other source gives a GITS_BASER.
    public static func resolve(carried: RegisterState?, stateFile: RegisterState?, flags: RegisterState,
                               driver: () throws -> RegisterState) rethrows -> RegisterState
    {
        var given = carried ?? RegisterState()
        if let stateFile { given.overlay(stateFile) }
        given.overlay(flags)
        guard !given.its.contains(where: \.hasAnyBaser) else { return given }
        var state = try driver()
        state.overlay(given)
        return state
    }
}

/// Every register of one ITS that itsdump reads, with its architectural name, its key in the
/// state file and JSON, its command-line flag, its field layout and its name in QEMU's
/// `arm_gicv3_its` migration section (its-formats.md §1.2–§1.6, §5.1). The register table,
/// the state file reader and writer, the flags, the stream reader, the diff and the renderers
/// all loop over `allCases`: a register is added here, once.
public enum ITSRegister: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The guest-physical base of the ITS frame (not a register: where the registers live).
    case base
    case ctlr, iidr, typer, cbaser, cwriter, creadr
    case baser(Int)

    public static let baserCount = 8

    public static let allCases: [ITSRegister] =
        [.base, .ctlr, .iidr, .typer, .cbaser, .cwriter, .creadr] + (0..<baserCount).map { .baser($0) }

    /// "GITS_CTLR", "GITS_BASER3"; "base" for the frame address.
    public var name: String {
        switch self {
        case .base: "base"
        case .ctlr: "GITS_CTLR"
        case .iidr: "GITS_IIDR"
        case .typer: "GITS_TYPER"
        case .cbaser: "GITS_CBASER"
        case .cwriter: "GITS_CWRITER"
        case .creadr: "GITS_CREADR"
        case .baser(let n): "GITS_BASER\(n)"
        }
    }

    public var description: String { name }

    /// The key in the state file and in JSON output ("ctlr"); the BASERs share "baser", an array.
    public var jsonKey: String {
        switch self {
        case .base: "base"
        case .ctlr: "ctlr"
        case .iidr: "iidr"
        case .typer: "typer"
        case .cbaser: "cbaser"
        case .cwriter: "cwriter"
        case .creadr: "creadr"
        case .baser: "baser"
        }
    }

    /// The command-line flag that sets it for ITS 0 ("--baser 3" takes `3=0x…`).
    public var flag: String {
        switch self {
        case .base: "--its-base"
        case .baser(let n): "--baser \(n)"
        default: "--" + jsonKey
        }
    }

    /// The field name in QEMU's `arm_gicv3_its` vmstate (its-formats.md §5.1); nil where QEMU
    /// does not migrate it (GITS_TYPER, the frame address).
    public var migrationField: String? {
        switch self {
        case .base, .typer: nil
        case .baser(let n): "baser[\(n)]"
        default: jsonKey
        }
    }

    /// Compared by `diff`: CREADR and CWRITER move with every command, the base never does.
    public var comparedByDiff: Bool {
        switch self {
        case .base, .cwriter, .creadr: false
        default: true
        }
    }

    public var layout: BitLayout? {
        switch self {
        case .base: nil
        case .ctlr: GITSCTLR.layout
        case .iidr: GITSIIDR.layout
        case .typer: GITSTyper.layout
        case .cbaser: GITSCBaser.layout
        case .cwriter: GITSCommandOffset.writerLayout
        case .creadr: GITSCommandOffset.readerLayout
        case .baser: GITSBaser.layout
        }
    }
}

/// The LPI registers of one redistributor (its-formats.md §1.8), likewise.
public enum RedistributorRegister: String, Hashable, Sendable, CaseIterable {
    case propbaser, pendbaser, rdBase

    public var name: String {
        switch self {
        case .propbaser: "GICR_PROPBASER"
        case .pendbaser: "GICR_PENDBASER"
        case .rdBase: "RD_base"
        }
    }
    public var jsonKey: String { rawValue }
    public var comparedByDiff: Bool { self != .rdBase }
    public var layout: BitLayout? {
        switch self {
        case .propbaser: GICRPropBaser.layout
        case .pendbaser: GICRPendBaser.layout
        case .rdBase: nil
        }
    }
}

extension ITSRegisterState {
    /// The raw value of `register` and where it came from: the one place that maps a register
    /// to its stored, typed value.
    public subscript(register: ITSRegister) -> Sourced<UInt64>? {
        get {
            switch register {
            case .base: base.map { Sourced($0.value.rawValue, $0.provenance) }
            case .ctlr: ctlr.map { Sourced($0.value.rawValue, $0.provenance) }
            case .iidr: iidr.map { Sourced($0.value.rawValue, $0.provenance) }
            case .typer: typer.map { Sourced($0.value.rawValue, $0.provenance) }
            case .cbaser: cbaser.map { Sourced($0.value.rawValue, $0.provenance) }
            case .cwriter: cwriter.map { Sourced($0.value.rawValue, $0.provenance) }
            case .creadr: creadr.map { Sourced($0.value.rawValue, $0.provenance) }
            case .baser(let n): n >= 0 && n < baser.count ? baser[n].map { Sourced($0.value.rawValue, $0.provenance) } : nil
            }
        }
        set {
            switch register {
            case .base: base = newValue.map { Sourced(GuestPhysicalAddress($0.value), $0.provenance) }
            case .ctlr: ctlr = newValue.map { Sourced(GITSCTLR(rawValue: $0.value), $0.provenance) }
            case .iidr: iidr = newValue.map { Sourced(GITSIIDR(rawValue: $0.value), $0.provenance) }
            case .typer: typer = newValue.map { Sourced(GITSTyper(rawValue: $0.value), $0.provenance) }
            case .cbaser: cbaser = newValue.map { Sourced(GITSCBaser(rawValue: $0.value), $0.provenance) }
            case .cwriter: cwriter = newValue.map { Sourced(GITSCommandOffset(rawValue: $0.value), $0.provenance) }
            case .creadr: creadr = newValue.map { Sourced(GITSCommandOffset(rawValue: $0.value), $0.provenance) }
            case .baser(let n):
                guard n >= 0 && n < baser.count else { return }
                baser[n] = newValue.map { Sourced(GITSBaser(rawValue: $0.value), $0.provenance) }
            }
        }
    }
}

extension RedistributorState {
    public subscript(register: RedistributorRegister) -> Sourced<UInt64>? {
        get {
            switch register {
            case .propbaser: propbaser.map { Sourced($0.value.rawValue, $0.provenance) }
            case .pendbaser: pendbaser.map { Sourced($0.value.rawValue, $0.provenance) }
            case .rdBase: rdBase.map { Sourced($0.value.rawValue, $0.provenance) }
            }
        }
        set {
            switch register {
            case .propbaser: propbaser = newValue.map { Sourced(GICRPropBaser(rawValue: $0.value), $0.provenance) }
            case .pendbaser: pendbaser = newValue.map { Sourced(GICRPendBaser(rawValue: $0.value), $0.provenance) }
            case .rdBase: rdBase = newValue.map { Sourced(GuestPhysicalAddress($0.value), $0.provenance) }
            }
        }
    }
}

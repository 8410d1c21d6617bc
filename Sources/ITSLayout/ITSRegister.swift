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

/// A stored register value as its raw bits, and back.
private func raw<T: RawRepresentable>(_ s: Sourced<T>?) -> Sourced<UInt64>? where T.RawValue == UInt64 {
    s.map { Sourced($0.value.rawValue, $0.provenance) }
}

private func typed<T: RawRepresentable>(_ s: Sourced<UInt64>?) -> Sourced<T>? where T.RawValue == UInt64 {
    s.flatMap { v in T(rawValue: v.value).map { Sourced($0, v.provenance) } }
}

extension ITSRegisterState {
    /// The raw value of `register` and where it came from: the one place that maps a register
    /// to its stored, typed value.
    public subscript(register: ITSRegister) -> Sourced<UInt64>? {
        get {
            switch register {
            case .base: raw(base)
            case .ctlr: raw(ctlr)
            case .iidr: raw(iidr)
            case .typer: raw(typer)
            case .cbaser: raw(cbaser)
            case .cwriter: raw(cwriter)
            case .creadr: raw(creadr)
            case .baser(let n): n >= 0 && n < baser.count ? raw(baser[n]) : nil
            }
        }
        set {
            switch register {
            case .base: base = typed(newValue)
            case .ctlr: ctlr = typed(newValue)
            case .iidr: iidr = typed(newValue)
            case .typer: typer = typed(newValue)
            case .cbaser: cbaser = typed(newValue)
            case .cwriter: cwriter = typed(newValue)
            case .creadr: creadr = typed(newValue)
            case .baser(let n): if n >= 0 && n < baser.count { baser[n] = typed(newValue) }
            }
        }
    }
}

extension RedistributorState {
    public subscript(register: RedistributorRegister) -> Sourced<UInt64>? {
        get { register == .propbaser ? raw(propbaser) : register == .pendbaser ? raw(pendbaser) : raw(rdBase) }
        set {
            if register == .propbaser { propbaser = typed(newValue) }
            else if register == .pendbaser { pendbaser = typed(newValue) }
            else { rdBase = typed(newValue) }
        }
    }
}

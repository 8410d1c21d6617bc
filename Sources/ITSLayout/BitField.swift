/// Bit layouts as data, after QEMU's `FIELD(REG, NAME, shift, length)` tables
/// (hw/intc/gicv3_internal.h): every register and table entry is written once as a list of
/// named fields, and the decoders, the `tables` view and the tests read the same list.
public struct BitField: Sendable, Hashable {
    public let name: String
    /// Inclusive bit range `[high:low]`, bit 0 = least significant.
    public let high: Int
    public let low: Int

    public init(_ name: String, _ high: Int, _ low: Int) {
        self.name = name
        self.high = high
        self.low = low
    }

    public var width: Int { high - low + 1 }
    public var mask: UInt64 { width >= 64 ? UInt64.max : (UInt64(1) << UInt64(width)) - 1 }

    public func extract(_ value: UInt64) -> UInt64 { (value >> UInt64(low)) & mask }
    /// A one-bit field is set (or any bit of a wider one).
    public func isSet(_ value: UInt64) -> Bool { extract(value) != 0 }
    /// The field's bits in place, the others cleared (an address field kept at its position).
    public func inPlace(_ value: UInt64) -> UInt64 { value & (mask << UInt64(low)) }
    public func insert(_ field: UInt64, into value: UInt64) -> UInt64 {
        (value & ~(mask << UInt64(low))) | ((field & mask) << UInt64(low))
    }
}

/// A register or table entry layout: its fields and the section of the docs it comes from.
public struct BitLayout: Sendable {
    public let name: String
    /// Where the layout is documented, e.g. "its-formats.md §1.10".
    public let source: String
    /// Size of the value in bytes (4 or 8; a 12-byte QEMU ITE is two layouts).
    public let byteCount: Int
    public let fields: [BitField]

    public init(name: String, source: String, byteCount: Int, fields: [BitField]) {
        self.name = name
        self.source = source
        self.byteCount = byteCount
        self.fields = fields
    }

    public func field(_ name: String) -> BitField? { fields.first { $0.name == name } }

    /// The field named `name`, for a layout's own constants (`static let valid = layout["V"]`):
    /// a name the table does not hold is a programming error, caught by LayoutAgreementTests.
    public subscript(name: String) -> BitField {
        guard let f = field(name) else { preconditionFailure("\(self.name) has no field \(name)") }
        return f
    }

    /// Every field's value, in layout order.
    public func decode(_ raw: UInt64) -> [(name: String, value: UInt64)] {
        fields.map { ($0.name, $0.extract(raw)) }
    }
}

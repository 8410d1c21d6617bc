/// Small typed wrappers for the architecture's identifiers (its-formats.md §7), so that a raw
/// integer never travels alone through the decoders.

public struct GuestPhysicalAddress: RawRepresentable, Hashable, Comparable, Sendable,
    CustomStringConvertible
{
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { hex(rawValue) }

    /// `self + offset`, or nil when the sum leaves the 64-bit address space.
    public func adding(_ offset: UInt64) -> GuestPhysicalAddress? {
        let (sum, overflow) = rawValue.addingReportingOverflow(offset)
        return overflow ? nil : GuestPhysicalAddress(sum)
    }
}

public struct DeviceID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { hex(UInt64(rawValue)) }
}

public struct EventID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// An interrupt ID; LPIs are INTIDs >= 8192 (its-formats.md §1.8 "LPI range rules").
public struct LPI: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
    /// `GIC_LPI_OFFSET` / `VGIC_MIN_LPI`.
    public static let first: UInt32 = 8192
}

public struct ICID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// A half-open range of guest-physical addresses.
public struct GuestRange: Hashable, Sendable, CustomStringConvertible {
    public var start: GuestPhysicalAddress
    /// Number of bytes; never zero for a range produced by a reader.
    public var length: UInt64
    public init(start: GuestPhysicalAddress, length: UInt64) {
        self.start = start
        self.length = length
    }
    /// One past the last byte, saturating at 2^64 (reported as the top of the space).
    public var end: UInt64 {
        let (e, o) = start.rawValue.addingReportingOverflow(length)
        return o ? UInt64.max : e
    }
    public func contains(_ a: GuestPhysicalAddress) -> Bool {
        a.rawValue >= start.rawValue && a.rawValue - start.rawValue < length
    }
    public func overlaps(_ other: GuestRange) -> Bool {
        start.rawValue < other.end && other.start.rawValue < end
    }
    public var description: String {
        length == 0 ? "\(start) (empty)" : "\(start)-\(hex(end &- 1))"
    }
}

/// Lowercase hex with `0x`, as the architecture and the JSON output write addresses.
public func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// One byte as two lowercase hex digits, as `xxd` and build IDs write them.
public func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String(digits[Int(b >> 4)]) + String(digits[Int(b & 15)])
}

/// A raw 64-bit table entry as 16 hex digits, so that field boundaries line up in columns.
public func hex64(_ v: UInt64) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}

/// Writes JSON as it is produced, in the one layout of the tool (style.md "Output": two-space
/// indent, one member or element per line, `{}` and `[]` when empty, a newline after the
/// document) straight into a `ByteOutput`: no tree of the document is built (issue 22: a
/// million routes). The caller writes an object's members in key order (sorted, as
/// `JSONValue` sorts them); debug builds check it. `JSONValue.render` writes through here too,
/// so both give the same bytes.
public struct JSONWriter {
    public var out: ByteOutput
    /// How many containers are open; the innermost one's kind and members or elements so far
    /// (`top…`), the outer ones' on `outer`.
    private var depth = 0
    private var topIsObject = false
    private var topCount = 0
    private var outer: [(object: Bool, count: Int)] = []
    /// Debug builds: each open object's last key, to check the order.
    private var lastKeys: [String] = []

    public init(_ out: ByteOutput = ByteOutput()) { self.out = out }

    // MARK: Containers

    public mutating func beginObject() { begin(object: true) }

    public mutating func beginArray() { begin(object: false) }

    private mutating func begin(object: Bool) {
        out.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        if depth > 0 { outer.append((topIsObject, topCount)) }
        depth += 1
        topIsObject = object
        topCount = 0
        #if DEBUG
        lastKeys.append("")
        #endif
    }

    /// Ends the innermost container: `{}` / `[]` when it is empty.
    public mutating func end() {
        guard depth > 0 else { return }
        depth -= 1
        if topCount > 0 {
            out.append(UInt8(ascii: "\n"))
            pad(depth)
        }
        out.append(topIsObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        if let o = outer.popLast() { (topIsObject, topCount) = o }
        #if DEBUG
        lastKeys.removeLast()
        #endif
        out.flushIfFull()
    }

    /// Starts the next member of the innermost object; its value follows.
    public mutating func key(_ key: String) {
        checkOrder(key)
        separate()
        string(key)
        out.append(UInt8(ascii: ":"))
        out.append(UInt8(ascii: " "))
    }

    /// An object's key, quoted once (`"key": `), for objects written many times.
    public struct Key: Sendable {
        public let name: String
        let quoted: [UInt8]
        public init(_ name: String) {
            self.name = name
            var w = JSONWriter()
            w.string(name)
            quoted = w.out.bytes + Array(": ".utf8)
        }
    }

    /// `key(_:)` with the key quoted beforehand.
    public mutating func key(_ key: Key) {
        checkOrder(key.name)
        separate()
        out.append(contentsOf: key.quoted)
    }

    private mutating func checkOrder(_ key: String) {
        assert(depth > 0 && topIsObject, "JSONWriter.key outside an object")
        assert(topCount == 0 || (lastKeys.last.map { $0 < key } ?? true), "JSONWriter: key \(key) out of order")
        #if DEBUG
        if !lastKeys.isEmpty { lastKeys[lastKeys.count - 1] = key }
        #endif
    }

    /// Starts the next element of the innermost array; its value follows.
    public mutating func element() {
        assert(depth > 0 && !topIsObject, "JSONWriter.element outside an array")
        separate()
    }

    /// The end of the document: the newline after it, and everything drained.
    public mutating func finish() {
        out.append(UInt8(ascii: "\n"))
        out.flush()
    }

    private mutating func separate() {
        guard depth > 0 else { return }
        if topCount > 0 { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\n"))
        topCount += 1
        pad(depth)
    }

    private static let spaces = [UInt8](repeating: UInt8(ascii: " "), count: 128)

    private mutating func pad(_ level: Int) {
        if 2 * level <= Self.spaces.count {
            out.append(contentsOf: Self.spaces[0..<(2 * level)])
        } else {
            for _ in 0..<(2 * level) { out.append(UInt8(ascii: " ")) }
        }
    }

    // MARK: Values

    /// Any value, objects with their keys sorted.
    public mutating func value(_ v: JSONValue) {
        switch v {
        case .object(let o):
            beginObject()
            for (k, v) in o.sorted(by: { $0.key < $1.key }) {
                key(k)
                value(v)
            }
            end()
        case .array(let a):
            beginArray()
            for v in a {
                element()
                value(v)
            }
            end()
        case .string(let s): string(s)
        case .int(let v): int(v)
        case .uint(let v): uint(v)
        case .double(let v):
            if v.isFinite { out.append(utf8: String(v)) } else { out.append(utf8: "null") }
        case .bool(let b): bool(b)
        case .null: out.append(utf8: "null")
        }
    }

    public mutating func null() { out.append(utf8: "null") }

    public mutating func bool(_ b: Bool) { out.append(utf8: b ? "true" : "false") }

    public mutating func int(_ v: Int64) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        uint(v.magnitude)
    }

    public mutating func uint(_ v: UInt64) { out.decimal(v) }

    /// "0x…", lowercase, no leading zeros (`JSONValue.hexString`).
    public mutating func hex(_ v: UInt64) {
        out.append(utf8: "\"0x")
        out.hex(v)
        out.append(UInt8(ascii: "\""))
    }

    /// A string, quoted and escaped as `JSONValue.quote` does (every control, DEL, C1 and
    /// bidi control as a `\u` escape: JSON piped to a terminal shows no guest control
    /// character). Printable ASCII, the common case, is copied as it is.
    public mutating func string(_ s: String) {
        let plain = s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        if plain {
            out.append(UInt8(ascii: "\""))
            out.append(utf8: s)
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(utf8: JSONValue.quote(s))
        }
    }
}

/// A member's value when it is not a container: what a table of an object's members (a
/// route's) yields, written straight by `JSONWriter.scalar` or turned into a `JSONValue`.
public enum JSONScalar: Sendable, Equatable {
    case uint(UInt64)
    case int(Int64)
    /// A 64-bit address or raw value: "0x…".
    case hex(UInt64)
    case string(String)
    case bool(Bool)
    case null

    @inlinable
    public static func optional<T>(_ v: T?, _ f: (T) -> JSONScalar) -> JSONScalar {
        if let v { return f(v) }
        return .null
    }

    public var json: JSONValue {
        switch self {
        case .uint(let v): .uint(v)
        case .int(let v): .int(v)
        case .hex(let v): .hexString(v)
        case .string(let s): .string(s)
        case .bool(let b): .bool(b)
        case .null: .null
        }
    }
}

extension JSONWriter {
    public mutating func scalar(_ v: JSONScalar) {
        switch v {
        case .uint(let v): uint(v)
        case .int(let v): int(v)
        case .hex(let v): hex(v)
        case .string(let s): string(s)
        case .bool(let b): bool(b)
        case .null: null()
        }
    }
}

/// A minimal JSON value with a deterministic writer (sorted keys, two-space indent, integers as
/// JSON integers: style.md "Output") and a strict, bounded parser for the JSON itsdump reads
/// (register state files, route rows, a migration stream's VM description). Its own, so that
/// the tool needs no Foundation: Foundation and its ICU data cost ~11 MiB of resident memory
/// in every run (Benchmarks/README.md).
public enum JSONValue: Sendable, Equatable, CustomStringConvertible {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case bool(Bool)
    case null

    public static func hexString(_ v: UInt64) -> JSONValue { .string("0x" + String(v, radix: 16)) }
    public static func optional<T>(_ v: T?, _ f: (T) -> JSONValue) -> JSONValue { v.map(f) ?? .null }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }
    /// An integer that fits `Int` (JSON integers only: 1.0 is not one).
    public var intValue: Int? {
        switch self {
        case .int(let v): return Int(exactly: v)
        case .uint(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// One line of JSON (for messages that quote a value).
    public var description: String {
        switch self {
        case .object(let o):
            "{" + o.sorted(by: { $0.key < $1.key }).map { Self.quote($0.key) + ": " + $0.value.description }.joined(separator: ", ") + "}"
        case .array(let a): "[" + a.map(\.description).joined(separator: ", ") + "]"
        default: String(render().dropLast())
        }
    }

    /// The document as text (JSONWriter's layout), with the newline after it.
    public func render() -> String {
        var w = JSONWriter()
        w.value(self)
        w.finish()
        return String(decoding: w.out.bytes, as: UTF8.self)
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                // Controls, DEL, C1 and the bidi controls as \u escapes: JSON piped to a
                // terminal shows no guest control character (README "Bad input").
                let v = u.value
                if v < 0x20 || (v >= 0x7F && v < 0xA0) || v == 0x061C || v == 0x200E || v == 0x200F
                    || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) || v == 0x2028 || v == 0x2029 {
                    out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) at byte \(offset)" }
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
}

extension JSONValue {
    /// Nesting deeper than this is an error, not a stack overflow.
    public static let maxDepth = 256

    /// Parses one JSON text (RFC 8259): whitespace around one value and nothing else. Duplicate
    /// object keys: the last wins. Integers become `.int` (negative) or `.uint`, other numbers
    /// `.double`.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var p = JSONParser(bytes: bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.at == bytes.count else { throw p.fail("text after the JSON value") }
        return v
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var at = 0

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: at, reason: reason) }

    mutating func skipSpace() {
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
    }

    mutating func literal(_ word: String, _ v: JSONValue) throws(JSONParseError) -> JSONValue {
        for c in word.utf8 {
            guard at < bytes.count else { throw fail("unexpected end of JSON") }
            guard bytes[at] == c else { throw fail("unexpected character") }
            at += 1
        }
        return v
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < JSONValue.maxDepth else { throw fail("JSON nests deeper than \(JSONValue.maxDepth) levels") }
        guard at < bytes.count else { throw fail("unexpected end of JSON") }
        switch bytes[at] {
        case UInt8(ascii: "{"):
            at += 1
            var o: [String: JSONValue] = [:]
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(o) }
            while true {
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("object key expected") }
                let key = try string()
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("':' expected") }
                at += 1
                skipSpace()
                o[key] = try value(depth: depth + 1)
                skipSpace()
                guard at < bytes.count else { throw fail("unexpected end of JSON") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                guard bytes[at] == UInt8(ascii: "}") else { throw fail("',' or '}' expected") }
                at += 1
                return .object(o)
            }
        case UInt8(ascii: "["):
            at += 1
            var a: [JSONValue] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(a) }
            while true {
                skipSpace()
                a.append(try value(depth: depth + 1))
                skipSpace()
                guard at < bytes.count else { throw fail("unexpected end of JSON") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                guard bytes[at] == UInt8(ascii: "]") else { throw fail("',' or ']' expected") }
                at += 1
                return .array(a)
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    mutating func digits() -> Int {
        let start = at
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
        return at - start
    }

    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = at
        let negative = bytes[at] == UInt8(ascii: "-")
        if negative { at += 1 }
        let intStart = at
        let n = digits()
        guard n > 0 else { throw fail("digit expected") }
        guard n == 1 || bytes[intStart] != UInt8(ascii: "0") else { throw JSONParseError(offset: intStart, reason: "leading zero") }
        var integral = true
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard digits() > 0 else { throw fail("digit expected after '.'") }
            integral = false
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { throw fail("digit expected in exponent") }
            integral = false
        }
        let text = String(decoding: bytes[start..<at], as: UTF8.self)
        if integral {
            if negative, let v = Int64(text) { return .int(v) }
            if !negative, let v = UInt64(text) { return .uint(v) }
        }
        guard let d = Double(text) else { throw JSONParseError(offset: start, reason: "number out of range") }
        return .double(d)
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard at + 4 <= bytes.count else { throw fail("unexpected end of JSON") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[at]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("hex digit expected in \\u escape")
            }
            v = v << 4 | d
            at += 1
        }
        return v
    }

    /// A string at `at` (which holds its opening quote); raw bytes must be valid UTF-8.
    mutating func string() throws(JSONParseError) -> String {
        at += 1
        var out: [UInt8] = []
        while true {
            guard at < bytes.count else { throw fail("unterminated string") }
            let c = bytes[at]
            if c == UInt8(ascii: "\"") { at += 1; break }
            guard c >= 0x20 else { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); at += 1; continue }
            at += 1
            guard at < bytes.count else { throw fail("unterminated string") }
            let e = bytes[at]
            at += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800, scalar < 0xDC00 {
                    guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate in \\u escape")
                    }
                    at += 2
                    let low = try hex4()
                    guard low >= 0xDC00, low < 0xE000 else { throw fail("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("unpaired surrogate in \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("unknown escape")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return s
    }
}

import ITSLayout
import TextFormats

/// Route rows of `diff --expected FILE.json` (another `routes --output json`, or the fixtures'
/// ground-truth `interrupts`), read row by row: the document is never held as a JSON tree, so
/// memory stays a small multiple of the bytes read (each row becomes a few integers).
public struct ExpectedRow: Sendable, Hashable {
    public var deviceID: Int
    public var eventID: Int
    public var lpi: Int?
    public var icid: Int?
    public var vcpu: Int?
    public var priority: Int?

}

extension ExpectedRow {
    /// A row object's integer fields; nil without deviceID and eventID. (In an extension, so
    /// that the struct keeps its memberwise initializer.)
    init?(_ o: [String: JSONValue]) {
        guard let d = o["deviceID"]?.intValue, let e = o["eventID"]?.intValue else { return nil }
        self.init(deviceID: d, eventID: e, lpi: o["lpi"]?.intValue, icid: o["icid"]?.intValue,
                  vcpu: o["vcpu"]?.intValue, priority: o["priority"]?.intValue)
    }

    public subscript(field field: String) -> Int? {
        switch field {
        case "lpi": lpi
        case "icid": icid
        case "vcpu": vcpu
        case "priority": priority
        default: nil
        }
    }

    public static func rows(_ dictionaries: [[String: Int]]) -> [ExpectedRow] {
        dictionaries.compactMap { r in
            guard let d = r["deviceID"], let e = r["eventID"] else { return nil }
            return ExpectedRow(deviceID: d, eventID: e, lpi: r["lpi"], icid: r["icid"], vcpu: r["vcpu"], priority: r["priority"])
        }
    }

    /// The rows of the top-level "routes" array (else "interrupts") of `bytes`, one element
    /// parsed at a time. Throws where the text is not JSON or has neither array.
    public static func stream(_ bytes: [UInt8]) throws(JSONParseError) -> [ExpectedRow] {
        var s = RowScanner(bytes: bytes)
        return try s.scan()
    }
}

/// A byte scanner over one JSON object: values it does not need are skipped by matching
/// brackets (strings and escapes respected), each array element it needs is parsed alone.
private struct RowScanner {
    let bytes: [UInt8]
    var at = 0

    func fail(_ why: String) -> JSONParseError { JSONParseError(offset: at, reason: why) }

    mutating func space() {
        while at < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[at]) { at += 1 }
    }

    mutating func expect(_ c: UInt8) throws(JSONParseError) {
        space()
        guard at < bytes.count, bytes[at] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        at += 1
    }

    /// A string token, returned undecoded (keys compared as bytes are all we need).
    mutating func string() throws(JSONParseError) -> ArraySlice<UInt8> {
        space()
        guard at < bytes.count, bytes[at] == 0x22 else { throw fail("expected a string") }
        let start = at + 1
        at += 1
        while at < bytes.count {
            switch bytes[at] {
            case 0x5C: at += 2
            case 0x22:
                at += 1
                return bytes[start..<(at - 1)]
            default: at += 1
            }
        }
        throw fail("unterminated string")
    }

    /// Skips one value of any kind; every step consumes a byte, nesting is counted.
    mutating func skipValue() throws(JSONParseError) {
        space()
        let start = at
        var depth = 0
        while at < bytes.count {
            let c = bytes[at]
            if c == 0x22 {
                _ = try string()
                if depth == 0 { return }
                continue
            }
            if c == 0x7B || c == 0x5B {
                depth += 1
                guard depth < JSONValue.maxDepth else { throw fail("JSON nests deeper than \(JSONValue.maxDepth) levels") }
            } else if c == 0x7D || c == 0x5D {
                if depth == 0 { break }  // the end of the enclosing container: a scalar ended
                depth -= 1
                if depth == 0 { at += 1; return }
            } else if depth == 0, c == 0x2C || c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
                break
            }
            at += 1
        }
        guard depth == 0 else { throw fail("unexpected end of the JSON text") }
        guard at > start else { throw fail("unexpected character") }
    }

    mutating func scan() throws(JSONParseError) -> [ExpectedRow] {
        try expect(0x7B)
        var routes: [ExpectedRow]?
        var interrupts: [ExpectedRow]?
        space()
        if at < bytes.count, bytes[at] == 0x7D { throw fail("JSON without a \"routes\" (or \"interrupts\") array of route rows") }
        while true {
            let key = try string()
            try expect(0x3A)
            space()
            let wanted = key.elementsEqual("routes".utf8) ? 1 : key.elementsEqual("interrupts".utf8) ? 2 : 0
            if wanted != 0, at < bytes.count, bytes[at] == 0x5B {
                let rows = try array()
                if wanted == 1, routes == nil { routes = rows } else if wanted == 2, interrupts == nil { interrupts = rows }
            } else {
                try skipValue()
            }
            space()
            guard at < bytes.count else { throw fail("unexpected end of the JSON text") }
            if bytes[at] == 0x2C { at += 1; continue }
            guard bytes[at] == 0x7D else { throw fail("expected ',' or '}'") }
            at += 1
            break
        }
        space()
        guard at == bytes.count else { throw fail("text after the JSON value") }
        guard let rows = routes ?? interrupts else { throw fail("JSON without a \"routes\" (or \"interrupts\") array of route rows") }
        return rows
    }

    /// The array at `at`: each element parsed alone; objects with deviceID and eventID kept.
    mutating func array() throws(JSONParseError) -> [ExpectedRow] {
        try expect(0x5B)
        var rows: [ExpectedRow] = []
        space()
        if at < bytes.count, bytes[at] == 0x5D { at += 1; return rows }
        var elements = 0
        while true {
            space()
            let start = at
            elements += 1
            try skipValue()
            let element: JSONValue
            do { element = try JSONValue.parse(Array(bytes[start..<at])) } catch {
                throw JSONParseError(offset: start + error.offset, reason: error.reason)
            }
            if let o = element.objectValue, let row = ExpectedRow(o) { rows.append(row) }
            space()
            guard at < bytes.count else { throw fail("unexpected end of the JSON text") }
            if bytes[at] == 0x2C { at += 1; continue }
            guard bytes[at] == 0x5D else { throw fail("expected ',' or ']'") }
            // Elements that are no rows are skipped, but an array of nothing else is no route
            // JSON (`{"routes": [5]}` would otherwise expect no route at all).
            guard !rows.isEmpty else {
                throw fail("none of the array's \(elements) element(s) is a route row (an object with integer deviceID and eventID)")
            }
            at += 1
            return rows
        }
    }
}

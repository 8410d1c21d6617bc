import Foundation
import TextFormats

/// A validator for the part of JSON Schema draft 2020-12 that Documentation/schema uses:
/// `type`, `properties`, `required`, `additionalProperties`, `items`, `prefixItems`,
/// `minItems`/`maxItems`, `enum`, `const`, `minimum`/`maximum`, `pattern`, `minLength`,
/// `anyOf`/`oneOf`/`allOf`, `$ref` (within a file, `#/$defs/NAME`, or to another file of the
/// folder, `FILE#/$defs/NAME`) and the annotations (`$schema`, `$id`, `title`, `description`,
/// `$comment`, `$defs`, `examples`). A keyword outside this list is an error, so that a
/// schema never relies on something the validator silently skips.
struct SchemaValidator {
    let folder: URL
    private(set) var schemas: [String: JSONValue] = [:]

    static let annotations: Set<String> = ["$schema", "$id", "title", "description", "$comment", "$defs", "examples"]
    static let keywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems", "maxItems",
        "enum", "const", "minimum", "maximum", "pattern", "minLength", "anyOf", "oneOf", "allOf", "$ref",
    ]

    struct Failure: Error, CustomStringConvertible {
        var path: String
        var message: String
        var description: String { "\(path.isEmpty ? "/" : path): \(message)" }
    }

    init(folder: URL) throws {
        self.folder = folder
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".schema.json") {
            let bytes = try Array(Data(contentsOf: folder.appendingPathComponent(name)))
            schemas[name] = try JSONValue.parse(bytes)
        }
    }

    /// Every failure of `instance` against the schema file `name` (empty: valid).
    func validate(_ instance: JSONValue, against name: String) -> [Failure] {
        guard let schema = schemas[name] else { return [Failure(path: "", message: "no schema \(name)")] }
        var out: [Failure] = []
        check(instance, schema, file: name, path: "", into: &out)
        return out
    }

    /// Resolves a `$ref` relative to `file`: the schema it names and the file it lives in.
    private func resolve(_ ref: String, from file: String) -> (JSONValue, String)? {
        let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let target = parts[0].isEmpty ? file : parts[0]
        guard var node = schemas[target] else { return nil }
        if parts.count == 2, !parts[1].isEmpty {
            for key in parts[1].split(separator: "/") {
                guard let next = node[String(key)] else { return nil }
                node = next
            }
        }
        return (node, target)
    }

    private func typeName(_ v: JSONValue) -> [String] {
        switch v {
        case .object: ["object"]
        case .array: ["array"]
        case .string: ["string"]
        case .int, .uint: ["integer", "number"]
        case .double(let d): d == d.rounded() ? ["integer", "number"] : ["number"]
        case .bool: ["boolean"]
        case .null: ["null"]
        }
    }

    private func number(_ v: JSONValue) -> Double? {
        switch v {
        case .int(let i): Double(i)
        case .uint(let u): Double(u)
        case .double(let d): d
        default: nil
        }
    }

    private func check(_ v: JSONValue, _ schema: JSONValue, file: String, path: String, into out: inout [Failure]) {
        if case .bool(let b) = schema {
            if !b { out.append(Failure(path: path, message: "no value is allowed here")) }
            return
        }
        guard let s = schema.objectValue else {
            out.append(Failure(path: path, message: "schema is not an object in \(file)"))
            return
        }
        for key in s.keys where !Self.keywords.contains(key) && !Self.annotations.contains(key) {
            out.append(Failure(path: path, message: "schema keyword \(key) (in \(file)) is not supported by the validator"))
        }
        if let ref = s["$ref"]?.stringValue {
            if let (target, inFile) = resolve(ref, from: file) {
                check(v, target, file: inFile, path: path, into: &out)
            } else {
                out.append(Failure(path: path, message: "unresolved $ref \(ref) in \(file)"))
            }
        }
        if let t = s["type"] {
            let allowed = t.stringValue.map { [$0] } ?? t.arrayValue?.compactMap(\.stringValue) ?? []
            if Set(allowed).isDisjoint(with: typeName(v)) {
                out.append(Failure(path: path, message: "\(v.description.prefix(60)) is not of type \(allowed.joined(separator: "|"))"))
                return
            }
        }
        if let e = s["enum"]?.arrayValue, !e.contains(where: { same($0, v) }) {
            out.append(Failure(path: path, message: "\(v.description.prefix(60)) is not one of \(e.map(\.description).joined(separator: ", "))"))
        }
        if let c = s["const"], !same(c, v) {
            out.append(Failure(path: path, message: "\(v.description.prefix(60)) is not \(c.description)"))
        }
        if let n = number(v) {
            if let min = s["minimum"].flatMap(number), n < min { out.append(Failure(path: path, message: "\(n) < minimum \(min)")) }
            if let max = s["maximum"].flatMap(number), n > max { out.append(Failure(path: path, message: "\(n) > maximum \(max)")) }
        }
        if let str = v.stringValue {
            if let p = s["pattern"]?.stringValue {
                do {
                    let re = try Regex(p)
                    if (try? re.firstMatch(in: str)) == nil { out.append(Failure(path: path, message: "\"\(str.prefix(60))\" does not match \(p)")) }
                } catch {
                    out.append(Failure(path: path, message: "bad pattern \(p) in \(file)"))
                }
            }
            if let m = s["minLength"]?.intValue, str.count < m { out.append(Failure(path: path, message: "shorter than \(m)")) }
        }
        if let o = v.objectValue {
            for r in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where o[r] == nil {
                out.append(Failure(path: path, message: "required key \(r) is missing"))
            }
            let props = s["properties"]?.objectValue ?? [:]
            for (k, value) in o.sorted(by: { $0.key < $1.key }) {
                if let p = props[k] {
                    check(value, p, file: file, path: path + "/" + k, into: &out)
                } else if let extra = s["additionalProperties"] {
                    check(value, extra, file: file, path: path + "/" + k, into: &out)
                }
            }
        }
        if let a = v.arrayValue {
            if let m = s["minItems"]?.intValue, a.count < m { out.append(Failure(path: path, message: "fewer than \(m) items")) }
            if let m = s["maxItems"]?.intValue, a.count > m { out.append(Failure(path: path, message: "more than \(m) items")) }
            let prefix = s["prefixItems"]?.arrayValue ?? []
            for (i, item) in a.enumerated() {
                if i < prefix.count {
                    check(item, prefix[i], file: file, path: path + "/\(i)", into: &out)
                } else if let items = s["items"] {
                    check(item, items, file: file, path: path + "/\(i)", into: &out)
                }
            }
        }
        for sub in s["allOf"]?.arrayValue ?? [] { check(v, sub, file: file, path: path, into: &out) }
        if let any = s["anyOf"]?.arrayValue {
            let ok = any.contains { sub in
                var f: [Failure] = []
                check(v, sub, file: file, path: path, into: &f)
                return f.isEmpty
            }
            if !ok { out.append(Failure(path: path, message: "matches none of anyOf")) }
        }
        if let one = s["oneOf"]?.arrayValue {
            let n = one.filter { sub in
                var f: [Failure] = []
                check(v, sub, file: file, path: path, into: &f)
                return f.isEmpty
            }.count
            if n != 1 { out.append(Failure(path: path, message: "matches \(n) of oneOf, not exactly 1")) }
        }
    }

    private func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        return a.render() == b.render()
    }
}

import Testing
import ITSLayout
import TextFormats

/// The JSON reader that replaced Foundation's (register files, route rows, a stream's VM
/// description): RFC 8259 values exactly, every malformed text a positioned error.
@Suite struct JSONValueTests {
    func parse(_ s: String) throws(JSONParseError) -> JSONValue { try JSONValue.parse(Array(s.utf8)) }

    @Test func valuesAndNesting() throws {
        let v = try parse(#" { "its": [ {"baser": ["0x1", 2, null], "ok": true, "no": false} ], "x": {} , "y": [] } "#)
        #expect(v == .object(["its": .array([.object(["baser": .array([.string("0x1"), .uint(2), .null]),
                                                      "ok": .bool(true), "no": .bool(false)])]),
                              "x": .object([:]), "y": .array([])]))
        #expect(v["its"]?.arrayValue?.first?["baser"]?.arrayValue?.count == 3)
        #expect(v["missing"] == nil)
    }

    @Test func numbers() throws {
        #expect(try parse("0") == .uint(0))
        #expect(try parse("-1") == .int(-1))
        #expect(try parse("18446744073709551615") == .uint(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
        #expect(try parse("18446744073709551616") == .double(18446744073709551616))
        #expect(try parse("1.5") == .double(1.5))
        #expect(try parse("1e3") == .double(1000))
        #expect(try parse("-0.25E-2") == .double(-0.0025))
        #expect(try parse("7").intValue == 7)
        #expect(try parse("7.0").intValue == nil)  // a JSON integer only
    }

    @Test func stringsAndEscapes() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        #expect(try parse(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
        #expect(try parse("\"é\"") == .string("é"))
        #expect(try parse(#"{"k": 1, "k": 2}"#) == .object(["k": .uint(2)]))  // the last wins
    }

    @Test(arguments: [
        ("", 0, "unexpected end of JSON"),
        ("{", 1, "object key expected"),
        ("[1,]", 3, "unexpected character"),
        (#"{"a":1,}"#, 7, "object key expected"),
        ("01", 0, "leading zero"),
        ("1.", 2, "digit expected after '.'"),
        ("-", 1, "digit expected"),
        ("1e", 2, "digit expected in exponent"),
        ("\"\u{1}\"", 1, "control character in string"),
        (#""\x""#, 3, "unknown escape"),
        (#""\ud800""#, 7, "unpaired surrogate in \\u escape"),
        (#""\udc00""#, 7, "unpaired surrogate in \\u escape"),
        (#""\u12g4""#, 5, "hex digit expected in \\u escape"),
        ("\"abc", 4, "unterminated string"),
        ("[1] x", 4, "text after the JSON value"),
        ("tru", 3, "unexpected end of JSON"),
        ("nul!", 3, "unexpected character"),
        ("{\"a\" 1}", 5, "':' expected"),
        ("[1 2]", 3, "',' or ']' expected"),
    ])
    func malformedTextIsAPositionedError(text: String, offset: Int, reason: String) {
        #expect(throws: JSONParseError(offset: offset, reason: reason)) { try parse(text) }
    }

    @Test func invalidUTF8IsAnError() {
        #expect(throws: JSONParseError(offset: 3, reason: "string is not valid UTF-8")) {
            try JSONValue.parse([0x22, 0xFF, 0x22])
        }
    }

    @Test func nestingIsBounded() throws {
        let ok = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        #expect(throws: Never.self) { try parse(ok) }
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError(offset: JSONValue.maxDepth, reason: "JSON nests deeper than 256 levels")) { try parse(deep) }
    }

    @Test func renderParsesBackToTheSameValue() throws {
        let v = JSONValue.object(["a": .array([.uint(1), .int(-2), .double(0.5), .string("q\"\u{1}é"), .null, .bool(true)]),
                                  "b": .object(["c": .hexString(0xdead)])])
        #expect(try JSONValue.parse(Array(v.render().utf8)) == v)
        #expect(v.description == #"{"a": [1, -2, 0.5, "q\"\u0001é", null, true], "b": {"c": "0xdead"}}"#)
    }
}

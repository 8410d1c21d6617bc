import Testing
import TextFormats

/// The streaming JSON writer (issue 22): the layout of every document, written as it goes.
/// Expected texts are written out here, not produced by the code under test.
@Suite struct JSONWriterTests {
    @Test func layoutOfNestedContainersEmptyOnesAndScalars() {
        var w = JSONWriter()
        w.beginObject()
        w.key("a"); w.beginArray(); w.end()
        w.key("b"); w.beginObject(); w.end()
        w.key("c")
        w.beginArray()
        w.element(); w.uint(0)
        w.element(); w.int(-12)
        w.element(); w.hex(0)
        w.element(); w.hex(0xFFFF_FFFF_FFFF_FFFF)
        w.element(); w.null()
        w.element(); w.bool(true)
        w.end()
        w.key(JSONWriter.Key("d")); w.uint(18_446_744_073_709_551_615)
        w.end()
        w.finish()
        #expect(String(decoding: w.out.bytes, as: UTF8.self) == """
            {
              "a": [],
              "b": {},
              "c": [
                0,
                -12,
                "0x0",
                "0xffffffffffffffff",
                null,
                true
              ],
              "d": 18446744073709551615
            }

            """)
    }

    @Test func stringsAreEscapedForJSONAndForATerminal() {
        var w = JSONWriter()
        w.string("plain 0000:00:07.7")
        w.string("q\"b\\\n\t\u{1B}[2J\u{9B}\u{202E}é")
        #expect(String(decoding: w.out.bytes, as: UTF8.self)
            == #""plain 0000:00:07.7""q\"b\\\n\t\u001b[2J\u009b\u202eé""#)
    }

    @Test func drainsInChunksAndKeepsEveryByte() {
        var drained: [UInt8] = []
        var calls = 0
        var w = JSONWriter(ByteOutput { drained += $0; calls += 1 })
        w.beginArray()
        for i in 0..<20_000 { w.element(); w.hex(UInt64(i) << 20) }
        w.end()
        w.finish()
        #expect(calls > 1)
        #expect(w.out.bytes.isEmpty)
        let text = String(decoding: drained, as: UTF8.self)
        #expect(text.hasPrefix("[\n  \"0x0\",\n  \"0x100000\",\n"))
        #expect(text.hasSuffix("  \"0x4e1f00000\"\n]\n"))
        #expect(text.split(separator: "\n").count == 20_002)
    }
}

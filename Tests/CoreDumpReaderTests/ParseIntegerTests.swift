import Testing
import CoreDumpReader

/// `parseInteger`, which reads every register value of a state file and of the register flags
/// (`--typer 0x…`, `--pendbaser 0=…`, `FILE@GPA`): hex with 0x or 0X, or decimal; "_" anywhere and
/// blanks around are ignored; anything else is refused, never truncated.
@Suite struct ParseIntegerTests {
    @Test(arguments: [
        ("0x1f", 31), ("0X1F", 31), ("31", 31), ("0", 0), ("0x0", 0),
        ("0x4b00043b", 0x4b00043b), ("0x4000_0000", 0x4000_0000), (" \t0x40000000\t ", 0x4000_0000),
        ("1_073_741_824", 1_073_741_824), ("0xffffffffffffffff", UInt64.max),
        ("18446744073709551615", UInt64.max),
    ] as [(String, UInt64)])
    func acceptedValues(_ text: String, _ value: UInt64) {
        #expect(parseInteger(text) == value)
    }

    @Test(arguments: [
        "", " ", "_", "0x", "0X_", "x10", "0x1g", "12a", "-1", "0x10000000000000000", "18446744073709551616",
        "1 2", "0x 1", "0\u{00A0}", "٣",
    ])
    func refusedValues(_ text: String) {
        #expect(parseInteger(text) == nil)
    }
}

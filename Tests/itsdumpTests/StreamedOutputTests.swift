import Foundation
import Testing

/// `routes` writes its rows as it produces them (issue 22); -o FILE still appears whole or
/// not at all (README "-o FILE"), now through a temporary file written as it goes.
@Suite(.serialized) struct StreamedOutputTests {
    let extract = Fixtures.packageRoot.appendingPathComponent("fixtures/tcg-basic/core.extract.elf").path
    let regs = Fixtures.packageRoot.appendingPathComponent("fixtures/tcg-basic/its-regs.json").path

    @Test(arguments: ["json", "text"])
    func aStreamedOutputFileIsWholeOrNotThere(format: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-streamed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("routes.out").path
        try Data("previous routes".utf8).write(to: URL(fileURLWithPath: target))
        let args = ["routes", extract, "--regs", regs, "--format", format, "-o", target]
        // RLIMIT_FSIZE of 4 KiB (the document is ~21 KiB in JSON): the write fails (EFBIG),
        // the previous file stays whole and no temporary file is left.
        let r = try MeasuredRun.run(args, limitFileKiB: 4)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("cannot write") && r.stderr.contains("unchanged"), "\(r.stderr)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "previous routes")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["routes.out"])
        // Without a limit: exactly what standard output gets.
        let ok = try MeasuredRun.run(args)
        #expect(ok.status == 0 && ok.stdout.isEmpty, "\(ok.stderr)")
        let stdout = try MeasuredRun.run(Array(args.dropLast(2)))
        #expect(stdout.status == 0 && stdout.stdout.count > 4096)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: target))) == stdout.stdout)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["routes.out"])
    }
}

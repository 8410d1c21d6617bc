import Foundation
import Testing
@testable import CoreDumpReader

/// `-o FILE`: written whole through a temporary file and a rename, never over an input.
@Suite struct OutputFileTests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-outputfile-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    func refused(_ path: String, _ inputs: [String]) -> Bool {
        do { try OutputFile.checkNotAnInput(path, inputs: inputs) } catch { return "\(error)".contains("never writes over its inputs") }
        return false
    }

    @Test func anInputIsNeverReplaced() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("core.elf").path
        try Data("ELF".utf8).write(to: URL(fileURLWithPath: input))
        let link = dir.appendingPathComponent("link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: input)
        // A snapshot directory given as the input: the files in it are inputs too.
        let snapshot = dir.appendingPathComponent("ch")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        let state = snapshot.appendingPathComponent("state.json").path
        try Data("{}".utf8).write(to: URL(fileURLWithPath: state))

        #expect(refused(input, [input]))
        #expect(refused(link, [input]))  // through a link: same device and inode
        #expect(refused(input, ["x", link]))
        #expect(refused(state, [snapshot.path]))
        #expect(!refused(snapshot.appendingPathComponent("new.txt").path, [snapshot.path]))  // a new file beside it
        #expect(!refused(dir.appendingPathComponent("out.json").path, [input]))
        #expect(throws: DumpError.self) { try OutputFile.write(Array("x".utf8), to: input, inputs: [input]) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == Data("ELF".utf8))
    }

    @Test func theFileIsWrittenWholeAndNoTemporaryIsLeft() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("routes.json").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: out))
        let bytes = Array(repeating: UInt8(ascii: "a"), count: 3 << 20)
        try OutputFile.write(bytes, to: out, inputs: [])
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(bytes))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["routes.json"])
        let mode = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o600 } == 0o600)
        #expect(throws: DumpError.self) { try OutputFile.write(bytes, to: dir.path, inputs: []) }  // a folder
        #expect(throws: DumpError.self) { try OutputFile.write(bytes, to: dir.appendingPathComponent("no/such/dir/x").path, inputs: []) }
    }
}

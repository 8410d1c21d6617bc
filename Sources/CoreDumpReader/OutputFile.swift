import Glibc

/// `-o FILE`: the output of a command written whole and atomically (FileOutput.create), never
/// over an input: FILE is first compared (device and inode, following links) with every input
/// of the command, and with the files of an input folder.
public enum OutputFile {
    /// Refuses `path` when it names the same file as one of `inputs`, or an existing file inside
    /// an input that is a folder (a Cloud Hypervisor snapshot directory: its state.json,
    /// memory-ranges).
    public static func checkNotAnInput(_ path: String, inputs: [String]) throws(DumpError) {
        guard let out = FileIdentity(path: path) else { return }
        let slash = path.lastIndex(of: "/")
        let folder = FileIdentity(path: slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ".")
        for input in inputs where input != "-" {
            guard let i = FileIdentity(path: input) else { continue }
            if i == out || (FileOutput.isDirectory(input) && folder == i) {
                throw .badArgument("-o \(path) is the input \(input) (same file): itsdump never writes over its inputs; choose another output path")
            }
        }
    }

    /// Writes `bytes` to `path` whole (FileOutput.create: temporary file, fsync, rename; a
    /// device or other non-regular `path` refused), after checking that `path` is none of
    /// `inputs`.
    public static func write(_ bytes: [UInt8], to path: String, inputs: [String]) throws(DumpError) {
        try checkNotAnInput(path, inputs: inputs)
        try FileOutput.create(path: path, bytes: bytes)
    }

    /// Binary output on standard output (`extract -o -`).
    public static func writeStandardOutput(_ bytes: [UInt8]) {
        _ = writeAll(1, bytes)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { FileOutput.writeAll(fd, $0) }
    }
}

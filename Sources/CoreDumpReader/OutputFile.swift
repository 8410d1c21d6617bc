import Glibc

/// `-o FILE`: the output of a command written whole and atomically, never over an input.
/// The bytes go to a temporary file in FILE's folder, are flushed to disk (fsync), and the
/// temporary file is renamed over FILE: a reader sees the old FILE or the new one, never a
/// part. Before that, FILE is compared (device and inode, following links) with every input
/// of the command: an output that would replace an input is refused.
public enum OutputFile {
    /// The identity of an existing file (device, inode), or nil when `path` names nothing.
    static func identity(_ path: String) -> (UInt64, UInt64)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// Refuses `path` when it names the same file as one of `inputs`, or an existing file inside
    /// an input that is a folder (a Cloud Hypervisor snapshot directory: its state.json,
    /// memory-ranges).
    public static func checkNotAnInput(_ path: String, inputs: [String]) throws(DumpError) {
        guard let out = identity(path) else { return }
        let slash = path.lastIndex(of: "/")
        let folder = identity(slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ".")
        for input in inputs where input != "-" {
            guard let i = identity(input) else { continue }
            if i == out || (FileOutput.isDirectory(input) && folder.map { $0 == i } == true) {
                throw .badArgument("\(path) is an input of this command (\(input)): itsdump never writes over an input; choose another output file")
            }
        }
    }

    /// Writes `bytes` to `path` atomically (temporary file, fsync, rename), after checking
    /// that `path` is none of `inputs`.
    public static func write(_ bytes: [UInt8], to path: String, inputs: [String]) throws(DumpError) {
        try checkNotAnInput(path, inputs: inputs)
        if FileOutput.isDirectory(path) { throw .cannotOpen(path: path, reason: "is a folder; give a file name") }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array(((folder.isEmpty ? "/" : folder) + "/." + name + ".itsdump-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buf -> Int32 in buf.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: "cannot create a temporary file in \(folder): \(String(cString: strerror(errno)))") }
        let temp = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // mkstemp creates 0600; an output file gets the usual 0666 less the umask.
        let mask = umask(0)
        umask(mask)
        var failure: String?
        if fchmod(fd, 0o666 & ~mask) != 0 { failure = String(cString: strerror(errno)) }
        if failure == nil, !writeAll(fd, bytes) { failure = String(cString: strerror(errno)) }
        if failure == nil, fsync(fd) != 0 { failure = "fsync: \(String(cString: strerror(errno)))" }
        if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil, rename(temp, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temp)
            throw .cannotOpen(path: path, reason: "cannot write: \(failure)")
        }
    }

    /// Binary output on standard output (`extract -o -`).
    public static func writeStandardOutput(_ bytes: [UInt8]) {
        _ = writeAll(1, bytes)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { FileOutput.writeAll(fd, $0) }
    }
}

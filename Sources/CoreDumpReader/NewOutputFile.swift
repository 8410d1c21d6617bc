import Glibc

/// A file written as its bytes are produced, appearing under its name only when complete
/// (FileOutput.create's guarantee, for output that is streamed: `routes -o FILE` on a
/// million routes). The bytes go to a temporary file in the same folder (created with
/// O_EXCL); `commit` fsyncs it, renames it over `path` and fsyncs the folder. Until then, and
/// on any error (a full disk, RLIMIT_FSIZE, a kill), the file that was at `path` is intact;
/// the temporary file is removed when the object goes away uncommitted.
public final class NewOutputFile {
    let path: String
    let folder: String
    let base: String
    let temp: String
    private var fd: Int32
    /// The first failed write: (what, errno). Later writes are skipped; `commit` reports it.
    private var failure: (String, Int32)?
    private var committed = false

    /// Refuses an existing `path` that is not a regular file (a device such as /dev/full, a
    /// FIFO, a directory): rename would replace the node itself.
    public init(path: String) throws(DumpError) {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            throw .cannotOpen(path: path, reason: "the output exists and is not a regular file")
        }
        self.path = path
        let slash = path.lastIndex(of: "/")
        folder = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(folder)/.\(base).itsdump-XXXXXX".utf8CString)
        // Writes past RLIMIT_FSIZE fail with EFBIG instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        fd = template.withUnsafeMutableBufferPointer { $0.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else {
            throw .cannotOpen(path: path, reason: "cannot create a temporary file in \(folder): \(String(cString: strerror(errno)))")
        }
        temp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        guard fchmod(fd, 0o644) == 0 else {
            let e = errno
            throw fail("cannot set the mode", e)
        }
    }

    deinit {
        if !committed {
            if fd >= 0 { close(fd) }
            unlink(temp)
        }
    }

    /// Appends `bytes` (after a failed write: nothing; `commit` throws).
    public func write(_ bytes: [UInt8]) {
        guard failure == nil else { return }
        if !bytes.withUnsafeBufferPointer({ FileOutput.writeAll(fd, $0) }) { failure = ("cannot write", errno) }
    }

    /// Puts the file in place under `path`, or throws (and leaves `path` as it was).
    public func commit() throws(DumpError) {
        if let (what, e) = failure { throw fail(what, e) }
        guard fsync(fd) == 0 else { throw fail("cannot sync", errno) }
        let r = close(fd)
        fd = -1
        guard r == 0 else { throw fail("cannot write", errno) }
        guard rename(temp, path) == 0 else { throw fail("cannot rename into place", errno) }
        committed = true
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }

    /// Closes and removes the temporary file; the error names what failed.
    private func fail(_ what: String, _ err: Int32) -> DumpError {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temp)
        committed = true  // nothing left to remove
        return .cannotOpen(path: path, reason: "\(what): \(String(cString: strerror(err))); the previous \(base) (if any) is unchanged")
    }
}

import Glibc

/// Writing: standard output and error, and whole new files (extracts). With `MappedFile`, the
/// only file I/O of the tool; plain POSIX calls, so that no run pays for Foundation.
public enum FileOutput {
    /// Writes all of `s` to a file descriptor (1 = stdout, 2 = stderr), retrying short writes.
    /// A closed pipe ends the write quietly (`itsdump routes … | head`).
    public static func write(_ s: String, to fd: Int32) {
        var s = s
        s.withUTF8 { buf in _ = writeAll(fd, buf) }
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same folder (created with
    /// O_EXCL), written in full, fsync'd, then renamed over `path`, and the folder fsync'd. On
    /// any error (a full disk, RLIMIT_FSIZE, a kill) the file that was at `path` is intact and
    /// nothing partial is left under that name; the temporary file is removed on error.
    /// An existing `path` that is not a regular file (a device such as /dev/full, a FIFO, a
    /// directory) is refused: rename would replace the node itself.
    public static func create(path: String, bytes: [UInt8]) throws(DumpError) {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            throw .cannotOpen(path: path, reason: "the output exists and is not a regular file")
        }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(folder)/.\(base).itsdump-XXXXXX".utf8CString)
        // Writes past RLIMIT_FSIZE fail with EFBIG instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        let fd = template.withUnsafeMutableBufferPointer { $0.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: "cannot create a temporary file in \(folder): \(String(cString: strerror(errno)))") }
        let temp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        func fail(_ what: String, _ err: Int32) -> DumpError {
            unlink(temp)
            return .cannotOpen(path: path, reason: "\(what): \(String(cString: strerror(err))); the previous \(base) (if any) is unchanged")
        }
        guard fchmod(fd, 0o644) == 0 else { let e = errno; close(fd); throw fail("cannot set the mode", e) }
        guard bytes.withUnsafeBufferPointer({ writeAll(fd, $0) }) else { let e = errno; close(fd); throw fail("cannot write", e) }
        guard fsync(fd) == 0 else { let e = errno; close(fd); throw fail("cannot sync", e) }
        guard close(fd) == 0 else { throw fail("cannot write", errno) }
        guard rename(temp, path) == 0 else { throw fail("cannot rename into place", errno) }
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }

    /// True when `path` names a directory (following symbolic links).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// True when `path` names something that exists (any kind of file).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func writeAll(_ fd: Int32, _ buf: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = buf.baseAddress else { return true }
        var done = 0
        while done < buf.count {
            let n = Glibc.write(fd, base + done, buf.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }
}

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

    /// Creates (or truncates) `path` with mode 0644 and writes `bytes`.
    public static func create(path: String, bytes: [UInt8]) throws(DumpError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        let ok = bytes.withUnsafeBufferPointer { writeAll(fd, $0) }
        let err = errno
        guard close(fd) == 0, ok else {
            throw .cannotOpen(path: path, reason: "cannot write: \(String(cString: strerror(ok ? errno : err)))")
        }
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

    private static func writeAll(_ fd: Int32, _ buf: UnsafeBufferPointer<UInt8>) -> Bool {
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

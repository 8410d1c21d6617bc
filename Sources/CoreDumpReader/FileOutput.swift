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
        let file = try NewOutputFile(path: path)
        file.write(bytes)
        try file.commit()
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

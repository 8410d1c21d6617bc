import Glibc

/// A read-only memory map of a whole file: the only place unsafe pointers live. Dumps are
/// never read into memory; pages are faulted in as the walk touches them.
public final class MappedFile: ByteSource, @unchecked Sendable {
    public let path: String
    public let size: UInt64
    private let base: UnsafeRawPointer?
    /// Kept open for `pread`: a sequential pass copies through a window instead of faulting
    /// in the mapping page by page.
    private let fd: Int32

    public init(path: String) throws(DumpError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            close(fd)
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .cannotOpen(path: path, reason: "not a regular file")
        }
        self.fd = fd
        size = UInt64(st.st_size)
        if size == 0 {
            base = nil
            return
        }
        guard let p = mmap(nil, Int(size), PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            close(fd)
            throw .cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), Int(size)) }
        close(fd)
    }

    /// Fills `buffer` from `offset` with pread; returns the bytes read (short at the end).
    public func read(into buffer: inout [UInt8], at offset: UInt64) -> Int {
        guard offset < size else { return 0 }
        let want = min(buffer.count, Int(size - offset))
        var done = 0
        buffer.withUnsafeMutableBytes { raw in
            guard let start = raw.baseAddress else { return }
            while done < want {
                let n = pread(fd, start + done, want - done, off_t(offset) + off_t(done))
                if n <= 0 { break }
                done += n
            }
        }
        return done
    }

    /// Bytes [offset, offset + count), or nil when the range is not inside the file.
    public func bytes(at offset: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0, let base else { return count == 0 ? [] : nil }
        let (end, o) = offset.addingReportingOverflow(UInt64(count))
        guard !o, end <= size else { return nil }
        return [UInt8](UnsafeRawBufferPointer(start: base + Int(offset), count: count))
    }

    public func u8(_ offset: UInt64) -> UInt8? {
        guard let base, offset < size else { return nil }
        return base.load(fromByteOffset: Int(offset), as: UInt8.self)
    }

    /// Big-endian 32-bit load without an intermediate array (the stream index reads millions).
    public func be32(_ offset: UInt64) -> UInt32? {
        guard let base, offset <= size, size - offset >= 4 else { return nil }
        return UInt32(bigEndian: base.loadUnaligned(fromByteOffset: Int(offset), as: UInt32.self))
    }

    public func be64(_ offset: UInt64) -> UInt64? {
        guard let base, offset <= size, size - offset >= 8 else { return nil }
        return UInt64(bigEndian: base.loadUnaligned(fromByteOffset: Int(offset), as: UInt64.self))
    }

    public func be16(_ offset: UInt64) -> UInt16? {
        guard let base, offset <= size, size - offset >= 2 else { return nil }
        return UInt16(bigEndian: base.loadUnaligned(fromByteOffset: Int(offset), as: UInt16.self))
    }

    /// Drops the whole pages inside [offset, offset + count) from this process's mapping.
    public func release(_ offset: UInt64, _ count: UInt64) {
        guard let base else { return }
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page
        let end = min(offset &+ count, size) / page * page
        if end > start { madvise(UnsafeMutableRawPointer(mutating: base + Int(start)), Int(end - start), MADV_DONTNEED) }
    }

    /// Drops the pages of [0, offset) from this process's mapping (they stay in the page cache):
    /// a one-pass index of a huge stream then does not keep the whole file resident.
    public func release(below offset: UInt64) {
        guard let base else { return }
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        let n = min(offset, size) / page * page
        if n > 0 { madvise(UnsafeMutableRawPointer(mutating: base), Int(n), MADV_DONTNEED) }
    }
}

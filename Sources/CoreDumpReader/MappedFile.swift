import Glibc
import SystemPackage
import Synchronization
import TextFormats

/// One input file, read with `pread` (swift-system's `FileDescriptor`, retried on EINTR) into
/// bounded buffers: nothing is mapped, so a file that shrinks while it is read (a dump still
/// being written, a stream copied in place) gives short reads, never SIGBUS. A short read
/// inside the size seen at open, or a size or mtime that differs later, makes
/// `checkUnchanged()` throw; the CLI calls `MappedFile.checkAllUnchanged()` before it prints a
/// result. (The name stays from when the file was mapped; the readers only see `ByteSource`.)
public final class MappedFile: ByteSource, @unchecked Sendable {
    public let path: String
    public let size: UInt64
    /// Device and inode at open: `extract` refuses an output that is one of its inputs.
    public let identity: FileIdentity
    private let fd: FileDescriptor
    private let modified: timespec
    /// A small read-through window: the walkers read many 8-byte entries of the same page.
    private let lock = Mutex(())
    private var window: [UInt8] = []
    private var windowStart: UInt64 = 0
    private var windowCount = 0
    /// The first read that ended before `size` (the file shrank), or nil.
    private var shortRead: UInt64?
    static let windowBytes = 64 << 10

    /// Opens `path` without blocking (a FIFO or a device would block or never end), then
    /// refuses anything that is not a regular file before reading a byte.
    public init(path: String) throws(DumpError) {
        self.path = path
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly, options: [.nonBlocking, .closeOnExec], retryOnInterrupt: true)
        } catch {
            throw .cannotOpen(path: path, reason: Self.reason(error))
        }
        let st: Stat
        do { st = try fd.stat() } catch {
            try? fd.close()
            throw .cannotOpen(path: path, reason: Self.reason(error))
        }
        guard st.type == .regular else {
            try? fd.close()
            throw .cannotOpen(path: path, reason: "\(Self.kindName(st.type)), not a regular file")
        }
        let identity = FileIdentity(device: UInt64(st.deviceID.rawValue), inode: UInt64(st.inode.rawValue))
        // `itsdump … -o - >> DUMP`: standard output appended to the file being read.
        guard identity != FileIdentity.standardOutput else {
            try? fd.close()
            throw .badArgument("\(path): standard output is this input (the same file): itsdump never writes over its inputs; redirect the output elsewhere")
        }
        self.fd = fd
        size = UInt64(max(0, st.size))
        modified = st.st_mtim
        self.identity = identity
        Self.registry.withLock { _ in
            // Closed files drop out now and then (amortised O(1)), so a long-lived process that
            // opens many files (the fuzzers) keeps only the open ones.
            if Self.opened.count >= 64, Self.opened.count & (Self.opened.count - 1) == 0 { Self.opened.removeAll { $0.file == nil } }
            Self.opened.append(Weak(self))
        }
    }

    deinit { try? fd.close() }

    static func reason(_ error: any Error) -> String {
        (error as? Errno).map { String(cString: strerror($0.rawValue)) } ?? "\(error)"
    }

    static func kindName(_ t: FileType) -> String {
        switch t {
        case .directory: return "a directory"
        case .fifo: return "a FIFO (named pipe)"
        case .socket: return "a socket"
        case .characterSpecial: return "a character device"
        case .blockSpecial: return "a block device"
        default: return "not a regular file"
        }
    }

    /// pread until `count` bytes or the end; EINTR is retried by swift-system.
    private func pread(_ dst: UnsafeMutableRawBufferPointer, at offset: UInt64) -> Int {
        var done = 0
        while done < dst.count {
            let part = UnsafeMutableRawBufferPointer(rebasing: dst[done...])
            guard let n = try? fd.read(fromAbsoluteOffset: Int64(offset) + Int64(done), into: part), n > 0 else { break }
            done += n
        }
        return done
    }

    /// Reads [offset, offset + dst.count) that lies inside `size`; false when the file gave fewer
    /// bytes than its size promised (it shrank), which is remembered for `checkUnchanged`.
    private func readInside(_ dst: UnsafeMutableRawBufferPointer, at offset: UInt64) -> Bool {
        if dst.count <= 64 {
            let hit: Bool = lock.withLock { _ in
                let page = offset & ~UInt64(4095)
                if offset >= windowStart, offset - windowStart + UInt64(dst.count) <= UInt64(windowCount) {
                    let o = Int(offset - windowStart)
                    window.withUnsafeBytes { dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[o..<(o + dst.count)])) }
                    return true
                }
                // A miss near the window (a table read entry by entry) reads the next 64 KiB;
                // a miss elsewhere (pointer chasing: page tables, the driver's records, the irq
                // descriptors) reads its page into the page cache, where a walk finds it again.
                let near = offset >= windowStart && offset - windowStart < 2 * UInt64(Self.windowBytes)
                if !near, (offset & 4095) + UInt64(dst.count) <= 4096 {
                    return cachedPage(page) { bytes in
                        let o = Int(offset - page)
                        guard o + dst.count <= bytes.count else { return false }
                        dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[o..<(o + dst.count)]))
                        return true
                    }
                }
                if window.isEmpty { window = [UInt8](repeating: 0, count: Int(min(UInt64(Self.windowBytes), size))) }
                windowStart = page
                let span = near ? UInt64(Self.windowBytes) : (offset & 4095) + UInt64(dst.count)
                let want = Int(min(span, UInt64(window.count), size - windowStart))
                windowCount = window.withUnsafeMutableBytes { pread(UnsafeMutableRawBufferPointer(rebasing: $0[..<want]), at: windowStart) }
                if windowCount < want, shortRead == nil { shortRead = windowStart + UInt64(windowCount) }
                guard offset - windowStart + UInt64(dst.count) <= UInt64(windowCount) else { return false }
                let o = Int(offset - windowStart)
                window.withUnsafeBytes { dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[o..<(o + dst.count)])) }
                return true
            }
            return hit
        }
        let n = pread(dst, at: offset)
        if n < dst.count {
            lock.withLock { _ in if shortRead == nil { shortRead = offset + UInt64(n) } }
            return false
        }
        return true
    }

    /// The page cache of small reads: `cacheSlots` pages, direct-mapped by page number (a
    /// zero-config walk touches ~150 distinct pages, ~1,500 times), each read when first
    /// needed into memory of its own (none is zeroed or touched before). Called with `lock`
    /// held; `body` gets the page's bytes as read (short at the file's end).
    private func cachedPage(_ page: UInt64, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        let slot = Int((page >> 12) % UInt64(Self.cacheSlots))
        if cache.isEmpty { cache = [CachedPage?](repeating: nil, count: Self.cacheSlots) }
        if cache[slot]?.page != page {
            let want = Int(min(4096, size - page))
            let bytes = [UInt8](unsafeUninitializedCapacity: want) { buffer, initialized in
                initialized = pread(UnsafeMutableRawBufferPointer(buffer), at: page)
            }
            if bytes.count < want, shortRead == nil { shortRead = page + UInt64(bytes.count) }
            cache[slot] = CachedPage(page: page, bytes: bytes)
        }
        return cache[slot]?.bytes.withUnsafeBytes(body) ?? false
    }
    static let cacheSlots = 256
    private struct CachedPage {
        var page: UInt64
        var bytes: [UInt8]
    }
    private var cache: [CachedPage?] = []

    /// Fills `buffer` from `offset`; returns the bytes read (short only at the end).
    public func read(into buffer: inout [UInt8], at offset: UInt64) -> Int {
        guard offset < size else { return 0 }
        let want = Int(min(UInt64(buffer.count), size - offset))
        let n = buffer.withUnsafeMutableBytes { pread(UnsafeMutableRawBufferPointer(rebasing: $0[..<want]), at: offset) }
        if n < want { lock.withLock { _ in if shortRead == nil { shortRead = offset + UInt64(n) } } }
        return n
    }

    /// Bytes [offset, offset + count), or nil when the range is not inside the file.
    public func bytes(at offset: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0 else { return nil }
        let (end, o) = offset.addingReportingOverflow(UInt64(count))
        guard !o, end <= size else { return nil }
        if count == 0 { return [] }
        if count >= Self.hugeRead { return hugeBytes(at: offset, count: count) }
        // Not zeroed first: every byte is read, or the array is not returned.
        var ok = false
        let out = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let all = UnsafeMutableRawBufferPointer(buffer)
            ok = count >= Self.parallelRead ? readInParallel(all, at: offset) : readInside(all, at: offset)
            initialized = ok ? count : 0
        }
        return ok ? out : nil
    }

    /// From here on a read gets memory advised for transparent huge pages.
    static let hugeRead = 2 << 20
    /// From here on a read is made in two halves at once (`readInParallel`): kallsyms' names
    /// (6.1: 0.95 MiB), the BTF (4.6 MiB).
    static let parallelRead = 512 << 10

    /// A large read (the guest kernel's 4.6 MiB of BTF): one pread into memory that is neither
    /// zeroed first nor faulted in page by page. A fresh 4 KiB page costs a fault each (~1,200
    /// for a vmlinux BTF, a quarter of a zero-config run's CPU time); the buffer's 2 MiB-aligned
    /// interior is advised MADV_HUGEPAGE, so that a kernel with transparent huge pages
    /// ("madvise" or "always") faults it in 2 MiB at a time. 2 MiB of spare capacity let all
    /// but the head before the first 2 MiB boundary be covered; the advice is only a hint.
    private func hugeBytes(at offset: UInt64, count: Int) -> [UInt8]? {
        let huge = Self.hugeRead
        var ok = false
        let (capacity, over) = count.addingReportingOverflow(huge)
        let out = [UInt8](unsafeUninitializedCapacity: over ? count : capacity) { buffer, initialized in
            if let base = buffer.baseAddress {
                let start = (UInt(bitPattern: base) + UInt(huge - 1)) & ~UInt(huge - 1)
                let end = (UInt(bitPattern: base) + UInt(buffer.count)) & ~UInt(huge - 1)
                if let p = UnsafeMutableRawPointer(bitPattern: start), end > start { _ = madvise(p, Int(end - start), MADV_HUGEPAGE) }
            }
            ok = readInParallel(UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[..<count]), at: offset)
            initialized = ok ? count : 0
        }
        return ok ? out : nil
    }

    /// A large read in two halves at once, the second on a thread of its own: copying from the
    /// page cache (and faulting in the destination) is most of a zero-config run's reading,
    /// and a machine has a second core for it. Without a thread, one read.
    private func readInParallel(_ dst: UnsafeMutableRawBufferPointer, at offset: UInt64) -> Bool {
        let half = dst.count / 2 & ~4095
        guard half > 0 else { return readInside(dst, at: offset) }
        let second = UnsafeMutableRawBufferPointer(rebasing: dst[half...])
        let secondOffset = offset + UInt64(half)
        var secondDone = false
        guard let thread = startThread({ secondDone = self.readInside(second, at: secondOffset) }) else {
            return readInside(dst, at: offset)
        }
        let first = readInside(UnsafeMutableRawBufferPointer(rebasing: dst[..<half]), at: offset)
        pthread_join(thread, nil)
        return first && secondDone
    }


    private func load<T: FixedWidthInteger>(_ offset: UInt64, as: T.Type) -> T? {
        let n = UInt64(MemoryLayout<T>.size)
        guard offset <= size, size - offset >= n else { return nil }
        var v: T = 0
        let ok = withUnsafeMutableBytes(of: &v) { readInside($0, at: offset) }
        return ok ? v : nil
    }

    public func u8(_ offset: UInt64) -> UInt8? { load(offset, as: UInt8.self) }
    public func be16(_ offset: UInt64) -> UInt16? { load(offset, as: UInt16.self).map { UInt16(bigEndian: $0) } }
    public func be32(_ offset: UInt64) -> UInt32? { load(offset, as: UInt32.self).map { UInt32(bigEndian: $0) } }
    public func be64(_ offset: UInt64) -> UInt64? { load(offset, as: UInt64.self).map { UInt64(bigEndian: $0) } }

    /// Throws when the file shrank or was rewritten since it was opened: what was read from it
    /// cannot be trusted to be one snapshot.
    public func checkUnchanged() throws(DumpError) {
        let short = lock.withLock { _ in shortRead }
        let now = try? fd.stat()
        let nowSize = now.map { UInt64(max(0, $0.size)) }
        if let short {
            throw .malformed(path: path, offset: short,
                reason: "the file changed while it was read: it ended at \(short) bytes, \(size) were there when it was opened\(nowSize.map { " (now \($0))" } ?? "")")
        }
        if let now, nowSize != size || now.st_mtim.tv_sec != modified.tv_sec || now.st_mtim.tv_nsec != modified.tv_nsec {
            throw .malformed(path: path, offset: nil,
                reason: "the file changed while it was read (\(size) bytes when opened, now \(nowSize ?? 0), modified since): read a copy that is not being written")
        }
    }

    // Every file opened in this process, for one check before the CLI prints.
    private struct Weak { weak var file: MappedFile?; init(_ f: MappedFile) { file = f } }
    nonisolated(unsafe) private static var opened: [Weak] = []
    private static let registry = Mutex(())

    /// `checkUnchanged()` on every input still open.
    public static func checkAllUnchanged() throws(DumpError) {
        let files = registry.withLock { _ -> [MappedFile] in
            opened.removeAll { $0.file == nil }
            return opened.compactMap(\.file)
        }
        for f in files { try f.checkUnchanged() }
    }

    /// A small text input (`--regs`, `--expected`, `--vmcoreinfo`): a regular file, or `-` for
    /// standard input when `allowStandardInput`; at most `maxBytes` + 1 bytes are read, so
    /// the caller can tell "over the cap" from "exactly the cap".
    public static func readSmall(path: String, maxBytes: Int, allowStandardInput: Bool) throws(DumpError) -> [UInt8] {
        if path == "-" && allowStandardInput {
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            let stdin = FileDescriptor.standardInput
            while out.count <= maxBytes {
                let n: Int
                do { n = try chunk.withUnsafeMutableBytes { try stdin.read(into: $0) } } catch {
                    throw .cannotOpen(path: "standard input", reason: reason(error))
                }
                if n == 0 { break }
                out += chunk[..<min(n, maxBytes + 1 - out.count)]
            }
            return out
        }
        let file = try MappedFile(path: path)
        let n = Int(min(file.size, UInt64(maxBytes) + 1))
        guard let b = file.bytes(at: 0, count: n) else {
            try file.checkUnchanged()
            throw .cannotOpen(path: path, reason: "cannot read")
        }
        return b
    }
}

/// A file's device and inode: two paths (symlinks, hard links) name the same file when equal.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    /// The identity of the file `path` names, through symlinks; nil when there is none.
    public init?(path: String) {
        guard let st = try? FilePath(path).stat() else { return nil }
        device = UInt64(st.deviceID.rawValue)
        inode = UInt64(st.inode.rawValue)
    }

    /// Standard output's identity when it is a regular file (a redirection), else nil.
    static let standardOutput: FileIdentity? = {
        guard let st = try? FileDescriptor.standardOutput.stat(), st.type == .regular else { return nil }
        return FileIdentity(device: UInt64(st.deviceID.rawValue), inode: UInt64(st.inode.rawValue))
    }()

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}

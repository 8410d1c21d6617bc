/// Reads table bytes through `GuestMemory` with a budget, and remembers which pages the walk
/// read (for `extract`). Absent memory becomes a finding, never a crash.
struct TableReader {
    let memory: any GuestMemory
    private(set) var bytesLeft: UInt64
    private(set) var touchedPages: Set<UInt64> = []
    private(set) var findings = FindingList()
    private(set) var exhausted = false
    /// Absent pages already reported: each is said once, however often the walk meets it.
    private var reportedAbsent: Set<UInt64> = []
    private var cacheBase: UInt64 = .max
    private var cache: [UInt8] = []
    /// Pages for `byte`: the routing graph reads one property byte and one pending byte per
    /// route, from the property table and each vCPU's pending table, megabytes apart; one
    /// cache would read a page again for nearly every byte. Direct-mapped by page number.
    private var bytePages: [(base: UInt64, bytes: [UInt8])] = []
    static let bytePageSlots = 1024
    private var lastTouched: UInt64 = .max

    static let chunkBytes: UInt64 = 65536
    static let touchGranule: UInt64 = 4096

    init(memory: any GuestMemory, budget: UInt64) {
        self.memory = memory
        self.bytesLeft = budget
    }


    private mutating func charge(_ n: UInt64) -> Bool {
        if exhausted { return false }
        guard bytesLeft >= n else {
            exhausted = true
            findings.add(.walkLimit, "the walk read its budget of guest bytes and stopped; later entries were not examined")
            return false
        }
        bytesLeft -= n
        return true
    }

    mutating func touch(_ start: UInt64, _ count: UInt64) {
        guard count > 0 else { return }
        var page = start / Self.touchGranule
        let last = (start &+ (count - 1)) / Self.touchGranule
        if page == last, page == lastTouched { return }
        lastTouched = last
        while page <= last {
            touchedPages.insert(page * Self.touchGranule)
            if page == UInt64.max { break }
            page += 1
        }
    }

    /// `count` bytes at `address` (count ≤ one chunk), or nil when absent / over budget; an
    /// absent range is reported once as `table-absent` with `what` naming the structure.
    mutating func read(_ address: GuestPhysicalAddress, count: UInt64, what: @autoclosure () -> String,
                       deviceID: DeviceID? = nil, reportAbsent: Bool = true) -> [UInt8]?
    {
        guard count > 0, address.adding(count - 1) != nil else {
            findings.add(.ittBeyondAddressSpace, address: address, deviceID: deviceID,
                "\(what()) at \(address) runs past the top of the address space")
            return nil
        }
        guard charge(count) else { return nil }
        switch memory.read(address, count: Int(count)) {
        case .bytes(let b):
            touch(address.rawValue, count)
            return b
        case .absent(let r):
            let page = r.start.rawValue / Self.touchGranule * Self.touchGranule
            if reportedAbsent.insert(page).inserted, reportAbsent {
                let absence = memory.absenceText(r.start)
                findings.add(.tableAbsent, address: address, deviceID: deviceID,
                    "\(what()): guest page \(GuestPhysicalAddress(page)) \(absence)")
            }
            return nil
        }
    }

    /// One byte (an LPI's property byte, a pending-table byte) through a cache of 1,024
    /// 4 KiB pages; where a page is not wholly present, through `read` (which reports it).
    mutating func byte(_ address: GuestPhysicalAddress, what: @autoclosure () -> String,
                       deviceID: DeviceID? = nil) -> UInt8?
    {
        let a = address.rawValue
        let page = a & ~(Self.touchGranule - 1)
        if bytePages.isEmpty { bytePages = Array(repeating: (.max, []), count: Self.bytePageSlots) }
        let slot = Int((page / Self.touchGranule) % UInt64(Self.bytePageSlots))
        if bytePages[slot].base != page {
            var loaded: [UInt8] = []
            if charge(Self.touchGranule / 64), case .bytes(let b) = memory.read(GuestPhysicalAddress(page), count: Int(Self.touchGranule)) {
                loaded = b
            }
            bytePages[slot] = (page, loaded)
        }
        guard !bytePages[slot].bytes.isEmpty else {
            return read(address, count: 1, what: what(), deviceID: deviceID)?.first
        }
        guard charge(1) else { return nil }
        touch(a, 1)
        return bytePages[slot].bytes[Int(a - page)]
    }

    /// One entry through a 64 KiB chunk cache (the KVM restore walk steps entry by entry).
    mutating func entry(_ address: GuestPhysicalAddress, size: UInt64, what: @autoclosure () -> String,
                        deviceID: DeviceID? = nil) -> [UInt8]?
    {
        let a = address.rawValue
        let chunk = a & ~(Self.chunkBytes - 1)
        let off = a - chunk
        if off + size <= Self.chunkBytes {
            if chunk != cacheBase {
                cacheBase = chunk
                cache = []
                if charge(Self.chunkBytes / 64),
                    case .bytes(let b) = memory.read(GuestPhysicalAddress(chunk), count: Int(Self.chunkBytes))
                {
                    cache = b
                }
            }
            if !cache.isEmpty {
                guard charge(size) else { return nil }
                touch(a, size)
                let o = Int(off)
                return Array(cache[o..<(o + Int(size))])
            }
        }
        return read(address, count: size, what: what(), deviceID: deviceID)
    }

    /// How many of the `count` 8-byte entries from `base` are invalid (`raw & validMask == 0`)
    /// before the first valid one, read through the chunk cache: KVM's restore steps over
    /// invalid entries one by one (its-formats.md §1.10), and a hostile table can hold millions.
    /// Stops early at an absent chunk (the caller's read then reports it).
    mutating func invalidRun(from base: GuestPhysicalAddress, count: UInt64, validMask: UInt64) -> UInt64 {
        var skipped: UInt64 = 0
        while skipped < count, !exhausted {
            guard let a = base.adding(skipped * 8) else { return skipped }
            let chunk = a.rawValue & ~(Self.chunkBytes - 1)
            if chunk != cacheBase {
                cacheBase = chunk
                cache = []
                if charge(Self.chunkBytes / 64), case .bytes(let b) = memory.read(GuestPhysicalAddress(chunk), count: Int(Self.chunkBytes)) {
                    cache = b
                }
            }
            guard !cache.isEmpty else { return skipped }
            var o = Int(a.rawValue - chunk)
            while o + 8 <= cache.count, skipped < count {
                if cache.loadLE(at: o, count: 8) & validMask != 0 {
                    touch(GuestPhysicalAddress(chunk + UInt64(o)).rawValue, 8)
                    return skipped
                }
                o += 8
                skipped += 1
            }
            touch(chunk, Self.chunkBytes)
        }
        return skipped
    }

    /// Calls `visit(index, bytes, offset)` for each of `count` entries of `entrySize` bytes from
    /// `base`, a chunk at a time, skipping all-zero chunks; absent chunks are reported.
    mutating func scan(base: GuestPhysicalAddress, count: UInt64, entrySize: UInt64, what: @autoclosure () -> String,
                       deviceID: DeviceID? = nil, visit: (UInt64, [UInt8], Int) -> Void)
    {
        guard count > 0, entrySize > 0 else { return }
        let perChunk = max(1, Self.chunkBytes / entrySize)
        var index: UInt64 = 0
        var reportedHere = false
        while index < count, !exhausted {
            let n = min(perChunk, count - index)
            guard let a = base.adding(index * entrySize) else {
                findings.add(.ittBeyondAddressSpace, address: base, deviceID: deviceID,
                    "\(what()) at \(base) runs past the top of the address space")
                return
            }
            // One absent finding per structure: the first absent chunk says where.
            let before = findings.total
            if let bytes = read(a, count: n * entrySize, what: what(), deviceID: deviceID,
                                reportAbsent: !reportedHere), !bytes.isAllZero {
                for i in 0..<Int(n) { visit(index + UInt64(i), bytes, i * Int(entrySize)) }
            }
            if findings.total > before { reportedHere = true }
            index += n
        }
    }
}

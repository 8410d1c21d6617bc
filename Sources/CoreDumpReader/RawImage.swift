import ITSLayout

/// A raw RAM image: offset 0 of the file is the first guest-physical address given by
/// `FILE@GPA` (Documentation/input-formats.md §3.1, crash's convention).
public final class RawImage: GuestMemory, @unchecked Sendable {
    public let file: MappedFile
    public let base: GuestPhysicalAddress
    public let presentRanges: [GuestRange]

    public init(file: MappedFile, base: GuestPhysicalAddress) throws(DumpError) {
        guard file.size > 0 else { throw .notADump(path: file.path, reason: "empty file: no guest memory") }
        guard base.adding(file.size - 1) != nil else {
            throw .badArgument("\(file.path)@\(base): the image would run past the top of the address space")
        }
        self.file = file
        self.base = base
        presentRanges = [GuestRange(start: base, length: file.size)]
    }

    public func relinquish(_ range: GuestRange) {
        let (imageEnd, o) = base.rawValue.addingReportingOverflow(file.size)  // may end exactly at 2^64
        let lo = max(base.rawValue, range.start.rawValue), hi = min(o ? UInt64.max : imageEnd, range.end)
        if lo < hi { file.release(lo - base.rawValue, hi - lo) }
    }

    public func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
        let want = GuestRange(start: address, length: UInt64(max(0, count)))
        guard address >= base, address.rawValue - base.rawValue < file.size else {
            return .absent(want)
        }
        let off = address.rawValue - base.rawValue
        guard let b = file.bytes(at: off, count: count) else {
            return .absent(GuestRange(start: GuestPhysicalAddress(base.rawValue &+ file.size),
                                      length: UInt64(max(0, count)) &- (file.size - off)))
        }
        return .bytes(b)
    }
}

/// Several sources as one guest memory (raw ranges given one by one, or several dumps).
public struct CompositeMemory: GuestMemory {
    public let parts: [any GuestMemory]
    public let presentRanges: [GuestRange]

    public init(_ parts: [any GuestMemory]) throws(DumpError) {
        self.parts = parts
        let all = parts.flatMap(\.presentRanges).sorted { $0.start < $1.start }
        for (a, b) in zip(all, all.dropFirst()) where a.overlaps(b) {
            throw .badArgument("two inputs both hold guest memory at \(b.start): ranges \(a) and \(b) overlap")
        }
        presentRanges = all
    }

    public func damage(at address: GuestPhysicalAddress) -> String? {
        parts.lazy.compactMap { $0.damage(at: address) }.first
    }

    public func relinquish(_ range: GuestRange) {
        for p in parts { p.relinquish(range) }
    }

    public func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
        var out: [UInt8] = []
        var a = address
        var left = UInt64(max(0, count))
        while left > 0 {
            guard let i = presentRanges.firstIndex(where: { $0.contains(a) }),
                let part = parts.first(where: { $0.presentRanges.contains(presentRanges[i]) })
            else { return .absent(GuestRange(start: a, length: left)) }
            let n = min(left, presentRanges[i].end - a.rawValue)
            switch part.read(a, count: Int(n)) {
            case .bytes(let b): out += b
            case .absent(let r): return .absent(r)
            }
            left -= n
            a = GuestPhysicalAddress(a.rawValue &+ n)
        }
        return .bytes(out)
    }
}

extension RawImage: DumpFormat {
    public static let kind = DumpKind(id: "raw", name: "raw RAM image")
    /// Never recognised by content: a raw image is named as FILE@GPA.
    public static func matches(_ input: DumpInput) -> Bool { false }
    public static func load(_ input: DumpInput, options: DumpOptions) throws(DumpError) -> any DumpFormat {
        throw .badArgument("\(input.path): a raw RAM image is given as FILE@GPA")
    }
    public var memory: any GuestMemory { self }
    public var details: DumpDetails { DumpDetails(text: "", json: [:]) }
}

extension DumpKind {
    public static var raw: DumpKind { RawImage.kind }
}

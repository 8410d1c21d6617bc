import CLibElf
import Glibc
import ITSLayout
import TextFormats

/// An ELF core as QEMU's `dump-guest-memory` / `virsh dump --memory-only` and Linux's
/// /proc/vmcore write it (Documentation/input-formats.md §1). Headers through libelf (which copes with
/// QEMU 7.2's e_ehsize = 8 and section headers before program headers, and resolves PN_XNUM);
/// memory and notes straight from the mapped file.
public final class ELFCore: GuestMemory, @unchecked Sendable {
    public struct Segment: Sendable, Hashable {
        public var physicalAddress: UInt64
        public var fileOffset: UInt64
        public var fileSize: UInt64
        public var memorySize: UInt64
    }

    public struct Note: Sendable, Hashable {
        public var name: String
        public var type: UInt32
        public var descriptor: [UInt8]
        public var fileOffset: UInt64
    }

    public let file: MappedFile
    public let segments: [Segment]
    public let notes: [Note]
    /// The VMCOREINFO note's text, if the guest filled it in (§1.6), and its pairs, parsed once
    /// (`vmcoreinfo` is asked several times a run).
    public let vmcoreinfoText: String?
    let vmcoreinfoPairs: [(key: String, value: String)]?
    public let machine: UInt16
    public let presentRanges: [GuestRange]
    /// The registers an extract stored in its `ITSDUMP` note (RegistersNote), if it has one.
    public internal(set) var noteRegisters: RegisterState?

    public var path: String { file.path }

    /// The ELF core signature: `\x7fELF`.
    public static func matches(_ file: MappedFile) -> Bool {
        file.bytes(at: 0, count: 4) == [0x7F, 0x45, 0x4C, 0x46]
    }

    public init(file: MappedFile) throws(DumpError) {
        self.file = file
        let path = file.path
        guard Self.matches(file) else { throw .notADump(path: path, reason: "not an ELF file") }
        guard file.u8(4) == 2 else {
            throw .notADump(path: path, reason: "ELF class \(file.u8(4) ?? 0): only 64-bit (ELFCLASS64) cores are read")
        }
        elf_version(UInt32(EV_CURRENT))
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        // ELF_C_READ, not _MMAP: libelf then preads the headers it is asked for, and a core that
        // shrinks while it is read is a short read, not SIGBUS.
        guard let elf = elf_begin(fd, ELF_C_READ, nil) else {
            throw .malformed(path: path, offset: nil, reason: "libelf: \(String(cString: elf_errmsg(-1)))")
        }
        defer { elf_end(elf) }
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil else {
            throw .malformed(path: path, offset: 0, reason: "ELF header: \(String(cString: elf_errmsg(-1)))")
        }
        guard ehdr.e_type == UInt16(ET_CORE) else {
            throw .notADump(path: path, reason: "ELF type \(ehdr.e_type) is not ET_CORE (4): not a memory dump")
        }
        machine = ehdr.e_machine
        var count = 0
        // elf_getphdrnum reads the real count from section header 0 when e_phnum = PN_XNUM (§1.5).
        guard elf_getphdrnum(elf, &count) == 0 else {
            throw .malformed(path: path, offset: ehdr.e_phoff, reason: "program headers: \(String(cString: elf_errmsg(-1)))")
        }
        // Each program header takes 56 bytes of the file: a table past its end was cut short.
        // (elfutils clamps the count to what fits in the file: the header's own count is used.)
        if ehdr.e_phnum != 0xFFFF { count = Int(ehdr.e_phnum) }
        let (tableBytes, o1) = UInt64(count).multipliedReportingOverflow(by: 56)
        let (need, o2) = ehdr.e_phoff.addingReportingOverflow(tableBytes)
        guard !o1, !o2, need <= file.size else {
            throw .malformed(path: path, offset: ehdr.e_phoff,
                reason: "truncated program headers (file ends at \(file.size), headers need \(o1 || o2 ? "more than 2^64" : String(need))): \(count) headers of 56 bytes at offset \(ehdr.e_phoff)")
        }
        var segs: [Segment] = []
        var notes: [Note] = []
        var noteRanges: [(offset: UInt64, size: UInt64)] = []
        for i in 0..<count {
            var ph = GElf_Phdr()
            guard gelf_getphdr(elf, Int32(i), &ph) != nil else {
                throw .malformed(path: path, offset: ehdr.e_phoff, reason: "program header \(i): \(String(cString: elf_errmsg(-1)))")
            }
            if ph.p_type == UInt32(PT_LOAD) {
                guard ph.p_memsz > 0 else { continue }
                // p_offset = -1: the range was filtered out and is not stored (§1.3).
                var filesz = ph.p_offset == UInt64.max ? 0 : ph.p_filesz
                let (end, o) = ph.p_offset.addingReportingOverflow(filesz)
                if filesz > 0, o || end > file.size {
                    throw .malformed(path: path, offset: ph.p_offset,
                        reason: "PT_LOAD \(i) (guest PA 0x\(String(ph.p_paddr, radix: 16))) claims \(filesz) bytes at file offset 0x\(String(ph.p_offset, radix: 16)), past the end of the \(file.size)-byte file (truncated dump?)")
                }
                filesz = min(filesz, ph.p_memsz)
                guard ph.p_paddr.addingReportingOverflow(ph.p_memsz - 1).overflow == false else {
                    throw .malformed(path: path, offset: nil, reason: "PT_LOAD \(i) wraps past the top of the address space")
                }
                segs.append(Segment(physicalAddress: ph.p_paddr, fileOffset: ph.p_offset,
                                    fileSize: filesz, memorySize: ph.p_memsz))
            } else if ph.p_type == UInt32(PT_NOTE) {
                let (end, o) = ph.p_offset.addingReportingOverflow(ph.p_filesz)
                guard !o, end <= file.size else {
                    throw .malformed(path: path, offset: ph.p_offset, reason: "PT_NOTE of \(ph.p_filesz) bytes runs past the end of the file")
                }
                if ph.p_filesz > 0 { noteRanges.append((ph.p_offset, ph.p_filesz)) }
            }
        }
        // Notes are read once per byte range: a PT_NOTE over bytes another one covers (a
        // thousand headers over one note area) is skipped, so the cost is bounded by the file.
        noteRanges.sort { $0.offset != $1.offset ? $0.offset < $1.offset : $0.size > $1.size }  // the longest first
        var readUpTo: UInt64 = 0
        for r in noteRanges where r.offset >= readUpTo {
            guard let blob = file.bytes(at: r.offset, count: Int(r.size)) else {
                throw .malformed(path: path, offset: r.offset, reason: "PT_NOTE of \(r.size) bytes cannot be read")
            }
            notes += Self.parseNotes(blob, fileOffset: r.offset, bigEndian: file.u8(5) == 2)
            readUpTo = r.offset + r.size
        }
        segs.sort { $0.physicalAddress < $1.physicalAddress }
        for (a, b) in zip(segs, segs.dropFirst()) where a.memorySize > b.physicalAddress - a.physicalAddress {
            throw .malformed(path: path, offset: nil,
                reason: "PT_LOAD segments at guest PA 0x\(String(a.physicalAddress, radix: 16)) and 0x\(String(b.physicalAddress, radix: 16)) overlap")
        }
        guard !segs.isEmpty else { throw .notADump(path: path, reason: "ELF core without PT_LOAD segments: no guest memory") }
        segments = segs
        self.notes = notes
        vmcoreinfoText = notes.first { $0.name == "VMCOREINFO" }.map { String(decoding: $0.descriptor.prefix { $0 != 0 }, as: UTF8.self) }
        vmcoreinfoPairs = vmcoreinfoText.map(parseVMCOREINFO)
        var ranges: [GuestRange] = []
        for s in segs {
            if let last = ranges.last, last.end == s.physicalAddress,
               !last.length.addingReportingOverflow(s.memorySize).overflow {
                ranges[ranges.count - 1].length += s.memorySize
            } else {
                ranges.append(GuestRange(start: GuestPhysicalAddress(s.physicalAddress), length: s.memorySize))
            }
        }
        presentRanges = ranges
    }

    /// ELF notes from a blob (a PT_NOTE payload, or a kdump file's note area); a note whose
    /// sizes run past the blob ends the list.
    static func parseNotes(_ blob: [UInt8], fileOffset: UInt64, bigEndian: Bool = false) -> [Note] {
        func word(_ at: Int) -> Int {
            let v = blob.loadLE(at: at, count: 4)
            return Int(bigEndian ? UInt64(UInt32(v).byteSwapped) : v)
        }
        func align4(_ v: Int) -> Int { (v + 3) & ~3 }
        var notes: [Note] = []
        var p = 0
        while p + 12 <= blob.count {
            let namesz = word(p), descsz = word(p + 4), type = word(p + 8)
            guard namesz <= blob.count, descsz <= blob.count else { break }
            // An all-zero header is padding, not a note: the list ends there.
            if namesz == 0, descsz == 0, type == 0 { break }
            let descAt = p + 12 + align4(namesz)
            let next = descAt + align4(descsz)
            guard next <= blob.count || descAt + descsz <= blob.count else { break }
            let name = String(decoding: blob[(p + 12)..<(p + 12 + namesz)].prefix { $0 != 0 }, as: UTF8.self)
            notes.append(Note(name: name, type: UInt32(truncatingIfNeeded: type),
                              descriptor: Array(blob[descAt..<(descAt + descsz)]), fileOffset: fileOffset + UInt64(p)))
            p = next
        }
        return notes
    }

    /// vCPUs: one NT_PRSTATUS ("CORE", type 1) note each (§1.4).
    public var prstatusCount: Int { notes.filter { $0.name == "CORE" && $0.type == 1 }.count }


    public func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
        // Inside one segment's file bytes (the guest kernel's BTF and kallsyms): the file's array
        // as it is, not a copy of it.
        if count > 0, let s = segment(containing: address.rawValue) {
            let off = address.rawValue - s.physicalAddress
            if off < s.fileSize, UInt64(count) <= s.fileSize - off, let b = file.bytes(at: s.fileOffset + off, count: count) {
                return .bytes(b)
            }
        }
        return assembleRead(address, count: count) { a, left in
            guard let s = segment(containing: a) else { return .absent(left) }
            let off = a - s.physicalAddress
            let n = min(left, s.memorySize - off)
            // p_filesz < p_memsz: the rest of the segment reads as zeros (§1.3).
            guard off < s.fileSize else { return .zeros(n) }
            let inFile = min(n, s.fileSize - off)
            guard let b = file.bytes(at: s.fileOffset + off, count: Int(inFile)) else { return .absent(left) }
            return .bytes(b[...])
        }
    }

    public func relinquish(_ range: GuestRange) {
        for s in segments {
            // A segment may end exactly at 2^64 (p_paddr + p_memsz - 1 is checked): saturate.
            let (segEnd, o) = s.physicalAddress.addingReportingOverflow(s.fileSize)
            let lo = max(s.physicalAddress, range.start.rawValue), hi = min(o ? UInt64.max : segEnd, range.end)
            if lo < hi { file.release(s.fileOffset + (lo - s.physicalAddress), hi - lo) }
        }
    }

    func segment(containing a: UInt64) -> Segment? {
        var lo = 0, hi = segments.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if segments[mid].physicalAddress <= a { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let s = segments[lo - 1]
        return a - s.physicalAddress < s.memorySize ? s : nil
    }
}

extension ELFCore: FileDumpFormat {
    public static let kind = DumpKind(id: "elf-core", name: "ELF core")
    public static let infoKey: String? = "notes"
    public convenience init(file: MappedFile, options: DumpOptions) throws(DumpError) {
        try self.init(file: file)
        noteRegisters = try RegistersNote.registers(in: notes, path: file.path)
    }
    /// An extract's own registers (`extract` writes them in an `ITSDUMP` note).
    public var registers: RegisterState? { noteRegisters }
    public var vcpuCount: Int? { prstatusCount > 0 ? prstatusCount : nil }
    public var vmcoreinfo: [(key: String, value: String)]? { vmcoreinfoPairs }
    public var extractNotes: [ELFCore.Note] { notes }
    public var details: DumpDetails {
        let counts = Dictionary(grouping: notes, by: { "\(TerminalText.cut($0.name))/\($0.type)" }).mapValues(\.count)
        return DumpDetails(
            text: "  notes: " + counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ") + "\n",
            json: ["notes": .array(notes.map { .object(["name": .string($0.name), "type": .uint(UInt64($0.type)),
                                                          "bytes": .uint(UInt64($0.descriptor.count))]) })])
    }
}

extension DumpKind {
    public static var elfCore: DumpKind { ELFCore.kind }
}

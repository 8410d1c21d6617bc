import CLibDW
import CLibElf
import GuestKernel
import Glibc
import ITSLayout
import Synchronization

/// The guest kernel's symbols (`.symtab`) and types (DWARF 4/5) through libelf and libdw.
/// Only the compilation units a walk needs are read: a static variable's unit is the one whose
/// `.debug_aranges` hold a function of the file its `.symtab` STT_FILE entry names (the
/// kernel's aranges cover code, not data), read by a libdw handle of its own (UnitReader), else
/// the one of that name among the unit headers; a global's through dwarf_addrdie.
public final class DWARFKernelTypes: KernelTypes, @unchecked Sendable {
    let fd: Int32
    let elf: OpaquePointer
    let dwarf: OpaquePointer
    /// `.symtab`'s object symbols by name (a name can have several statics: gic_data), hashed
    /// once: the full vmlinux has 190,000 symbols.
    let symbols: SymbolIndex
    private var unitCache: [String: Dwarf_Off] = [:]
    /// What lookup(_:) found, by name: the walks ask for some names many times.
    private var found: [String: [(value: UInt64, file: String?, fileSymbol: Int?)]] = [:]
    /// The struct definitions among each unit's top-level DIEs (by unit DIE offset): name →
    /// DIE offset, the first of a name.
    private var unitStructs: [Dwarf_Off: [String: Dwarf_Off]] = [:]
    /// libdw has interned every unit header below this `.debug_info` offset (unitDIE(atUnit:)).
    private var internedEnd: Dwarf_Off = 0
    /// Units read through a handle of their own (UnitReader). A DIE's token (StructLayout.token,
    /// the unit and struct caches) is its offset in the whole `.debug_info`, whichever handle
    /// reads it.
    private(set) var readers: [UnitReader] = []
    private let lock = Mutex(())
    public let buildID: String?
    public let release: String?
    public let path: String

    public init(path: String) throws(DWARFError) {
        self.path = path
        elf_version(UInt32(EV_CURRENT))
        // A FIFO or device is refused before libelf could block on it: opened non-blocking,
        // then fstat must say a regular file.
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            let kind = switch st.st_mode & S_IFMT {
            case S_IFIFO: "a FIFO (named pipe)"
            case S_IFDIR: "a directory"
            case S_IFCHR: "a character device"
            case S_IFBLK: "a block device"
            case S_IFSOCK: "a socket"
            default: "something"
            }
            throw .cannotOpen(path: path, reason: "\(kind), not a regular file")
        }
        guard let e = elf_begin(fd, ELF_C_READ_MMAP, nil), elf_kind(e) == ELF_K_ELF else {
            close(fd)
            throw .notDebugInfo(path: path, reason: "not an ELF file: --vmlinux takes the kernel's debug vmlinux (e.g. /usr/lib/debug/boot/vmlinux-RELEASE from linux-image-RELEASE-dbg)")
        }
        if let damage = Self.truncation(e, fileSize: UInt64(st.st_size)) {
            elf_end(e)
            close(fd)
            throw .notDebugInfo(path: path, reason: "truncated or damaged vmlinux: \(damage)")
        }
        elf = e
        var syms: SymbolIndex?
        var build: String?
        var rel: String?
        var scn: OpaquePointer? = elf_nextscn(e, nil)
        var shstrndx = 0
        elf_getshdrstrndx(e, &shstrndx)
        while let s = scn {
            var sh = GElf_Shdr()
            if gelf_getshdr(s, &sh) != nil {
                if sh.sh_type == UInt32(SHT_SYMTAB), syms == nil {
                    // The pass gives back the pages of `.symtab` behind it.
                    syms = SymbolIndex(e, s, sh) { passed in Self.release(e, Int(sh.sh_offset), passed) }
                } else if sh.sh_type == UInt32(SHT_NOTE), let data = elf_getdata(s, nil) {
                    var off = 0
                    var nhdr = GElf_Nhdr()
                    var nameOff = 0, descOff = 0
                    while true {
                        let next = gelf_getnote(data, off, &nhdr, &nameOff, &descOff)
                        if next == 0 { break }
                        if let base = data.pointee.d_buf {
                            let name = String(cString: base.advanced(by: nameOff).assumingMemoryBound(to: CChar.self))
                            let desc = UnsafeRawBufferPointer(start: base.advanced(by: descOff), count: Int(nhdr.n_descsz))
                            if name == "GNU", nhdr.n_type == 3 {
                                build = desc.map(hexByte).joined()
                            } else if name == "Linux", nhdr.n_type == 0x100 || nhdr.n_type == 0 {
                                let text = String(decoding: desc.prefix { $0 != 0 }, as: UTF8.self)
                                if text.contains(".") { rel = text }
                            }
                        }
                        off = next
                    }
                }
            }
            scn = elf_nextscn(e, s)
        }
        // The symbol table was read once: give its pages (and the string table's) back.
        Self.releaseSymbolTables(e)
        buildID = build
        release = rel
        guard let d = dwarf_begin_elf(e, DWARF_C_READ, nil) else {
            elf_end(e)
            close(fd)
            throw .notDebugInfo(path: path, reason: "no DWARF debug info (\(String(cString: dwarf_errmsg(-1)))): pass the debug vmlinux (linux-image-RELEASE-dbg), not the stripped image")
        }
        dwarf = d
        guard let syms else {
            throw .notDebugInfo(path: path, reason: "no symbol table (.symtab): pass the debug vmlinux")
        }
        symbols = syms
    }

    /// What is wrong with the section headers of `e` as a file of `fileSize` bytes, or nil: a
    /// vmlinux cut short (a copy interrupted) is said to be cut, not "no DWARF".
    static func truncation(_ e: OpaquePointer, fileSize: UInt64) -> String? {
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(e, &ehdr) != nil else { return "ELF header unreadable (\(String(cString: elf_errmsg(-1))))" }
        // The header's own count (elfutils reports 0 sections when their table is past the end);
        // e_shnum 0 with a table means the count is in section header 0, at least one header.
        let count = max(1, Int(ehdr.e_shnum))
        let (need, o) = ehdr.e_shoff.addingReportingOverflow(UInt64(count) &* UInt64(ehdr.e_shentsize))
        if ehdr.e_shoff != 0, o || need > fileSize {
            return "the file ends at \(fileSize) bytes, its section headers need \(o ? "more than 2^64" : String(need))"
        }
        var scn: OpaquePointer? = elf_nextscn(e, nil)
        while let s = scn {
            var sh = GElf_Shdr()
            guard gelf_getshdr(s, &sh) != nil else { return "section header \(elf_ndxscn(s)) unreadable" }
            let (end, o2) = sh.sh_offset.addingReportingOverflow(sh.sh_size)
            if sh.sh_type != UInt32(SHT_NOBITS), sh.sh_size > 0, o2 || end > fileSize {
                return "section \(elf_ndxscn(s)) needs bytes up to \(o2 ? "past 2^64" : String(end)), the file ends at \(fileSize)"
            }
            scn = elf_nextscn(e, s)
        }
        return nil
    }

    deinit {
        dwarf_end(dwarf)
        elf_end(elf)
        close(fd)
    }

    // MARK: KernelTypes

    /// File offset and size of a section, by name.
    static func section(_ e: OpaquePointer, _ name: String) -> (offset: Int, size: Int)? {
        sectionRange(e, name).map { ($0.offset, $0.size) }
    }

    /// File offset, size and flags of a section, by name.
    static func sectionRange(_ e: OpaquePointer, _ name: String) -> (offset: Int, size: Int, flags: UInt64)? {
        var shstrndx = 0
        guard elf_getshdrstrndx(e, &shstrndx) == 0 else { return nil }
        var scn: OpaquePointer? = elf_nextscn(e, nil)
        while let s = scn {
            var sh = GElf_Shdr()
            if gelf_getshdr(s, &sh) != nil, sh.sh_type != UInt32(SHT_NOBITS), let n = elf_strptr(e, shstrndx, Int(sh.sh_name)),
               String(cString: n) == name, sh.sh_offset <= UInt64(Int.max), sh.sh_size <= UInt64(Int.max) {
                return (Int(sh.sh_offset), Int(sh.sh_size), sh.sh_flags)
            }
            scn = elf_nextscn(e, s)
        }
        return nil
    }

    /// The whole file as libelf mapped it.
    func rawFile() -> UnsafeRawBufferPointer? {
        var size = 0
        guard let raw = elf_rawfile(elf, &size) else { return nil }
        return UnsafeRawBufferPointer(start: raw, count: size)
    }

    /// Drops [start, start + count) of the file from libelf's read-only private mapping.
    func release(_ start: Int, _ count: Int) { Self.release(elf, start, count) }

    static func release(_ elf: OpaquePointer, _ start: Int, _ count: Int) {
        var size = 0
        guard count > 0, let raw = elf_rawfile(elf, &size) else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let a = (start + page - 1) / page * page, b = min(start + count, size) / page * page
        if b > a { madvise(UnsafeMutableRawPointer(raw + a), b - a, MADV_DONTNEED) }
    }

    /// Drops `.symtab` and `.strtab` from the resident set of libelf's read-only private mapping
    /// (ELF_C_READ_MMAP); a later look-up faults them back in from the file.
    static func releaseSymbolTables(_ e: OpaquePointer) {
        var size = 0
        guard let raw = elf_rawfile(e, &size) else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var scn: OpaquePointer? = elf_nextscn(e, nil)
        while let s = scn {
            var sh = GElf_Shdr()
            if gelf_getshdr(s, &sh) != nil, sh.sh_type == UInt32(SHT_SYMTAB) || (sh.sh_type == UInt32(SHT_STRTAB) && sh.sh_size > 1 << 20) {
                let start = (Int(sh.sh_offset) + page - 1) / page * page
                let end = min(Int(sh.sh_offset + sh.sh_size), size) / page * page
                if end > start { madvise(UnsafeMutableRawPointer(raw + start), end - start, MADV_DONTNEED) }
            }
            scn = elf_nextscn(e, s)
        }
    }

    /// The object symbols called `name`, in `.symtab` order, with the source file of the static
    /// ones and the index of that file's STT_FILE symbol.
    func lookup(_ name: String) -> [(value: UInt64, file: String?, fileSymbol: Int?)]? {
        let result = lock.withLock { _ in
            if let known = found[name] { return known }
            let index = symbols
            let all = index.indices(of: name).compactMap { i -> (value: UInt64, file: String?, fileSymbol: Int?)? in
                guard let sym = index.symbol(i), Int32(sym.st_info & 0xF) == STT_OBJECT else { return nil }
                guard Int32(sym.st_info >> 4) == STB_LOCAL, let f = index.fileSymbol(before: i) else { return (sym.st_value, nil, nil) }
                return (sym.st_value, index.symbol(f).flatMap { index.string(Int($0.st_name)) }, f)
            }
            found[name] = all
            // Each page a probe touched maps 64 KiB of the file around it (fault-around).
            Self.releaseSymbolTables(elf)
            return all
        }
        return result.isEmpty ? nil : result
    }

    /// A global symbol of the linker script (`_text`, `_end`: STT_NOTYPE) or an object.
    func address(of name: String) -> UInt64? {
        lock.withLock { _ in
            let index = symbols
            return index.indices(of: name).lazy.compactMap { index.symbol($0) }.first { Int32($0.st_info >> 4) != STB_LOCAL }?.st_value
        }
    }

    /// The link-time addresses that lead from the kernel image to VMCOREINFO, when the dump
    /// carries no note (VMCOREINFO.scan).
    public var vmcoreinfoPointers: VMCOREINFOPointers? {
        guard let release, let text = address(of: "_text"), let end = address(of: "_end"), let banner = address(of: "linux_banner"),
              let data = address(of: "vmcoreinfo_data"), let memstart = address(of: "memstart_addr") else { return nil }
        return VMCOREINFOPointers(text: text, end: end, banner: banner, release: release, data: data,
                                  note: address(of: "vmcoreinfo_note"), memstart: memstart)
    }

    public func symbol(_ name: String, near: String?) -> UInt64? {
        guard let values = lookup(name) else { return nil }
        if values.count == 1 || near == nil { return values.first?.value }
        let file = lookup(near ?? "")?.first?.file
        return (values.first { $0.file != nil && $0.file == file } ?? values.first)?.value
    }

    public func structure(_ name: String, inUnitOf variable: String) -> StructLayout? {
        guard var cu = unit(of: variable), let token = structs(in: &cu)[name], var die = die(at: token) else { return nil }
        defer { releaseStrings() }
        return layout(&die)
    }

    /// The unit's struct definitions by name, read once per unit: a kernel unit has a thousand
    /// or more (every header's), and each name read touches `.debug_str` somewhere in its
    /// megabytes, whose pages are given back every 256 names.
    func structs(in cu: UnsafeMutablePointer<Dwarf_Die>) -> [String: Dwarf_Off] {
        let key = token(cu)
        if let known = lock.withLock({ _ in unitStructs[key] }) { return known }
        var out: [String: Dwarf_Off] = [:]
        var child = Dwarf_Die()
        var named = 0
        if dwarf_child(cu, &child) == 0 {
            for _ in 0..<(1 << 22) {
                if dwarf_tag(&child) == Int32(DW_TAG_structure_type), dwarf_hasattr(&child, UInt32(DW_AT_declaration)) == 0,
                   let n = dwarf_diename(&child) {
                    let name = String(cString: n)
                    if out[name] == nil { out[name] = token(&child) }
                    named += 1
                    if named % 256 == 0 { releaseStrings() }
                }
                var next = Dwarf_Die()
                guard dwarf_siblingof(&child, &next) == 0 else { break }
                child = next
            }
        }
        releaseStrings()
        lock.withLock { _ in unitStructs[key] = out }
        return out
    }

    /// Gives back the pages of `.debug_str` that names were read from (through every mapping).
    func releaseStrings() {
        guard let s = Self.sectionRange(elf, ".debug_str") else { return }
        release(s.offset, s.size)
        for r in lock.withLock({ _ in readers }) { Self.release(r.elf, s.offset, s.size) }
    }

    /// A DIE's offset in the whole `.debug_info`.
    func token(_ die: UnsafeMutablePointer<Dwarf_Die>) -> Dwarf_Off {
        let off = dwarf_dieoffset(die)
        guard let cu = die.pointee.cu, let d = dwarf_cu_getdwarf(cu), d != dwarf,
              let r = lock.withLock({ _ in readers.first { $0.dwarf == d } }) else { return off }
        return r.start + off
    }

    /// The DIE at a token, through the handle that reads its unit.
    func die(at token: Dwarf_Off) -> Dwarf_Die? {
        var die = Dwarf_Die()
        if let r = lock.withLock({ _ in readers.first { $0.start <= token && token < $0.end } }) {
            return dwarf_offdie(r.dwarf, token - r.start, &die) != nil ? die : nil
        }
        return dwarf_offdie(dwarf, token, &die) != nil ? die : nil
    }

    public func memberStructure(_ layout: StructLayout, _ member: String, inUnitOf variable: String) -> StructLayout? {
        defer { releaseStrings() }
        guard var die = die(at: Dwarf_Off(layout.token)) else { return nil }
        for var child in children(&die) {
            if dwarf_tag(&child) == Int32(DW_TAG_member), let n = dwarf_diename(&child), String(cString: n) == member {
                var t = Dwarf_Die()
                guard typeOf(&child, &t) else { return nil }
                // Through pointers, arrays, typedefs and qualifiers to the struct.
                let through = [DW_TAG_pointer_type, DW_TAG_array_type, DW_TAG_typedef, DW_TAG_const_type, DW_TAG_volatile_type].map { Int32($0) }
                for _ in 0..<16 {
                    let tag = dwarf_tag(&t)
                    if tag == Int32(DW_TAG_structure_type) { return self.layout(&t) }
                    var next = Dwarf_Die()
                    guard through.contains(tag), typeOf(&t, &next) else { return nil }
                    t = next
                }
                return nil
            }
        }
        return nil
    }

    // MARK: DWARF helpers

    /// The compilation unit that defines `variable`: for a static, the unit whose
    /// `.debug_aranges` hold a function of its file, else the unit named after the source file
    /// its `.symtab` STT_FILE entry gives (data addresses are not in .debug_aranges); for a
    /// global, the unit whose address ranges hold it.
    func unit(of variable: String) -> Dwarf_Die? {
        guard let sym = lookup(variable)?.first else { return nil }
        var cu = Dwarf_Die()
        guard let file = sym.file else {
            return dwarf_addrdie(dwarf, sym.value, &cu) != nil ? cu : nil
        }
        let cached: Dwarf_Off? = lock.withLock { _ in unitCache[file] }
        if let off = cached { return die(at: off) }
        guard let found = sym.fileSymbol.flatMap({ unitByAddressRanges(file: file, fileSymbol: $0) }) ?? unitByName(file) else { return nil }
        cu = found.die
        let off = token(&cu)
        lock.withLock { _ in unitCache[file] = off }
        return cu
    }

    /// Whether a unit's DW_AT_name is the STT_FILE name (a base name: "irq-gic-v3-its.c").
    static func names(_ unitName: String, _ file: String) -> Bool {
        unitName == file || unitName.hasSuffix("/" + file)
    }

    /// The unit that `.debug_aranges` gives for the first functions of `file`'s block in
    /// `.symtab`, when its name is that file; nil when the section is absent, damaged or
    /// disagrees (the caller falls back to unitByName).
    func unitByAddressRanges(file: String, fileSymbol: Int) -> (die: Dwarf_Die, unit: Dwarf_Off)? {
        guard let r = Self.sectionRange(elf, ".debug_aranges"), r.flags & UInt64(SHF_COMPRESSED) == 0,
              r.size > 0, let raw = rawFile(), r.offset <= raw.count, r.size <= raw.count - r.offset else { return nil }
        let offset = r.offset, size = r.size
        defer { release(offset, size) }
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil else { return nil }
        let bigEndian = ehdr.e_ident.5 == UInt8(ELFDATA2MSB)
        let section = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + size)])
        let functions = lock.withLock { _ in
            defer { Self.releaseSymbolTables(elf) }
            return self.symbols.functions(inFileBlock: fileSymbol, limit: 8)
        }
        for f in functions {
            guard let unit = AddressRanges.unit(containing: f, in: section, bigEndian: bigEndian) else { continue }
            // Its own handle when the unit allows (no libdw walk over the units before it), else
            // the main handle.
            var next: Dwarf_Off = 0
            var headerSize = 0
            if dwarf_nextcu(dwarf, Dwarf_Off(unit), &next, &headerSize, nil, nil, nil) == 0,
               let r = UnitReader(fd: fd, start: Dwarf_Off(unit), end: next), var die = r.root,
               let n = dwarf_diename(&die), Self.names(String(cString: n), file) {
                lock.withLock { _ in readers.append(r) }
                return (die, Dwarf_Off(unit))
            }
            guard var die = unitDIE(atUnit: Dwarf_Off(unit)) else { continue }
            if let n = dwarf_diename(&die), Self.names(String(cString: n), file) { return (die, Dwarf_Off(unit)) }
        }
        return nil
    }

    /// The first unit named after `file`, by reading every unit's root DIE in order (the way
    /// before issue 22, kept for a vmlinux without usable `.debug_aranges`). The pages of
    /// .debug_info and .debug_abbrev passed on the way are given back every 64 units (libdw
    /// keeps what it interned on the heap), so a full vmlinux does not stay resident.
    func unitByName(_ file: String) -> (die: Dwarf_Die, unit: Dwarf_Off)? {
        let info = Self.section(elf, ".debug_info"), abbrev = Self.section(elf, ".debug_abbrev")
        var off: Dwarf_Off = 0, next: Dwarf_Off = 0
        var headerSize = 0
        var units = 0
        var cu = Dwarf_Die()
        while dwarf_nextcu(dwarf, off, &next, &headerSize, nil, nil, nil) == 0 {
            units += 1
            if units % 64 == 0 {
                if let info { release(info.offset, Int(off)) }
                if let abbrev { release(abbrev.offset, abbrev.size) }
            }
            if dwarf_offdie(dwarf, off + Dwarf_Off(headerSize), &cu) != nil, let n = dwarf_diename(&cu),
               Self.names(String(cString: n), file) {
                return (cu, off)
            }
            off = next
        }
        return nil
    }

    /// The root DIE of the unit whose header is at `unit`. libdw hands out a unit only after
    /// interning every unit header before it (`__libdw_findcu`); it is led there 64 units at a
    /// time so that the `.debug_info` pages passed are given back on the way (each header
    /// touched maps 64 KiB of the file around it: 70 MiB for the 1,100 units before
    /// irq-gic-v3-its.c in the full 6.1 vmlinux). Nil when `unit` is not a unit's start.
    func unitDIE(atUnit unit: Dwarf_Off) -> Dwarf_Die? {
        var off = lock.withLock { _ in internedEnd }
        var next: Dwarf_Off = 0
        var headerSize = 0
        var cu = Dwarf_Die()
        let info = Self.section(elf, ".debug_info")
        var released = off
        /// Gives back the pages of `.debug_info` in [released, to), the page `released` is in too.
        func releasePassed(_ to: Dwarf_Off) {
            guard let info, to > released else { return }
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let start = (info.offset + Int(released)) / page * page
            release(start, info.offset + Int(to) - start)
            released = to
        }
        if unit >= off {
            var units = 0
            while off < unit, dwarf_nextcu(dwarf, off, &next, &headerSize, nil, nil, nil) == 0, next > off {
                units += 1
                if units % 64 == 0 {
                    guard dwarf_offdie(dwarf, off + Dwarf_Off(headerSize), &cu) != nil else { return nil }
                    lock.withLock { _ in internedEnd = max(internedEnd, next) }
                    releasePassed(off)
                }
                off = next
            }
            guard off == unit else { return nil }
        }
        // This interns the units since the last 64th too: their pages go after it.
        guard dwarf_nextcu(dwarf, unit, &next, &headerSize, nil, nil, nil) == 0,
              dwarf_offdie(dwarf, unit + Dwarf_Off(headerSize), &cu) != nil else { return nil }
        // Below internedEnd, `unit` came from `.debug_aranges` unchecked: its `next` is not trusted.
        if unit >= released {
            releasePassed(unit)
            lock.withLock { _ in internedEnd = max(internedEnd, next) }
        }
        return cu
    }

    func typeOf(_ die: UnsafeMutablePointer<Dwarf_Die>, _ out: UnsafeMutablePointer<Dwarf_Die>) -> Bool {
        var attr = Dwarf_Attribute()
        guard dwarf_attr_integrate(die, UInt32(DW_AT_type), &attr) != nil else { return false }
        var t = Dwarf_Die()
        guard dwarf_formref_die(&attr, &t) != nil else { return false }
        out.pointee = t
        return true
    }

    func layout(_ die: UnsafeMutablePointer<Dwarf_Die>) -> StructLayout {
        let name = dwarf_diename(die).map { String(cString: $0) } ?? "(anonymous)"
        let size = UInt64(max(0, dwarf_bytesize(die)))
        var members: [StructLayout.Member] = []
        collectMembers(die, base: 0, into: &members, depth: 0)
        return StructLayout(name: name, size: size, members: members, token: UInt64(token(die)))
    }

    /// Members with their offsets; anonymous struct/union members are flattened into their parent.
    func collectMembers(_ die: UnsafeMutablePointer<Dwarf_Die>, base: UInt64, into out: inout [StructLayout.Member], depth: Int) {
        guard depth < 8 else { return }
        for var child in children(die) {
            guard dwarf_tag(&child) == Int32(DW_TAG_member) else { continue }
            var offset: UInt64 = 0
            var attr = Dwarf_Attribute()
            if dwarf_attr(&child, UInt32(DW_AT_data_member_location), &attr) != nil {
                var v: Dwarf_Word = 0
                if dwarf_formudata(&attr, &v) == 0 { offset = UInt64(v) }
            }
            var t = Dwarf_Die()
            var size: Dwarf_Word = 0
            if typeOf(&child, &t) { _ = dwarf_aggregate_size(&t, &size) }
            if let n = dwarf_diename(&child) {
                out.append(.init(name: String(cString: n), offset: base + offset, size: UInt64(size)))
            } else if typeOf(&child, &t) {
                var inner = t
                collectMembers(&inner, base: base + offset, into: &out, depth: depth + 1)
            }
        }
    }

    /// The direct children of a DIE (bounded).
    func children(_ die: UnsafeMutablePointer<Dwarf_Die>) -> [Dwarf_Die] {
        var out: [Dwarf_Die] = []
        var child = Dwarf_Die()
        guard dwarf_child(die, &child) == 0 else { return out }
        out.append(child)
        while out.count < 1 << 20 {
            var next = Dwarf_Die()
            guard dwarf_siblingof(&child, &next) == 0 else { break }
            out.append(next)
            child = next
        }
        return out
    }
}


/// The debug vmlinux could not be used.
public enum DWARFError: ToolError {
    case cannotOpen(path: String, reason: String)
    case notDebugInfo(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): "\(p): cannot open: \(r)"
        case .notDebugInfo(let p, let r): "\(p): \(r)"
        }
    }
}

import ITSLayout

/// Where the kernel image's own pointers say VMCOREINFO is (issue 22), for a dump without the
/// note: the RAM scan stops at the kernel image instead of going on to the page the text
/// happens to lie in (kvm-basic: 45 MiB into RAM, the image at 2 MiB). The link-time addresses
/// come from the vmlinux (`.symtab`); nothing here is trusted before the text it finds passes
/// the scan's own checks (PAGESIZE=, PHYS_OFFSET in RAM), and any failure leaves the scan to go
/// on as before.
public struct VMCOREINFOPointers: Sendable {
    /// `_text` and `_end`: the image's extent, which every address below must lie in.
    public var text: UInt64
    public var end: UInt64
    /// `linux_banner` ("Linux version RELEASE …", .rodata) and the release the vmlinux names:
    /// how the image is recognised. Its first 64 KiB (.head.text, the Image header) are not
    /// kept: arm64_memblock_init reserves from `_stext`, and the page allocator reuses them.
    public var banner: UInt64
    public var release: String
    /// `vmcoreinfo_data` (unsigned char *) and `vmcoreinfo_note` (u32 *): pointers, in the
    /// linear map, to the buffers kernel/crash_core.c allocates at boot (§6.2).
    public var data: UInt64
    public var note: UInt64?
    /// `memstart_addr` (PHYS_OFFSET, ro_after_init): what the linear map is offset by (§6.4).
    public var memstart: UInt64

    public init(text: UInt64, end: UInt64, banner: UInt64, release: String, data: UInt64, note: UInt64?, memstart: UInt64) {
        self.text = text
        self.end = end
        self.banner = banner
        self.release = release
        self.data = data
        self.note = note
        self.memstart = memstart
    }

    /// Candidate image starts are 64 KiB-aligned at least (EFI_KIMG_ALIGN; 2 MiB when the
    /// loader places the Image, Documentation/arm64/booting.rst §4).
    static let alignment: UInt64 = 64 << 10

    /// The guest-physical address of link address `link` if the image starts at `imagePA`.
    func physical(_ link: UInt64, imagePA: UInt64) -> GuestPhysicalAddress? {
        guard link >= text, link < end, link - text <= UInt64.max - imagePA else { return nil }
        return GuestPhysicalAddress(imagePA + (link - text))
    }

    /// Whether the image starts at `imagePA`: "Linux version RELEASE " at linux_banner.
    func isImage(at imagePA: UInt64, memory: any GuestMemory) -> Bool {
        let want = Array("Linux version \(release) ".utf8)
        guard !release.isEmpty, let at = physical(banner, imagePA: imagePA),
              case .bytes(let b) = memory.read(at, count: want.count) else { return false }
        return b == want
    }

    /// VMCOREINFO through the image found at `imagePA`: the pointers read from the image, each
    /// tried against the linear-map layouts of arm64 kernels (PAGE_OFFSET = -(1 << VA_BITS) from
    /// 5.4, -(1 << (VA_BITS - 1)) before; §6.4). The lowest address whose text validates wins,
    /// as the scan in address order would have found it.
    func locate(imagePA: UInt64, memory: any GuestMemory, validate: (UInt64) -> VMCOREINFO?) -> VMCOREINFO? {
        func u64(_ link: UInt64) -> UInt64? {
            guard let at = physical(link, imagePA: imagePA), case .bytes(let b) = memory.read(at, count: 8) else { return nil }
            return b.loadLE(at: 0, count: 8)
        }
        guard let physOffset = u64(memstart) else { return nil }
        var targets: [(va: UInt64, skip: UInt64)] = []
        if let d = u64(data), d != 0 { targets.append((d, 0)) }
        // The note: namesz, descsz, type, "VMCOREINFO\0\0", then the text (24 bytes in).
        if let n = note, let p = u64(n), p != 0 { targets.append((p, 24)) }
        var best: VMCOREINFO?
        var bestPA = UInt64.max
        for t in targets {
            for bits: UInt64 in [48, 52, 47, 42, 39, 36, 41, 38, 35] {
                let pa = (t.va & ((UInt64(1) << bits) - 1)) &+ physOffset &+ t.skip
                guard pa < bestPA, let v = validate(pa) else { continue }
                best = v
                bestPA = pa
                break
            }
        }
        return best
    }
}

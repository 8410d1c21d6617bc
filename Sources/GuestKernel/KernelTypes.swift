import ITSLayout
/// The guest kernel's types and symbols, behind a small interface (issue 11): DWARF through
/// libdw today, BTF found in guest memory later. Types are resolved in the compilation unit
/// of the variable a walk starts from, never by bare name: a vmlinux holds two `struct
/// its_device` (irqchip driver and KVM) and two `gic_data` (Documentation/input-formats.md §5.1).
public struct StructLayout: Sendable {
    public struct Member: Sendable {
        public var name: String
        public var offset: UInt64
        public var size: UInt64
        public init(name: String, offset: UInt64, size: UInt64) {
            self.name = name
            self.offset = offset
            self.size = size
        }
    }
    public var name: String
    public var size: UInt64
    public var members: [Member]
    /// The type source's handle for this type (a DIE offset for DWARF).
    public var token: UInt64
    public init(name: String, size: UInt64, members: [Member], token: UInt64) {
        self.name = name
        self.size = size
        self.members = members
        self.token = token
    }
    public func offset(_ member: String) -> UInt64? { members.first { $0.name == member }?.offset }
    public func has(_ member: String) -> Bool { members.contains { $0.name == member } }
}

public protocol KernelTypes: Sendable {
    /// Link-time address of a symbol (`.symtab`, statics included); with `near`, the one in the
    /// same compilation unit as that symbol when several share the name.
    func symbol(_ name: String, near: String?) -> UInt64?
    /// `struct name` as the compilation unit of `variable` defines it.
    func structure(_ name: String, inUnitOf variable: String) -> StructLayout?
    /// The struct a member points to or contains (through pointers, arrays, typedefs,
    /// qualifiers): how anonymous structs such as the per-CPU `rdist` are reached.
    func memberStructure(_ layout: StructLayout, _ member: String, inUnitOf variable: String) -> StructLayout?
    /// Build ID and release of the vmlinux, to match VMCOREINFO's BUILD-ID / OSRELEASE.
    var buildID: String? { get }
    var release: String? { get }
}

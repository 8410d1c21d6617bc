import ITSLayout

/// The PCI function behind a DeviceID, as lspci, /proc/interrupts and QEMU's `info pci` name it.
/// Without an IOMMU or an `msi-map` offset the DeviceID is the requester ID, bus << 8 | device << 3
/// | function (PCI Firmware spec; QEMU's virt machine: msi-map base 0, fixtures/README.md "The TCG
/// guest"): that identity is an assumption and every output that relies on it says so. Behind a
/// PCIe-to-PCI bridge several functions share the bridge's requester ID (one DeviceID): only the
/// guest kernel's irq descriptors tell them apart.
public enum DeviceIdentity {
    /// The sentence outputs print where a BDF comes from the DeviceID alone.
    public static let assumption = "BDF from the DeviceID, assuming the identity requester-ID mapping (QEMU virt: msi-map base 0, no IOMMU; segment 0)"

    /// "0000:bb:dd.f" for the requester ID `deviceID` (segment 0; DeviceIDs beyond 16 bits have no BDF).
    public static func bdf(_ deviceID: DeviceID) -> String? {
        let v = deviceID.rawValue
        guard v <= 0xFFFF else { return nil }
        return "0000:" + hex2(v >> 8) + ":" + hex2((v >> 3) & 0x1F) + "." + String(v & 7, radix: 16)
    }

    /// The requester ID of a PCI address (`RouteFilter.parseBDF`) under the same assumption:
    /// segment 0 only, nil for another segment or text that is no address.
    public static func deviceID(bdf: String) -> DeviceID? {
        guard let (segment, bus, device, function) = RouteFilter.parseBDF(bdf), segment == 0 else { return nil }
        return DeviceID(bus << 8 | device << 3 | function)
    }

    static func hex2(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return s.count < 2 ? "0" + s : s
    }
}

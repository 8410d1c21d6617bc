import ITSLayout
/// How current the tables in a snapshot are (its-formats.md §1.10 "Save order", §5.1): said
/// plainly on every `check`, `routes` and `diff`, so that an empty table never reads as "all
/// routes lost" without that caveat.
public struct Freshness: Sendable {
    /// Who wrote the tables, for scripts (`tablesWrittenBy` in JSON).
    public enum Writer: String, Sendable, CaseIterable {
        /// KVM's KVM_DEV_ARM_ITS_SAVE_TABLES on a stop: current as of the last save.
        case kvmSave = "kvm-save"
        /// QEMU's emulated ITS: live, current at the dump.
        case qemuLive = "qemu-live"
    }
    /// The command queue at the dump, for scripts.
    public enum QueueState: String, Sendable, CaseIterable {
        case drained, pending, unknown
    }
    /// A reason to read the tables with care: an id for scripts and the prose.
    public struct Caveat: Sendable {
        public enum ID: String, Sendable, CaseIterable {
            case guestWrittenDump = "guest-written-dump"
            case noDevices = "no-devices"
            case itsDisabled = "its-disabled"
        }
        public var id: ID
        public var text: String
    }

    public var writer: Writer
    public var tables: String
    public var queueState: QueueState
    /// Commands between GITS_CREADR and GITS_CWRITER, when the queue is known.
    public var pendingCommands: Int?
    public var queue: String
    public var caveats: [Caveat]

    /// - Parameter guestWrittenDump: the dump was written by the guest (a kdump vmcore with
    ///   CRASHTIME), not by the VMM on a stop.
    public static func assess(_ t: ITSTables, queue: CommandQueue?, guestWrittenDump: Bool) -> Freshness {
        var caveats: [Caveat] = []
        let tables: String
        switch t.format {
        case .kvm:
            tables = "written by KVM's save (KVM_DEV_ARM_ITS_SAVE_TABLES), which the VMM runs when it stops the VM (QEMU on a stop, Cloud Hypervisor on a pause): current as of the last stop, not of the moment of the dump"
            if guestWrittenDump {
                caveats.append(Caveat(id: .guestWrittenDump, text: "this dump was written by the guest's own kdump kernel, not by the VMM on a stop: KVM may not have saved its tables into it, so they can be older than the guest's state or empty"))
            }
        case .qemu:
            tables = "live: QEMU's emulated ITS keeps its tables in guest RAM as it runs commands, so they are current at the moment of the dump"
        }
        let queueText: String
        if let q = queue {
            queueText = q.drained
                ? "drained (GITS_CREADR = GITS_CWRITER, slot \(q.readSlot) of \(q.slots))"
                : "\(q.pending.count) command(s) not yet processed (GITS_CREADR slot \(q.readSlot), GITS_CWRITER slot \(q.writeSlot)): the tables predate them"
        } else {
            queueText = "unknown (GITS_CBASER, GITS_CREADR or GITS_CWRITER not given)"
        }
        if !t.devices.contains(where: { $0.status == .live }) {
            caveats.append(Caveat(id: .noDevices, text: t.format == .kvm
                ? "the device table holds no device: if the snapshot predates KVM's save, this says nothing about the guest's routes"
                : "the device table holds no device: the guest mapped none (or has not set up its ITS yet)"))
        }
        if t.registers.ctlr.map({ !$0.value.enabled }) == true {
            caveats.append(Caveat(id: .itsDisabled, text: "GITS_CTLR.Enabled is 0: the ITS translates no MSI until the guest enables it"))
        }
        let state: QueueState = queue.map { $0.drained ? .drained : .pending } ?? .unknown
        return Freshness(writer: t.format == .kvm ? .kvmSave : .qemuLive, tables: tables, queueState: state,
                         pendingCommands: queue?.pending.count, queue: queueText, caveats: caveats)
    }
}

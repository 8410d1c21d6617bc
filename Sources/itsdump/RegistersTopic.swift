import ArgumentParser

/// `itsdump help registers` (and `itsdump registers`): how to give the ITS registers, with
/// every register flag, which each command's help only names.
struct RegistersTopic: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registers",
        abstract: "How to give the ITS registers: migration stream, state file, flags, --vmlinux.",
        discussion: """
            ELF cores, kdump files and raw images hold guest RAM only. GITS_BASER (where the \
            tables are), GITS_TYPER and each redistributor's GICR_PROPBASER and GICR_PENDBASER \
            live in the (virtual) ITS and GIC. A migration stream carries them. Otherwise give \
            them, weakest first (each overrides the one before, field by field): the guest \
            kernel's records (--vmlinux, used when nothing else gives a GITS_BASER), a state \
            file (--regs FILE.json, written by `itsdump regs --format json`; - reads standard \
            input), and the flags below (ITS 0). Every command accepts them.

            Example (in fixtures/kvm-basic of the source tree, a bundled extract):
              itsdump routes core.extract.elf --baser 0=0xf9070000425a0600 \\
                --baser 1=0xbc070000425b0600 --iidr 0x4b00043b \\
                --propbaser 0x425c078f --pendbaser 0=0x425d0780
            """)

    @OptionGroup(title: "Register flags (ITS 0)") var flags: RegisterFlags

    func run() throws {
        emit(Self.helpMessage())
    }
}

function __itsdump_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __itsdump_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __itsdump_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __itsdump_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __itsdump_parse_tokens -S
    set -l unparsed_tokens (__itsdump_tokens -pc)
    switch $unparsed_tokens[1]
    case 'itsdump'
        __itsdump_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'info'
            __itsdump_parse_subcommand -r 1 'snapshot=' 'f/format=' 'o/output-file=' 'q/quiet' 'version' 'h/help'
        case 'regs'
            __itsdump_parse_subcommand -r 1 'snapshot=' 'regs=' 'regs-from=' 'ram-block=+' 'vmlinux=' 'btf=' 'vmcoreinfo=' 'abi=' 'f/format=' 'o/output-file=' 'q/quiet' 'version' 'h/help'
        case 'tables'
            __itsdump_parse_subcommand -r 1 'snapshot=' 'regs=' 'regs-from=' 'ram-block=+' 'vmlinux=' 'btf=' 'vmcoreinfo=' 'abi=' 'f/format=' 'o/output-file=' 'q/quiet' 'version' 'h/help'
        case 'routes'
            __itsdump_parse_subcommand -r 1 'snapshot=' 'regs=' 'regs-from=' 'ram-block=+' 'vmlinux=' 'btf=' 'vmcoreinfo=' 'abi=' 'f/format=' 'o/output-file=' 'q/quiet' 'device=+' 'bdf=+' 'vcpu=+' 'lpi=+' 'irq=+' 'version' 'h/help'
        case 'check'
            __itsdump_parse_subcommand -r 1 'snapshot=' 'regs=' 'regs-from=' 'ram-block=+' 'vmlinux=' 'btf=' 'vmcoreinfo=' 'abi=' 'f/format=' 'o/output-file=' 'q/quiet' 'device=+' 'bdf=+' 'vcpu=+' 'lpi=+' 'irq=+' 'rules' 'version' 'h/help'
        case 'diff'
            __itsdump_parse_subcommand -r 1 'regs-a=' 'regs-b=' 'regs=' 'regs-from=' 'expected=' 'ignore=' 'abi=' 'ram-block=+' 'snapshot=' 'vmlinux=' 'vmcoreinfo=' 'btf=' 'debugfs-a=+' 'debugfs-b=+' 'f/format=' 'o/output-file=' 'q/quiet' 'device=+' 'bdf=+' 'vcpu=+' 'lpi=+' 'irq=+' 'version' 'h/help'
        case 'explain'
            __itsdump_parse_subcommand -r 1 'snapshot=' 'regs=' 'regs-from=' 'ram-block=+' 'vmlinux=' 'btf=' 'vmcoreinfo=' 'abi=' 'f/format=' 'o/output-file=' 'q/quiet' 'device=' 'event=' 'lpi=' 'bdf=' 'irq=' 'version' 'h/help'
        case 'queue'
            __itsdump_parse_subcommand -r 1 'snapshot=' 'regs=' 'regs-from=' 'ram-block=+' 'vmlinux=' 'btf=' 'vmcoreinfo=' 'abi=' 'f/format=' 'o/output-file=' 'q/quiet' 'last=' 'version' 'h/help'
        case 'driver'
            __itsdump_parse_subcommand -r 1 'snapshot=' 'regs=' 'regs-from=' 'ram-block=+' 'vmlinux=' 'btf=' 'vmcoreinfo=' 'abi=' 'f/format=' 'o/output-file=' 'q/quiet' 'version' 'h/help'
        case 'extract'
            __itsdump_parse_subcommand -r 1 'snapshot=' 'regs=' 'regs-from=' 'ram-block=+' 'vmlinux=' 'btf=' 'vmcoreinfo=' 'abi=' 'o/output-file=' 'f/format=' 'q/quiet' 'version' 'h/help'
        case 'registers'
            __itsdump_parse_subcommand 0 'baser=+' 'typer=' 'iidr=' 'ctlr=' 'cbaser=' 'cwriter=' 'creadr=' 'its-base=' 'propbaser=' 'pendbaser=+' 'version' 'h/help'
        case 'help'
            __itsdump_parse_subcommand -r 1 'version'
        end
    end
end

function __itsdump_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __itsdump_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __itsdump_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __itsdump_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__itsdump_tokens -p)
    if test -z "$(__itsdump_tokens -t)"
        set -l index (count (__itsdump_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'itsdump' -f
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'info' -d 'What a snapshot holds: kind, RAM ranges, vCPUs, VMCOREINFO.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'regs' -d 'The ITS and redistributor registers of a snapshot, with their sources.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'tables' -d 'The registers decoded, and every table entry: guest PA, raw value, fields, status.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'routes' -d 'The routing graph: (DeviceID, EventID) -> LPI -> collection -> vCPU.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'check' -d 'Check the tables for known save/restore bug signatures and structural problems.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'diff' -d 'Compare two snapshots\' routing, or one snapshot with an expected view.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'explain' -d 'Every step of one lookup: BASER -> L1 entry -> DTE -> ITE -> CTE -> target -> property byte -> pending bit.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'queue' -d 'Decode the ITS command queue: commands not yet processed and the most recent processed ones.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'driver' -d 'The guest ITS driver\'s own view, read through the kernel\'s debug info.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'extract' -d 'Write a small ELF core with only the pages the ITS walk reads.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'registers' -d 'How to give the ITS registers: migration stream, state file, flags, --vmlinux.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump info" -ge 1' -F
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump info" snapshot' -l 'snapshot' -d 'The internal snapshot of a qcow2 DUMP whose VM state is read, by ID or name.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump info" f format' -s 'f' -l 'format' -d 'Output format: text (aligned, for people), json (stable, for scripts; schemas in Documentation/schema) or dot (Graphviz; routes only).' -rfka 'text json dot'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump info" o output-file' -s 'o' -l 'output-file' -d 'Write the output to FILE instead of standard output (- is standard output): whole or not at all, never over an input.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump info" q quiet' -s 'q' -l 'quiet' -d 'Text output without the input lines, register tables and freshness lines.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump info" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump regs" -ge 1' -F
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" snapshot' -l 'snapshot' -d 'The internal snapshot of a qcow2 DUMP to read, by ID or name (HMP `info snapshots`, `qemu-img snapshot -l`). Default: the only one with a VM state.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" regs' -l 'regs' -d 'Register state file (JSON: what `itsdump regs --format json` writes; - reads standard input). ELF cores, kdump files and raw images hold guest RAM only: GITS_BASER, GITS_TYPER and the redistributor registers live in the ITS and must come from here, from the register flags (`itsdump help registers`), --vmlinux, or a migration stream.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" regs-from' -l 'regs-from' -d 'Take the registers from this migration stream (its arm_gicv3_its and arm_gicv3 sections) while the RAM comes from DUMP, e.g. an ELF core of the same stop.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs"' -l 'ram-block' -d 'Map a migration stream\'s RAM block at a guest-physical address, e.g. ram0@0x40000000. Default: mach-virt.ram (or a virt machine\'s only RAM block) at 0x40000000, pvtime at 0x90a0000; other blocks are listed by info but not mapped. Repeatable.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" vmlinux' -l 'vmlinux' -d 'The guest kernel\'s debug vmlinux (DWARF): the driver\'s records give the registers when no other source does, and `driver` / `diff --expected guest-kernel` read them.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" btf' -l 'btf' -d 'A BTF file of the guest kernel (a copy of its /sys/kernel/btf/vmlinux), for a dump whose in-memory .BTF is missing or damaged: the zero-configuration path then reads types from it.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" vmcoreinfo' -l 'vmcoreinfo' -d 'The guest\'s VMCOREINFO text, when the dump carries no VMCOREINFO note and the scan of guest RAM finds none.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" abi' -l 'abi' -d 'Table entry format: kvm (KVM\'s ITS table ABI rev 0) or qemu (QEMU\'s emulated ITS). Default: from GITS_TYPER.ITT_entry_size, else GITS_IIDR.' -rfka 'kvm qemu'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" f format' -s 'f' -l 'format' -d 'Output format: text (aligned, for people), json (stable, for scripts; schemas in Documentation/schema) or dot (Graphviz; routes only).' -rfka 'text json dot'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" o output-file' -s 'o' -l 'output-file' -d 'Write the output to FILE instead of standard output (- is standard output): whole or not at all, never over an input.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" q quiet' -s 'q' -l 'quiet' -d 'Text output without the input lines, register tables and freshness lines.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump regs" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump tables" -ge 1' -F
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" snapshot' -l 'snapshot' -d 'The internal snapshot of a qcow2 DUMP to read, by ID or name (HMP `info snapshots`, `qemu-img snapshot -l`). Default: the only one with a VM state.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" regs' -l 'regs' -d 'Register state file (JSON: what `itsdump regs --format json` writes; - reads standard input). ELF cores, kdump files and raw images hold guest RAM only: GITS_BASER, GITS_TYPER and the redistributor registers live in the ITS and must come from here, from the register flags (`itsdump help registers`), --vmlinux, or a migration stream.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" regs-from' -l 'regs-from' -d 'Take the registers from this migration stream (its arm_gicv3_its and arm_gicv3 sections) while the RAM comes from DUMP, e.g. an ELF core of the same stop.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables"' -l 'ram-block' -d 'Map a migration stream\'s RAM block at a guest-physical address, e.g. ram0@0x40000000. Default: mach-virt.ram (or a virt machine\'s only RAM block) at 0x40000000, pvtime at 0x90a0000; other blocks are listed by info but not mapped. Repeatable.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" vmlinux' -l 'vmlinux' -d 'The guest kernel\'s debug vmlinux (DWARF): the driver\'s records give the registers when no other source does, and `driver` / `diff --expected guest-kernel` read them.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" btf' -l 'btf' -d 'A BTF file of the guest kernel (a copy of its /sys/kernel/btf/vmlinux), for a dump whose in-memory .BTF is missing or damaged: the zero-configuration path then reads types from it.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" vmcoreinfo' -l 'vmcoreinfo' -d 'The guest\'s VMCOREINFO text, when the dump carries no VMCOREINFO note and the scan of guest RAM finds none.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" abi' -l 'abi' -d 'Table entry format: kvm (KVM\'s ITS table ABI rev 0) or qemu (QEMU\'s emulated ITS). Default: from GITS_TYPER.ITT_entry_size, else GITS_IIDR.' -rfka 'kvm qemu'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" f format' -s 'f' -l 'format' -d 'Output format: text (aligned, for people), json (stable, for scripts; schemas in Documentation/schema) or dot (Graphviz; routes only).' -rfka 'text json dot'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" o output-file' -s 'o' -l 'output-file' -d 'Write the output to FILE instead of standard output (- is standard output): whole or not at all, never over an input.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" q quiet' -s 'q' -l 'quiet' -d 'Text output without the input lines, register tables and freshness lines.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump tables" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump routes" -ge 1' -F
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" snapshot' -l 'snapshot' -d 'The internal snapshot of a qcow2 DUMP to read, by ID or name (HMP `info snapshots`, `qemu-img snapshot -l`). Default: the only one with a VM state.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" regs' -l 'regs' -d 'Register state file (JSON: what `itsdump regs --format json` writes; - reads standard input). ELF cores, kdump files and raw images hold guest RAM only: GITS_BASER, GITS_TYPER and the redistributor registers live in the ITS and must come from here, from the register flags (`itsdump help registers`), --vmlinux, or a migration stream.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" regs-from' -l 'regs-from' -d 'Take the registers from this migration stream (its arm_gicv3_its and arm_gicv3 sections) while the RAM comes from DUMP, e.g. an ELF core of the same stop.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes"' -l 'ram-block' -d 'Map a migration stream\'s RAM block at a guest-physical address, e.g. ram0@0x40000000. Default: mach-virt.ram (or a virt machine\'s only RAM block) at 0x40000000, pvtime at 0x90a0000; other blocks are listed by info but not mapped. Repeatable.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" vmlinux' -l 'vmlinux' -d 'The guest kernel\'s debug vmlinux (DWARF): the driver\'s records give the registers when no other source does, and `driver` / `diff --expected guest-kernel` read them.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" btf' -l 'btf' -d 'A BTF file of the guest kernel (a copy of its /sys/kernel/btf/vmlinux), for a dump whose in-memory .BTF is missing or damaged: the zero-configuration path then reads types from it.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" vmcoreinfo' -l 'vmcoreinfo' -d 'The guest\'s VMCOREINFO text, when the dump carries no VMCOREINFO note and the scan of guest RAM finds none.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" abi' -l 'abi' -d 'Table entry format: kvm (KVM\'s ITS table ABI rev 0) or qemu (QEMU\'s emulated ITS). Default: from GITS_TYPER.ITT_entry_size, else GITS_IIDR.' -rfka 'kvm qemu'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" f format' -s 'f' -l 'format' -d 'Output format: text (aligned, for people), json (stable, for scripts; schemas in Documentation/schema) or dot (Graphviz; routes only).' -rfka 'text json dot'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" o output-file' -s 'o' -l 'output-file' -d 'Write the output to FILE instead of standard output (- is standard output): whole or not at all, never over an input.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" q quiet' -s 'q' -l 'quiet' -d 'Text output without the input lines, register tables and freshness lines.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes"' -l 'device' -d 'Only this DeviceID (hex 0x… or decimal; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes"' -l 'bdf' -d 'Only this PCI function, 0000:00:02.0 or 00:02.0 (repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes"' -l 'vcpu' -d 'Only routes to this vCPU (a verdict: before or after; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes"' -l 'lpi' -d 'Only this LPI (INTID ≥ 8192; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes"' -l 'irq' -d 'Only this Linux irq (from the guest kernel: --vmlinux, or zero configuration; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump routes" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump check" -ge 1' -F
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" snapshot' -l 'snapshot' -d 'The internal snapshot of a qcow2 DUMP to read, by ID or name (HMP `info snapshots`, `qemu-img snapshot -l`). Default: the only one with a VM state.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" regs' -l 'regs' -d 'Register state file (JSON: what `itsdump regs --format json` writes; - reads standard input). ELF cores, kdump files and raw images hold guest RAM only: GITS_BASER, GITS_TYPER and the redistributor registers live in the ITS and must come from here, from the register flags (`itsdump help registers`), --vmlinux, or a migration stream.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" regs-from' -l 'regs-from' -d 'Take the registers from this migration stream (its arm_gicv3_its and arm_gicv3 sections) while the RAM comes from DUMP, e.g. an ELF core of the same stop.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check"' -l 'ram-block' -d 'Map a migration stream\'s RAM block at a guest-physical address, e.g. ram0@0x40000000. Default: mach-virt.ram (or a virt machine\'s only RAM block) at 0x40000000, pvtime at 0x90a0000; other blocks are listed by info but not mapped. Repeatable.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" vmlinux' -l 'vmlinux' -d 'The guest kernel\'s debug vmlinux (DWARF): the driver\'s records give the registers when no other source does, and `driver` / `diff --expected guest-kernel` read them.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" btf' -l 'btf' -d 'A BTF file of the guest kernel (a copy of its /sys/kernel/btf/vmlinux), for a dump whose in-memory .BTF is missing or damaged: the zero-configuration path then reads types from it.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" vmcoreinfo' -l 'vmcoreinfo' -d 'The guest\'s VMCOREINFO text, when the dump carries no VMCOREINFO note and the scan of guest RAM finds none.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" abi' -l 'abi' -d 'Table entry format: kvm (KVM\'s ITS table ABI rev 0) or qemu (QEMU\'s emulated ITS). Default: from GITS_TYPER.ITT_entry_size, else GITS_IIDR.' -rfka 'kvm qemu'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" f format' -s 'f' -l 'format' -d 'Output format: text (aligned, for people), json (stable, for scripts; schemas in Documentation/schema) or dot (Graphviz; routes only).' -rfka 'text json dot'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" o output-file' -s 'o' -l 'output-file' -d 'Write the output to FILE instead of standard output (- is standard output): whole or not at all, never over an input.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" q quiet' -s 'q' -l 'quiet' -d 'Text output without the input lines, register tables and freshness lines.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check"' -l 'device' -d 'Only this DeviceID (hex 0x… or decimal; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check"' -l 'bdf' -d 'Only this PCI function, 0000:00:02.0 or 00:02.0 (repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check"' -l 'vcpu' -d 'Only routes to this vCPU (a verdict: before or after; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check"' -l 'lpi' -d 'Only this LPI (INTID ≥ 8192; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check"' -l 'irq' -d 'Only this Linux irq (from the guest kernel: --vmlinux, or zero configuration; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" rules' -l 'rules' -d 'List the rules (id, severity, source, what the snapshot shows) and exit.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump diff" -ge 1' -F
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" regs-a' -l 'regs-a' -d 'Register state file for A.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" regs-b' -l 'regs-b' -d 'Register state file for B.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" regs' -l 'regs' -d 'Register state file for both sides (or the one DUMP).' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" regs-from' -l 'regs-from' -d 'Take the registers of both sides from this migration stream (the RAM comes from each DUMP).' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" expected' -l 'expected' -d 'The expected view: vgic-state, vgic-its-state@…, route JSON, or guest-kernel (with --vmlinux); - reads standard input.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" ignore' -l 'ignore' -d 'Fields that legitimately change, comma-separated: lpi,icid,vcpu,enabled,priority,pending.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" abi' -l 'abi' -d 'Table entry format for both sides: kvm or qemu.' -rfka 'kvm qemu'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff"' -l 'ram-block' -d 'Map a migration stream\'s RAM block, e.g. ram0@0x40000000.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" snapshot' -l 'snapshot' -d 'The internal snapshot to read from a qcow2 DUMP, by ID or name.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" vmlinux' -l 'vmlinux' -d 'The guest kernel\'s debug vmlinux: gives the registers of a side that has no other source, and is what --expected guest-kernel compares with.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" vmcoreinfo' -l 'vmcoreinfo' -d 'The guest\'s VMCOREINFO text, if the dump has none.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" btf' -l 'btf' -d 'A BTF file of the guest kernel (its /sys/kernel/btf/vmlinux), when the dump\'s in-memory .BTF is missing or damaged.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff"' -l 'debugfs-a' -d 'KVM\'s debugfs of A (vgic-state, or vgic-its-state@<base> on Linux ≥ 6.16), read when A was taken: what KVM held then, as evidence in the verdicts. Repeatable.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff"' -l 'debugfs-b' -d 'KVM\'s debugfs of B: what KVM holds at B, joined into the verdicts like the guest driver\'s records (a route it holds that B\'s tables lack is lost). Repeatable.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" f format' -s 'f' -l 'format' -d 'Output format: text (aligned, for people), json (stable, for scripts; schemas in Documentation/schema) or dot (Graphviz; routes only).' -rfka 'text json dot'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" o output-file' -s 'o' -l 'output-file' -d 'Write the output to FILE instead of standard output (- is standard output): whole or not at all, never over an input.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" q quiet' -s 'q' -l 'quiet' -d 'Text output without the input lines, register tables and freshness lines.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff"' -l 'device' -d 'Only this DeviceID (hex 0x… or decimal; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff"' -l 'bdf' -d 'Only this PCI function, 0000:00:02.0 or 00:02.0 (repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff"' -l 'vcpu' -d 'Only routes to this vCPU (a verdict: before or after; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff"' -l 'lpi' -d 'Only this LPI (INTID ≥ 8192; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff"' -l 'irq' -d 'Only this Linux irq (from the guest kernel: --vmlinux, or zero configuration; repeatable).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump diff" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump explain" -ge 1' -F
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" snapshot' -l 'snapshot' -d 'The internal snapshot of a qcow2 DUMP to read, by ID or name (HMP `info snapshots`, `qemu-img snapshot -l`). Default: the only one with a VM state.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" regs' -l 'regs' -d 'Register state file (JSON: what `itsdump regs --format json` writes; - reads standard input). ELF cores, kdump files and raw images hold guest RAM only: GITS_BASER, GITS_TYPER and the redistributor registers live in the ITS and must come from here, from the register flags (`itsdump help registers`), --vmlinux, or a migration stream.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" regs-from' -l 'regs-from' -d 'Take the registers from this migration stream (its arm_gicv3_its and arm_gicv3 sections) while the RAM comes from DUMP, e.g. an ELF core of the same stop.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain"' -l 'ram-block' -d 'Map a migration stream\'s RAM block at a guest-physical address, e.g. ram0@0x40000000. Default: mach-virt.ram (or a virt machine\'s only RAM block) at 0x40000000, pvtime at 0x90a0000; other blocks are listed by info but not mapped. Repeatable.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" vmlinux' -l 'vmlinux' -d 'The guest kernel\'s debug vmlinux (DWARF): the driver\'s records give the registers when no other source does, and `driver` / `diff --expected guest-kernel` read them.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" btf' -l 'btf' -d 'A BTF file of the guest kernel (a copy of its /sys/kernel/btf/vmlinux), for a dump whose in-memory .BTF is missing or damaged: the zero-configuration path then reads types from it.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" vmcoreinfo' -l 'vmcoreinfo' -d 'The guest\'s VMCOREINFO text, when the dump carries no VMCOREINFO note and the scan of guest RAM finds none.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" abi' -l 'abi' -d 'Table entry format: kvm (KVM\'s ITS table ABI rev 0) or qemu (QEMU\'s emulated ITS). Default: from GITS_TYPER.ITT_entry_size, else GITS_IIDR.' -rfka 'kvm qemu'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" f format' -s 'f' -l 'format' -d 'Output format: text (aligned, for people), json (stable, for scripts; schemas in Documentation/schema) or dot (Graphviz; routes only).' -rfka 'text json dot'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" o output-file' -s 'o' -l 'output-file' -d 'Write the output to FILE instead of standard output (- is standard output): whole or not at all, never over an input.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" q quiet' -s 'q' -l 'quiet' -d 'Text output without the input lines, register tables and freshness lines.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" device' -l 'device' -d 'DeviceID; without --event, every event of the device.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" event' -l 'event' -d 'EventID (with --device).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" lpi' -l 'lpi' -d 'Explain every entry that maps this LPI instead.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" bdf' -l 'bdf' -d 'Explain every event of the device at this PCI address instead (0000:00:02.0 or 00:02.0).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" irq' -l 'irq' -d 'Explain the event behind this Linux irq instead (from the guest kernel: --vmlinux or zero configuration).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump explain" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump queue" -ge 1' -F
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" snapshot' -l 'snapshot' -d 'The internal snapshot of a qcow2 DUMP to read, by ID or name (HMP `info snapshots`, `qemu-img snapshot -l`). Default: the only one with a VM state.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" regs' -l 'regs' -d 'Register state file (JSON: what `itsdump regs --format json` writes; - reads standard input). ELF cores, kdump files and raw images hold guest RAM only: GITS_BASER, GITS_TYPER and the redistributor registers live in the ITS and must come from here, from the register flags (`itsdump help registers`), --vmlinux, or a migration stream.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" regs-from' -l 'regs-from' -d 'Take the registers from this migration stream (its arm_gicv3_its and arm_gicv3 sections) while the RAM comes from DUMP, e.g. an ELF core of the same stop.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue"' -l 'ram-block' -d 'Map a migration stream\'s RAM block at a guest-physical address, e.g. ram0@0x40000000. Default: mach-virt.ram (or a virt machine\'s only RAM block) at 0x40000000, pvtime at 0x90a0000; other blocks are listed by info but not mapped. Repeatable.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" vmlinux' -l 'vmlinux' -d 'The guest kernel\'s debug vmlinux (DWARF): the driver\'s records give the registers when no other source does, and `driver` / `diff --expected guest-kernel` read them.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" btf' -l 'btf' -d 'A BTF file of the guest kernel (a copy of its /sys/kernel/btf/vmlinux), for a dump whose in-memory .BTF is missing or damaged: the zero-configuration path then reads types from it.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" vmcoreinfo' -l 'vmcoreinfo' -d 'The guest\'s VMCOREINFO text, when the dump carries no VMCOREINFO note and the scan of guest RAM finds none.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" abi' -l 'abi' -d 'Table entry format: kvm (KVM\'s ITS table ABI rev 0) or qemu (QEMU\'s emulated ITS). Default: from GITS_TYPER.ITT_entry_size, else GITS_IIDR.' -rfka 'kvm qemu'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" f format' -s 'f' -l 'format' -d 'Output format: text (aligned, for people), json (stable, for scripts; schemas in Documentation/schema) or dot (Graphviz; routes only).' -rfka 'text json dot'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" o output-file' -s 'o' -l 'output-file' -d 'Write the output to FILE instead of standard output (- is standard output): whole or not at all, never over an input.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" q quiet' -s 'q' -l 'quiet' -d 'Text output without the input lines, register tables and freshness lines.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" last' -l 'last' -d 'How many of the most recent processed commands to show.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump queue" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump driver" -ge 1' -F
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" snapshot' -l 'snapshot' -d 'The internal snapshot of a qcow2 DUMP to read, by ID or name (HMP `info snapshots`, `qemu-img snapshot -l`). Default: the only one with a VM state.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" regs' -l 'regs' -d 'Register state file (JSON: what `itsdump regs --format json` writes; - reads standard input). ELF cores, kdump files and raw images hold guest RAM only: GITS_BASER, GITS_TYPER and the redistributor registers live in the ITS and must come from here, from the register flags (`itsdump help registers`), --vmlinux, or a migration stream.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" regs-from' -l 'regs-from' -d 'Take the registers from this migration stream (its arm_gicv3_its and arm_gicv3 sections) while the RAM comes from DUMP, e.g. an ELF core of the same stop.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver"' -l 'ram-block' -d 'Map a migration stream\'s RAM block at a guest-physical address, e.g. ram0@0x40000000. Default: mach-virt.ram (or a virt machine\'s only RAM block) at 0x40000000, pvtime at 0x90a0000; other blocks are listed by info but not mapped. Repeatable.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" vmlinux' -l 'vmlinux' -d 'The guest kernel\'s debug vmlinux (DWARF): the driver\'s records give the registers when no other source does, and `driver` / `diff --expected guest-kernel` read them.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" btf' -l 'btf' -d 'A BTF file of the guest kernel (a copy of its /sys/kernel/btf/vmlinux), for a dump whose in-memory .BTF is missing or damaged: the zero-configuration path then reads types from it.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" vmcoreinfo' -l 'vmcoreinfo' -d 'The guest\'s VMCOREINFO text, when the dump carries no VMCOREINFO note and the scan of guest RAM finds none.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" abi' -l 'abi' -d 'Table entry format: kvm (KVM\'s ITS table ABI rev 0) or qemu (QEMU\'s emulated ITS). Default: from GITS_TYPER.ITT_entry_size, else GITS_IIDR.' -rfka 'kvm qemu'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" f format' -s 'f' -l 'format' -d 'Output format: text (aligned, for people), json (stable, for scripts; schemas in Documentation/schema) or dot (Graphviz; routes only).' -rfka 'text json dot'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" o output-file' -s 'o' -l 'output-file' -d 'Write the output to FILE instead of standard output (- is standard output): whole or not at all, never over an input.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" q quiet' -s 'q' -l 'quiet' -d 'Text output without the input lines, register tables and freshness lines.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump driver" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_positional "itsdump extract" -ge 1' -F
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" snapshot' -l 'snapshot' -d 'The internal snapshot of a qcow2 DUMP to read, by ID or name (HMP `info snapshots`, `qemu-img snapshot -l`). Default: the only one with a VM state.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" regs' -l 'regs' -d 'Register state file (JSON: what `itsdump regs --format json` writes; - reads standard input). ELF cores, kdump files and raw images hold guest RAM only: GITS_BASER, GITS_TYPER and the redistributor registers live in the ITS and must come from here, from the register flags (`itsdump help registers`), --vmlinux, or a migration stream.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" regs-from' -l 'regs-from' -d 'Take the registers from this migration stream (its arm_gicv3_its and arm_gicv3 sections) while the RAM comes from DUMP, e.g. an ELF core of the same stop.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract"' -l 'ram-block' -d 'Map a migration stream\'s RAM block at a guest-physical address, e.g. ram0@0x40000000. Default: mach-virt.ram (or a virt machine\'s only RAM block) at 0x40000000, pvtime at 0x90a0000; other blocks are listed by info but not mapped. Repeatable.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" vmlinux' -l 'vmlinux' -d 'The guest kernel\'s debug vmlinux (DWARF): the driver\'s records give the registers when no other source does, and `driver` / `diff --expected guest-kernel` read them.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" btf' -l 'btf' -d 'A BTF file of the guest kernel (a copy of its /sys/kernel/btf/vmlinux), for a dump whose in-memory .BTF is missing or damaged: the zero-configuration path then reads types from it.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" vmcoreinfo' -l 'vmcoreinfo' -d 'The guest\'s VMCOREINFO text, when the dump carries no VMCOREINFO note and the scan of guest RAM finds none.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" abi' -l 'abi' -d 'Table entry format: kvm (KVM\'s ITS table ABI rev 0) or qemu (QEMU\'s emulated ITS). Default: from GITS_TYPER.ITT_entry_size, else GITS_IIDR.' -rfka 'kvm qemu'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" o output-file' -s 'o' -l 'output-file' -d 'Where to write the extract (an ELF core); - writes it to standard output (not a terminal) and the summary to standard error.' -rF
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" f format' -s 'f' -l 'format' -d 'Format of the summary: text, or json (Documentation/schema/extract.schema.json).' -rfka 'text json'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" q quiet' -s 'q' -l 'quiet' -d 'No summary.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump extract" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers"' -l 'baser' -d 'GITS_BASER<N> of ITS 0, e.g. 0=0xf9070000425a0600. A BASER says where a table is (Physical_Address), how big (Size, Page_Size), whether it is two-level (Indirect) and what it holds (Type 1 devices, 4 collections). Repeatable; overrides --regs.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers" typer' -l 'typer' -d 'GITS_TYPER of ITS 0: ITT entry size, DeviceID/EventID bits, PTA.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers" iidr' -l 'iidr' -d 'GITS_IIDR of ITS 0 (0x4b00043b: KVM; 0x43b: QEMU\'s emulated ITS).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers" ctlr' -l 'ctlr' -d 'GITS_CTLR of ITS 0.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers" cbaser' -l 'cbaser' -d 'GITS_CBASER of ITS 0 (command queue).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers" cwriter' -l 'cwriter' -d 'GITS_CWRITER of ITS 0.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers" creadr' -l 'creadr' -d 'GITS_CREADR of ITS 0.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers" its-base' -l 'its-base' -d 'Guest-physical base of ITS 0 (the virt machine\'s is 0x8080000).' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers" propbaser' -l 'propbaser' -d 'GICR_PROPBASER (LPI property table: enable bit and priority of each LPI) for every CPU.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers"' -l 'pendbaser' -d 'GICR_PENDBASER of one CPU (its LPI pending table), e.g. 1=0x425e0780. Repeatable.' -rfka ''
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers" version' -l 'version' -d 'Show the version.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump registers" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'itsdump' -n '__itsdump_should_offer_completions_for_flags_or_options "itsdump help" version' -l 'version' -d 'Show the version.'

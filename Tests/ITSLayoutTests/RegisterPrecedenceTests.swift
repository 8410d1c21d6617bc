import Testing
@testable import ITSLayout

/// `RegisterState.resolve`, the one rule of precedence between register sources.
@Suite struct RegisterPrecedenceTests {
    func state(_ kind: Provenance.Kind, baser0: UInt64?, typer: UInt64?, cpu0Pend: UInt64?) -> RegisterState {
        var its = ITSRegisterState()
        let p = Provenance(kind, "test")
        if let baser0 { its[.baser(0)] = Sourced(baser0, p) }
        if let typer { its[.typer] = Sourced(typer, p) }
        var rd = RedistributorState(cpu: 0)
        if let cpu0Pend { rd[.pendbaser] = Sourced(cpu0Pend, p) }
        return RegisterState(its: [its], redistributors: cpu0Pend == nil ? [] : [rd])
    }

    @Test func flagsOverFileOverCarriedOverDriverFieldByField() throws {
        let carried = state(.migrationStream, baser0: 0x1000, typer: 0x1, cpu0Pend: 0x10000)
        let file = state(.stateFile, baser0: 0x2000, typer: nil, cpu0Pend: nil)
        let flags = state(.flag, baser0: nil, typer: 0x3, cpu0Pend: nil)
        var asked = false
        let r = RegisterState.resolve(carried: carried, stateFile: file, flags: flags) {
            asked = true
            return state(.guestKernel, baser0: 0x4000, typer: 0x4, cpu0Pend: 0x40000)
        }
        #expect(!asked, "the driver is read only when no source gives a BASER")
        #expect(r.its[0][.baser(0)]?.value == 0x2000 && r.its[0][.baser(0)]?.provenance.kind == .stateFile)
        #expect(r.its[0][.typer]?.value == 0x3 && r.its[0][.typer]?.provenance.kind == .flag)
        #expect(r.redistributors.first?[.pendbaser]?.provenance.kind == .migrationStream)
    }

    @Test func theDriverFillsWhatNoOtherSourceGives() throws {
        let flags = state(.flag, baser0: nil, typer: 0x3, cpu0Pend: nil)
        let r = RegisterState.resolve(carried: nil, stateFile: nil, flags: flags) {
            state(.guestKernel, baser0: 0x4000, typer: 0x4, cpu0Pend: 0x40000)
        }
        #expect(r.its[0][.baser(0)]?.provenance.kind == .guestKernel)
        #expect(r.its[0][.typer]?.value == 0x3, "a flag still wins over the driver")
        #expect(r.redistributors.first?[.pendbaser]?.value == 0x40000)
    }
}

import DriverTarget
import Foundation

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    // ITSDUMP_FUZZ_SEED_CORE=core.elf ITSDUMP_FUZZ_SEED_OUT=FILE: write a seed cut from a real
    // walk and exit (run.sh, when given FUZZ_DRIVER_CORE).
    let env = ProcessInfo.processInfo.environment
    if let core = env["ITSDUMP_FUZZ_SEED_CORE"], let out = env["ITSDUMP_FUZZ_SEED_OUT"] {
        do { try DriverTarget.seed(core: core, to: out, tables: env["ITSDUMP_FUZZ_SEED_TABLES"] != nil) } catch {
            FileHandle.standardError.write(Data("fuzz-driver: seed from \(core): \(error)\n".utf8))
            exit(2)
        }
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    DriverTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

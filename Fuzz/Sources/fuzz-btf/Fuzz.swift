import DriverTarget

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    KernelTablesTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

// swift-tools-version: 6.2
// libFuzzer harnesses for itsdump's parsers and walkers. Built and run by run.sh:
// swift build -c release --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address (the -Xswiftc form: SwiftPM passes two --sanitize
// values as two -sanitize= options and the compiler keeps only the last, leaving no coverage).
import Foundation
import PackageDescription

/// A path dependency's identity is its folder's name, which is wherever the repository was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let targets = ["fuzz-elf", "fuzz-raw", "fuzz-stream", "fuzz-kdump", "fuzz-regs", "fuzz-debugfs", "fuzz-walker", "fuzz-qcow2"]

let package = Package(
    name: "ItsdumpFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzTargets", dependencies: [
            .product(name: "ITSLayout", package: root),
            .product(name: "ITSAnalysis", package: root),
            .product(name: "CoreDumpReader", package: root),
            .product(name: "FuzzSupport", package: root),
        ]),
        // The guest-kernel walk links libdw through KernelDWARF: a target of its own, so that
        // the other harnesses stay free of it.
        .target(name: "DriverTarget", dependencies: [
            .product(name: "ITSLayout", package: root),
            .product(name: "CoreDumpReader", package: root),
            .product(name: "GuestKernel", package: root),
            .product(name: "KernelDWARF", package: root),
            .product(name: "FuzzSupport", package: root),
        ]),
        .executableTarget(name: "fuzz-driver", dependencies: ["DriverTarget"],
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        // BTF and kallsyms (issue 20): GuestKernel's readers, through DriverTarget's module.
        .executableTarget(name: "fuzz-btf", dependencies: ["DriverTarget"],
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ] + targets.map { name in
        .executableTarget(name: name, dependencies: ["FuzzTargets"],
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])])
    },
    swiftLanguageModes: [.v6]
)

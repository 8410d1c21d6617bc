// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "itsdump",
    products: [
        .executable(name: "itsdump", targets: ["itsdump"]),
        .library(name: "ITSLayout", targets: ["ITSLayout"]),
        .library(name: "CoreDumpReader", targets: ["CoreDumpReader"]),
        .library(name: "ITSAnalysis", targets: ["ITSAnalysis"]),
        .library(name: "GuestKernel", targets: ["GuestKernel"]),
        .library(name: "KernelDWARF", targets: ["KernelDWARF"]),
        .library(name: "TextFormats", targets: ["TextFormats"]),
        // Decoders of fuzz inputs, shared by the fuzz package and the reproducer tests; not
        // linked into the tool.
        .library(name: "FuzzSupport", targets: ["FuzzSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // Debian: libelf-dev. ELF cores are parsed through libelf (input-formats.md §1).
        .systemLibrary(name: "CLibElf", pkgConfig: "libelf",
                       providers: [.apt(["libelf-dev"])]),
        // Debian: libdw-dev. The guest-kernel (DWARF) reader builds on it.
        .systemLibrary(name: "CLibDW", pkgConfig: "libdw",
                       providers: [.apt(["libdw-dev"])]),
        // kdump page compressions (input-formats.md §2.7): Debian's zlib1g-dev, liblzo2-dev,
        // libsnappy-dev, libzstd-dev.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLZO", providers: [.apt(["liblzo2-dev"])]),
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // What the ITS architecture, KVM's table ABI and QEMU's ITS define: value types, bit
        // layouts, walkers, the routing graph, the command-queue decoder. No I/O, no C.
        .target(
            name: "ITSLayout",
            swiftSettings: [.strictMemorySafety()]
        ),
        // The text formats itsdump reads and writes: a strict JSON reader and the writer of
        // stable (sorted-key) documents (state files, route JSON, a stream's VM description,
        // every JSON document), and aligned text tables.
        .target(name: "TextFormats", swiftSettings: [.strictMemorySafety()]),
        // What the guest kernel believes: VMCOREINFO, its address space, the type-source
        // protocol and the ITS driver's records. Pure Swift; type sources plug in below it.
        .target(
            name: "GuestKernel",
            dependencies: ["ITSLayout"],
            swiftSettings: [.strictMemorySafety()]
        ),
        // The guest kernel's types and symbols from its debug info (DWARF through libdw).
        .target(
            name: "KernelDWARF",
            dependencies: ["GuestKernel", "ITSLayout", "CLibDW", "CLibElf"]
        ),
        // What itsdump concludes: Analysis.run (walk, graph, queue, freshness, checks), route and
        // register diffs, the expected-state readers and comparisons.
        .target(
            name: "ITSAnalysis",
            dependencies: ["ITSLayout", "GuestKernel", "TextFormats"],
            swiftSettings: [.strictMemorySafety()]
        ),
        // Linux CPU affinity for the readers' helper threads (GNU extensions Swift's Glibc
        // module does not export): a few lines of C, no library.
        .target(name: "CSched"),
        // Files -> guest-physical memory, notes and registers: one file per dump format.
        .target(
            name: "CoreDumpReader",
            dependencies: ["ITSLayout", "TextFormats", "CLibElf", "CZlib", "CLZO", "CSnappy", "CZstd", "CSched",
                           .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(
            name: "FuzzSupport",
            dependencies: ["ITSLayout", "ITSAnalysis", "GuestKernel"],
            swiftSettings: [.strictMemorySafety()]
        ),
        .executableTarget(
            name: "itsdump",
            dependencies: [
                "ITSLayout", "ITSAnalysis", "CoreDumpReader", "GuestKernel", "KernelDWARF", "TextFormats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Start-up (issue 22, Benchmarks/README.md "startup.sh"): the release binary on Linux is
            // one static executable (`-static-executable`): no dynamic loader mapping 24 libraries
            // and binding their symbols, and none of the runtime's metadata to relocate. It is not
            // position-independent: `-static-pie` would keep ASLR for the image, but glibc's
            // static-PIE start-up asserts on the DT_RUNPATH that SwiftPM always adds ($ORIGIN,
            // unless every build passes --disable-local-rpath). The static libdw also needs libbz2
            // and liblzma, and FoundationEssentials (which swift-argument-parser imports) its two
            // helper libraries. Unsafe flags are allowed: they are on the executable target only,
            // so the library products that other packages depend on (and Fuzz/) carry none. Debug
            // builds (the tests) stay dynamic.
            // ITSDUMP_DYNAMIC=1 in the environment of `swift build -c release` builds the usual
            // dynamically linked, position-independent executable instead (full ASLR, for a
            // packager whose policy wants PIE; start-up then costs ~4 ms more).
            linkerSettings: Context.environment["ITSDUMP_DYNAMIC"] == "1" ? [] : [
                .unsafeFlags(["-static-executable",
                              "-l_FoundationCollections", "-l_FoundationCShims", "-lbz2", "-llzma"],
                             .when(platforms: [.linux], configuration: .release)),
            ]
        ),
        .testTarget(name: "ITSLayoutTests",
                    dependencies: ["ITSLayout", "ITSAnalysis", "GuestKernel", "TextFormats", "FuzzSupport"],
                    resources: [.copy("Reproducers")]),
        .testTarget(name: "CoreDumpReaderTests",
                    dependencies: ["CoreDumpReader", "ITSLayout", "TextFormats", "GuestKernel", "CZlib", "CLZO", "CSnappy", "CZstd"]),
        .testTarget(
            name: "itsdumpTests",
            dependencies: ["CoreDumpReader", "ITSLayout", "ITSAnalysis", "GuestKernel", "KernelDWARF", "TextFormats", "FuzzSupport"],
            resources: [.copy("Golden"), .copy("DWARF"), .copy("Reproducers")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

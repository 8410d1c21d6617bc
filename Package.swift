// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "itsdump",
    products: [
        .executable(name: "itsdump", targets: ["itsdump"]),
        .library(name: "ITSLayout", targets: ["ITSLayout"]),
        .library(name: "CoreDumpReader", targets: ["CoreDumpReader"]),
        .library(name: "GuestKernel", targets: ["GuestKernel"]),
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
        // Pure decoding: no file I/O, no C libraries.
        .target(
            name: "ITSLayout",
            swiftSettings: [.strictMemorySafety()]
        ),
        .target(
            name: "CoreDumpReader",
            dependencies: ["ITSLayout", "CLibElf", "CZlib", "CLZO", "CSnappy", "CZstd",
                           .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The guest kernel's types and symbols from its debug info (DWARF through libdw).
        .target(
            name: "GuestKernel",
            dependencies: ["ITSLayout", "CoreDumpReader", "CLibDW", "CLibElf"]
        ),
        .executableTarget(
            name: "itsdump",
            dependencies: [
                "ITSLayout", "CoreDumpReader", "GuestKernel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ITSLayoutTests", dependencies: ["ITSLayout"], resources: [.copy("Reproducers")]),
        .testTarget(name: "CoreDumpReaderTests",
                    dependencies: ["CoreDumpReader", "ITSLayout", "CZlib", "CLZO", "CSnappy", "CZstd"]),
        .testTarget(
            name: "itsdumpTests",
            dependencies: ["CoreDumpReader", "ITSLayout", "GuestKernel"],
            resources: [.copy("Golden"), .copy("DWARF"), .copy("Reproducers")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

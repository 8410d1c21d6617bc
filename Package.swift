// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "itsdump",
    products: [
        .executable(name: "itsdump", targets: ["itsdump"]),
        .library(name: "ITSLayout", targets: ["ITSLayout"]),
        .library(name: "CoreDumpReader", targets: ["CoreDumpReader"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Debian: libelf-dev. ELF cores are parsed through libelf (input-formats.md §1).
        .systemLibrary(name: "CLibElf", pkgConfig: "libelf",
                       providers: [.apt(["libelf-dev"])]),
        // Debian: libdw-dev. The guest-kernel (DWARF) reader builds on it.
        .systemLibrary(name: "CLibDW", pkgConfig: "libdw",
                       providers: [.apt(["libdw-dev"])]),
        // Pure decoding: no file I/O, no C libraries.
        .target(
            name: "ITSLayout",
            swiftSettings: [.strictMemorySafety()]
        ),
        .target(
            name: "CoreDumpReader",
            dependencies: ["ITSLayout", "CLibElf"]
        ),
        .executableTarget(
            name: "itsdump",
            dependencies: [
                "ITSLayout", "CoreDumpReader",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ITSLayoutTests", dependencies: ["ITSLayout"]),
        .testTarget(name: "CoreDumpReaderTests", dependencies: ["CoreDumpReader", "ITSLayout"]),
        .testTarget(
            name: "itsdumpTests",
            dependencies: ["CoreDumpReader", "ITSLayout"],
            resources: [.copy("Golden")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// swift-tools-version: 6.1
import PackageDescription

/// Settings every target shares: Swift 6 language mode (the tools version's default) and the
/// upcoming features the house style asks for (`../shared/style.md`).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "samverkan",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "samverkand", targets: ["samverkand"]),
        .executable(name: "samverkanctl", targets: ["samverkanctl"]),
        .library(name: "SamverkanCore", targets: ["SamverkanCore"]),
        .library(name: "SamverkanConfig", targets: ["SamverkanConfig"]),
        .library(name: "SamverkanDaemon", targets: ["SamverkanDaemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        // libsystemd through pkg-config; the shim adds what Glibc's module leaves out.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .target(
            name: "Systemd",
            dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // Domain, calendar, recurrence and the planner: Foundation only, no clock, no I/O.
        .target(name: "SamverkanCore", swiftSettings: strictSettings),
        // sqlite3_config, which Swift cannot call (variadic); the same libsqlite3 as GRDB's.
        .systemLibrary(name: "CSQLiteConfig", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "SamverkanConfig",
            dependencies: [
                "SamverkanCore", .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strictSettings
        ),
        // The durable store: deadlines, notices and their states, deliveries, cases, audit (SQLite via GRDB).
        .target(
            name: "SamverkanStore",
            dependencies: [
                "SamverkanCore", .product(name: "GRDB", package: "GRDB.swift"),
                // sqlite3_bind_* for the reconcile's inserts and updates (RawStatement.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"), "CSQLiteConfig",
            ],
            swiftSettings: strictSettings),
        // Where notices go: the sink protocol and its implementations.
        .target(
            name: "SamverkanSinks",
            dependencies: [
                "SamverkanCore", "SamverkanConfig", .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings),
        // The synchronous socket client that samverkanctl and the tests use.
        .target(name: "SamverkanClient", dependencies: ["SamverkanCore"], swiftSettings: strictSettings),
        .target(
            name: "SamverkanControl",
            dependencies: [
                "SamverkanCore",
                "CSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SamverkanDaemon",
            dependencies: [
                "SamverkanCore", "SamverkanConfig", "SamverkanControl", "SamverkanSinks", "SamverkanStore", "Systemd",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "samverkand",
            dependencies: [
                "SamverkanDaemon", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        .executableTarget(
            name: "samverkanctl",
            dependencies: [
                "SamverkanCore", "SamverkanConfig", "SamverkanClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // Shared by the test targets: running programs without blocking the thread pools.
        .target(name: "SamverkanTestSupport", path: "Tests/Support", swiftSettings: strictSettings),
        .testTarget(
            name: "SamverkanCoreTests", dependencies: ["SamverkanCore", "SamverkanTestSupport"],
            exclude: ["Oracles"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SamverkanConfigTests",
            dependencies: ["SamverkanConfig", "SamverkanCore"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SamverkanStoreTests",
            dependencies: ["SamverkanStore", "SamverkanCore", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(
            name: "SamverkanSinksTests",
            dependencies: ["SamverkanSinks", "SamverkanConfig", "SamverkanCore", "SamverkanTestSupport"],
            exclude: ["Golden", "Servers"], swiftSettings: strictSettings),
        .testTarget(
            name: "SamverkanDaemonTests",
            dependencies: [
                "SamverkanDaemon", "SamverkanStore", "SamverkanConfig", "SamverkanCore", "Systemd",
                "SamverkanTestSupport",
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["SamverkanClient", "SamverkanCore", "SamverkanTestSupport"],
            exclude: ["Support/with-journald.sh", "Golden"],
            swiftSettings: strictSettings
        ),
    ]
)

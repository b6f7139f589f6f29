// swift-tools-version: 6.1
import PackageDescription

/// The planner benchmarks of issue 5, kept in their own package so that the product and its
/// test suite never build ordo-one/benchmark. Run from this directory:
///
///     swift package benchmark                      # every benchmark, release build
///     swift package benchmark --filter 'Plan.*'    # only the planner
///
/// The config-loading benchmark reads a directory made by `scripts/bench/gen_workload.py`;
/// it generates one itself (into the system temp directory) when `SAMVERKAN_BENCH_CONFIG`
/// does not name one.
let package = Package(
    name: "samverkan-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "samverkan", path: ".."),
        // The MallocInterposer trait gives the malloc metrics without jemalloc.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // The control socket's load generator talks HTTP/1.1 over the Unix socket with NIO.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "PlannerBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SamverkanCore", package: "samverkan"),
                .product(name: "SamverkanConfig", package: "samverkan"),
            ],
            path: "Benchmarks/PlannerBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
        // `scripts/bench/socket-load.sh` runs it against the real daemon (issue 8).
        .executableTarget(
            name: "SocketLoad",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/SocketLoad"
        ),
    ]
)

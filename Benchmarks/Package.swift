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
        )
    ]
)

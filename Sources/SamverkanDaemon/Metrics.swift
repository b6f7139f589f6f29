import Foundation
import Synchronization

/// Counters and latency histograms that only grow while the daemon runs, for `GET /metrics`.
/// Gauges (deadlines by state, next due, generation) are read from the runtime when scraped.
final class DeliveryMetrics: Sendable {
    /// Upper bounds of the delivery latency buckets, in seconds.
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    struct Histogram: Sendable {
        var counts = [Int](repeating: 0, count: DeliveryMetrics.buckets.count)
        var sum = 0.0
        var count = 0
    }

    private struct State {
        var sent: [String: Int] = [:]
        var failed: [String: Int] = [:]
        var latency: [String: Histogram] = [:]
        var reloads = 0
        var refusedReloads = 0
    }

    private let state = Mutex(State())

    func delivered(sink: String, seconds: Double) {
        state.withLock { state in
            state.sent[sink, default: 0] += 1
            var histogram = state.latency[sink] ?? Histogram()
            for (index, bound) in Self.buckets.enumerated() where seconds <= bound { histogram.counts[index] += 1 }
            histogram.sum += seconds
            histogram.count += 1
            state.latency[sink] = histogram
        }
    }

    func failed(sink: String) { state.withLock { $0.failed[sink, default: 0] += 1 } }

    func reloaded(success: Bool) {
        state.withLock { state in
            if success { state.reloads += 1 } else { state.refusedReloads += 1 }
        }
    }

    struct Snapshot: Sendable {
        var sent: [String: Int]
        var failed: [String: Int]
        var latency: [String: Histogram]
        var reloads: Int
        var refusedReloads: Int
    }

    var snapshot: Snapshot {
        state.withLock {
            Snapshot(
                sent: $0.sent, failed: $0.failed, latency: $0.latency, reloads: $0.reloads,
                refusedReloads: $0.refusedReloads)
        }
    }
}

/// The Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE` for every
/// family, counters ending in `_total`, base units (seconds) in names.
struct PrometheusText {
    private(set) var text = ""

    mutating func family(
        _ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]
    ) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for sample in samples { text += line(name, sample.labels, sample.value) }
    }

    mutating func histogram(
        _ name: String, _ help: String, _ series: [String: DeliveryMetrics.Histogram], label: String
    ) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (key, histogram) in series.sorted(by: { $0.key < $1.key }) {
            for (index, bound) in DeliveryMetrics.buckets.enumerated() {
                text += line(name + "_bucket", [(label, key), ("le", format(bound))], Double(histogram.counts[index]))
            }
            text += line(name + "_bucket", [(label, key), ("le", "+Inf")], Double(histogram.count))
            text += line(name + "_sum", [(label, key)], histogram.sum)
            text += line(name + "_count", [(label, key)], Double(histogram.count))
        }
    }

    private func line(_ name: String, _ labels: [(String, String)], _ value: Double) -> String {
        let labelText =
            labels.isEmpty
            ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
        return "\(name)\(labelText) \(format(value))\n"
    }

    private func format(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

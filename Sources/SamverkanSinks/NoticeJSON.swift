import Foundation

extension OutgoingNotice {
    /// The notice as one JSON object (snake_case keys, sorted, pretty-printed, a final line
    /// break): what the file sink's `json` format writes, the webhook posts and the command
    /// reads on its standard input. The same notice always gives the same bytes, so a
    /// signature over them is reproducible.
    func jsonBytes() throws(SinkError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else {
            throw SinkError(.permanent, "cannot encode notice \(id) as JSON")
        }
        return Array(data) + [0x0A]
    }
}

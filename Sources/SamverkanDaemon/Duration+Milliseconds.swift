extension Duration {
    /// "12.3 ms", for the debug lines that time the daemon's steps.
    var milliseconds: String {
        let value = Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
        return "\((value * 10).rounded() / 10) ms"
    }
}

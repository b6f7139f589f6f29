/// Runs a sendmail-compatible program (`msmtp`, postfix's or exim's `sendmail`) as
/// `PATH -t -i -f SENDER` with the message on standard input (a `ChildProcess`: no shell, its
/// output bounded, stopped at the time limit).
///
/// `-t` takes the recipients from `To:`, `-i` keeps a lone `.` line as text, and `-f` sets the
/// envelope sender the same way for every implementation. The program gets the daemon's
/// environment: implementations find their own config through it (`HOME`, `MSMTPRC`…).
struct Sendmail: Sendable {
    var path: String
    var timeout: Duration

    /// Runs the program; throws only when it cannot be started.
    func run(message: [UInt8], sender: String) async throws(SinkError) -> ChildProcess.Outcome {
        try await ChildProcess(path: path, arguments: [path, "-t", "-i", "-f", sender], timeout: timeout).run(
            input: message)
    }
}

import Foundation

/// A unique name for a scratch file or directory that a test writes into a config (a command
/// sink's argv, say): a UUID with its digits spelled as the letters g–p.
///
/// The config loader refuses any run of digits that reads as a personnummer, and a UUID's
/// digits now and then do (`…991231-3456…` across a dash): a test failed so in CI.
public func scratchName(_ prefix: String) -> String {
    let spelled = UUID().uuidString.lowercased().map { character -> Character in
        guard character.isASCII, let digit = character.wholeNumberValue else { return character }
        return Character(UnicodeScalar(UInt8(ascii: "g") + UInt8(digit)))
    }
    return prefix + "-" + String(spelled)
}

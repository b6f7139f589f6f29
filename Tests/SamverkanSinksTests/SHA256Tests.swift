import Foundation
import Testing

@testable import SamverkanSinks

/// SHA-256 and HMAC-SHA256 (the webhook signature) against published vectors, and against
/// Python's `hashlib`/`hmac` for every length around the block and padding boundaries.
@Suite("SHA-256 and HMAC-SHA256")
struct SHA256Tests {
    static func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }

    /// FIPS 180-4 examples (NIST CSRC "Example Algorithms", SHA-256).
    @Test(
        "NIST example vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
        ])
    func nist(_ message: String, _ digest: String) {
        #expect(SHA256.hex(SHA256.hash(Array(message.utf8))) == digest)
    }

    @Test("One million times 'a'")
    func million() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(
            SHA256.hex(SHA256.hash(message)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// RFC 4231 §4.2–4.8 (test case 5 is truncated to 128 bits).
    @Test(
        "RFC 4231 HMAC-SHA256 test cases",
        arguments: [
            (
                String(repeating: "0b", count: 20), Array("Hi There".utf8),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                "4a656665", Array("what do ya want for nothing?".utf8),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                String(repeating: "aa", count: 20), [UInt8](repeating: 0xdd, count: 50),
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
            ),
            (
                "0102030405060708090a0b0c0d0e0f10111213141516171819", [UInt8](repeating: 0xcd, count: 50),
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
            ),
            (
                String(repeating: "0c", count: 20), Array("Test With Truncation".utf8),
                "a3b6167473100ee06e0c796c2955552b"
            ),
            (
                String(repeating: "aa", count: 131),
                Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
            (
                String(repeating: "aa", count: 131),
                Array(
                    ("This is a test using a larger than block-size key and a larger than block-size data. The key "
                        + "needs to be hashed before being used by the HMAC algorithm.").utf8),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
            ),
        ])
    func rfc4231(_ key: String, _ data: [UInt8], _ mac: String) {
        let computed = SHA256.hex(SHA256.hmac(key: Self.bytes(hex: key), message: data))
        #expect(computed.prefix(mac.count) == mac)
    }

    /// Every message length from 0 to 200 bytes (the 55/56/64-byte padding edges, two and
    /// three blocks) and keys shorter than, as long as and longer than a block.
    @Test("Equals Python's hashlib and hmac for every length up to 200 bytes")
    func againstPython() async throws {
        let script = """
            import hashlib, hmac, json
            data = bytes((i * 31 + 7) & 0xff for i in range(200))
            keys = [bytes((i * 17 + 3) & 0xff for i in range(n)) for n in (0, 1, 20, 63, 64, 65, 131)]
            print(json.dumps({
                "hash": [hashlib.sha256(data[:n]).hexdigest() for n in range(201)],
                "hmac": [[hmac.new(k, data[:n], hashlib.sha256).hexdigest() for n in range(0, 201, 7)] for k in keys],
            }))
            """
        let (status, output) = try await MailTest.run(MailTest.python, ["-c", script])
        try #require(status == 0, "\(output)")
        struct Oracle: Decodable {
            var hash: [String]
            var hmac: [[String]]
        }
        let oracle = try JSONDecoder().decode(Oracle.self, from: Data(output.utf8))
        let data = (0..<200).map { UInt8(truncatingIfNeeded: $0 * 31 + 7) }
        for n in 0...200 {
            #expect(SHA256.hex(SHA256.hash(data.prefix(n))) == oracle.hash[n], "length \(n)")
        }
        for (index, keyLength) in [0, 1, 20, 63, 64, 65, 131].enumerated() {
            let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 * 17 + 3) }
            for (column, n) in stride(from: 0, through: 200, by: 7).enumerated() {
                #expect(
                    SHA256.hex(SHA256.hmac(key: key, message: data.prefix(n))) == oracle.hmac[index][column],
                    "key \(keyLength), length \(n)")
            }
        }
    }
}

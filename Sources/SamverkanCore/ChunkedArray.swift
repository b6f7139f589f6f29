/// An array that grows a fixed-size chunk at a time instead of doubling.
///
/// A doubling array holds its old and its new storage while it copies: a 1 MB array of dates
/// needs 3 MB at the moment it grows, and that moment sets the process's peak memory. Chunks
/// never move, so growing costs one chunk.
struct ChunkedArray<Element>: RandomAccessCollection, MutableCollection {
    /// Elements per chunk: a power of two, so an index splits with a shift and a mask.
    private static var chunkShift: Int { 12 }
    private static var chunkSize: Int { 1 << chunkShift }

    private var chunks: [[Element]] = []
    private(set) var count = 0

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> Element {
        get {
            precondition(position >= 0 && position < count, "ChunkedArray index out of range")
            return chunks[position >> Self.chunkShift][position & (Self.chunkSize - 1)]
        }
        set {
            precondition(position >= 0 && position < count, "ChunkedArray index out of range")
            chunks[position >> Self.chunkShift][position & (Self.chunkSize - 1)] = newValue
        }
    }

    mutating func append(_ element: Element) {
        if count & (Self.chunkSize - 1) == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }
}

extension ChunkedArray: Sendable where Element: Sendable {}

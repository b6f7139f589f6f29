/// The deadlines of ``Planner/plan(_:from:through:)``, in the same order and written as the same
/// JSON as ``DeadlineJSON`` writes them, made one at a time from a compact form of the
/// agreements: a plan of any length needs memory for its config only.
///
/// `samverkanctl plan --json` over 10,000 agreements writes about 955,000 deadlines (400 MB of
/// JSON). Held as `Deadline` values with their id strings, that plan took 676 MB, and building,
/// sorting and freeing them took much of the time. Here each obligation keeps its nominal dates
/// in the range (about a byte each) and a reference to the pieces of JSON it needs, which are
/// escaped once and shared by every obligation of the same shape; each deadline is computed
/// when it is written and then forgotten.
///
/// The order is the planner's: by due instant, then by id (`AGREEMENT/OBLIGATION/DATE`).
/// - One obligation's deadlines, taken by nominal date, are already in that order: a
///   working-day move never reorders two dates (it goes to the nearest working day in one
///   direction), resolving a wall time in the zone never does either, and when two dates move
///   onto the same day, their ids order them by nominal date too.
/// - The ids of two obligations' deadlines differ in their `AGREEMENT/OBLIGATION/` prefix.
///   Ids are slugs, with no `/` inside, so neither prefix is the start of the other and the
///   prefixes alone decide; they are ranked once.
///
/// So the plan is a merge of one ordered run per obligation by (due instant, rank), through a
/// binary heap with one entry per obligation. Agreement, obligation and respondent role ids must
/// be slugs (`[a-z0-9][a-z0-9-]*`, which `ConfigLoader` ensures): the order depends on it.
///
/// ```
/// var builder = DeadlineStream.Builder(from: first, through: last)
/// for agreement in agreements { builder.add(agreement) }
/// let stream = try builder.build(planner: planner)      // every date checked here
/// try stream.writeJSON(state: "planned", noticeState: "planned") { bytes in … }
/// ```
public struct DeadlineStream: Sendable {
    private var runs: Runs
    /// A binary min-heap by (due, rank): the next deadline of every obligation that has one.
    private var heap: [Cursor]

    /// The number of obligations with a deadline still to come.
    public var isEmpty: Bool { heap.isEmpty }

    /// Writes the JSON array `plan --json` prints, one deadline per line, exactly as
    /// ``DeadlineJSON`` writes the deadlines of ``Planner/plan(_:from:through:)``.
    ///
    /// The bytes go to `write` in blocks of about `chunkSize` bytes; no more than one block is
    /// held, however long the plan.
    public consuming func writeJSON<E: Error>(
        state: String, noticeState: String, chunkSize: Int = 1 << 18,
        to write: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        let pieces = JSONPieces(state: state, noticeState: noticeState)
        // Room for any one deadline, so a block is only ever checked between deadlines.
        let longest = runs.longestDeadline(
            stateBlock: pieces.stateBlock.count, noticeTail: pieces.noticeTail.count)
        var times = [NoticeTime](repeating: NoticeTime(at: 0, order: 0, piece: 0), count: runs.mostNotices)
        // The strings and the fixed pieces are copied from where they are, by pointer, for the
        // whole plan: a deadline is some twenty pieces, and array accesses were much of its cost.
        let strings = runs.strings.bytes
        try strings.withUnsafeBufferPointer { (strings) throws(E) in
            try pieces.bytes.withUnsafeBufferPointer { (pieceBytes) throws(E) in
                let pieces = pieces.view(of: pieceBytes)
                var block = OutputBlock(capacity: max(chunkSize, 2 * longest))
                var count = 0
                block.append(UInt8(ascii: "["))
                while !heap.isEmpty {
                    if block.count + longest > block.capacity {
                        try write(block.bytes)
                        block.removeAll()
                    }
                    runs.writeDeadline(
                        heap[0], first: count == 0, strings: strings, pieces: pieces, times: &times, to: &block)
                    count += 1
                    var next = heap[0]
                    if runs.advance(&next) {
                        heap[0] = next
                        siftDown(from: 0)
                    } else {
                        heap.swapAt(0, heap.count - 1)
                        heap.removeLast()
                        siftDown(from: 0)
                    }
                }
                block.append(count == 0 ? pieces.emptyEnd : pieces.end)
                try write(block.bytes)
            }
        }
    }

    /// Moves the cursor at `start` down to its place. The cursor is held aside while the smaller
    /// child moves up into the hole (one write a level instead of a swap's two), on the heap's
    /// memory directly: this runs once for every deadline written.
    private mutating func siftDown(from start: Int) {
        heap.withUnsafeMutableBufferPointer { heap in
            let count = heap.count
            guard start < count else { return }
            let moving = heap[start]
            var hole = start
            while true {
                var child = 2 * hole + 1
                guard child < count else { break }
                if child + 1 < count && heap[child + 1].precedes(heap[child]) { child += 1 }
                guard heap[child].precedes(moving) else { break }
                heap[hole] = heap[child]
                hole = child
            }
            heap[hole] = moving
        }
    }
}

extension DeadlineStream {
    /// Collects agreements in their compact form; ``build(planner:)`` then checks every date and
    /// makes the stream.
    public struct Builder: Sendable {
        let from: LocalDate
        let through: LocalDate
        /// The first day a nominal date can be on (the planner looks a week either side).
        let lowerDay: Int
        var strings = ByteStrings()
        /// Every obligation with a nominal date in range, in the order they were added.
        var obligations = ChunkedArray<CompiledObligation>()
        var shapes: [Shape] = []
        var shapeNumbers: [ShapeKey: Int32] = [:]
        var notices: [NoticeSpec] = []
        /// Each obligation's nominal dates as day numbers: a run of unsigned LEB128 numbers, the
        /// first counted from `lowerDay - 1` and each next one from the one before (so every
        /// number is at least 1, and mostly fits a byte), ended by a 0.
        var occurrences = ChunkedArray<UInt8>()
        var longestAgreementID = 0

        public init(from: LocalDate, through: LocalDate) {
            self.from = from
            self.through = through
            self.lowerDay = from.dayNumber - 7
        }

        /// Adds an agreement's obligations (not its windows: the planner plans those when they
        /// open). The agreement itself is not kept.
        public mutating func add(_ agreement: Agreement) {
            precondition(DeadlineStream.isSlug(agreement.id), "DeadlineStream needs slug ids: '\(agreement.id)'")
            let agreementID = strings.intern(Array(agreement.id.utf8))
            longestAgreementID = max(longestAgreementID, agreement.id.utf8.count)
            for obligation in agreement.obligations {
                let start = occurrences.count
                var previous = lowerDay - 1
                Planner.forEachNominalDay(of: obligation, in: agreement, from: from, through: through) { day in
                    var delta = UInt(day - previous)
                    while delta >= 0x80 {
                        occurrences.append(UInt8(truncatingIfNeeded: delta) | 0x80)
                        delta >>= 7
                    }
                    occurrences.append(UInt8(delta))
                    previous = day
                }
                // Nothing in range: nothing to plan, and nothing for the calendar to check.
                guard occurrences.count > start else { continue }
                occurrences.append(0)
                precondition(occurrences.count <= Int(Int32.max), "more than 2 GB of dates")
                obligations.append(
                    CompiledObligation(
                        agreementID: agreementID, shape: shape(of: obligation), occurrences: Int32(start)))
            }
        }

        /// Checks every date as ``Planner/plan(_:from:through:)`` would, so that a date the
        /// calendar cannot place fails here, before anything is written, with the planner's
        /// error; then ranks the obligations by id and finds each one's first deadline.
        public consuming func build(planner: Planner) throws(CalendarError) -> DeadlineStream {
            // The planner's order: agreements, obligations and dates as added, the due date's
            // move before the reminders, so the first error is the planner's first error.
            for obligation in obligations {
                let shape = shapes[Int(obligation.shape)]
                var position = Int(obligation.occurrences)
                var nominal = lowerDay - 1
                while let next = Runs.nextNominal(after: nominal, in: occurrences, at: &position) {
                    nominal = next
                    let dueDay = try planner.dueDay(nominal: nominal, move: shape.move)
                    for notice in notices[Int(shape.noticeStart)..<Int(shape.noticeEnd)] {
                        _ = try Runs.reminderDay(notice.lead, dueDay: dueDay, planner: planner)
                    }
                }
            }

            // Rank by `AGREEMENT/OBLIGATION/`: the agreement ids first; where one is the start of
            // the other, the shorter is followed by `/`, which no slug character equals.
            let slash = UInt8(ascii: "/")
            var order = [Int32](0..<Int32(obligations.count))
            strings.bytes.withUnsafeBufferPointer { bytes in
                func id(_ obligation: CompiledObligation) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(rebasing: bytes[strings.range(obligation.agreementID)])
                }
                func middle(_ obligation: CompiledObligation) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(rebasing: bytes[strings.range(shapes[Int(obligation.shape)].middle)])
                }
                order.sort { a, b in
                    let x = id(obligations[Int(a)])
                    let y = id(obligations[Int(b)])
                    let common = min(x.count, y.count)
                    for i in 0..<common where x[i] != y[i] { return x[i] < y[i] }
                    if x.count < y.count { return slash < y[common] }
                    if x.count > y.count { return x[common] < slash }
                    return middle(obligations[Int(a)]).lexicographicallyPrecedes(middle(obligations[Int(b)]))
                }
            }
            var runs = Runs(
                planner: planner, fromDay: from.dayNumber, throughDay: through.dayNumber, lowerDay: lowerDay,
                strings: strings, obligations: obligations, shapes: shapes, notices: notices,
                occurrences: occurrences, longestAgreementID: longestAgreementID)
            var heap: [Cursor] = []
            heap.reserveCapacity(obligations.count)
            for (rank, index) in order.enumerated() {
                var cursor = Cursor(
                    due: 0, rank: Int32(rank), obligation: index, position: obligations[Int(index)].occurrences,
                    nominal: Int32(lowerDay - 1))
                if runs.advance(&cursor) { heap.append(cursor) }
            }
            // Consumed into the stream, so that ordering the heap does not copy it.
            var stream = DeadlineStream(runs: runs, heap: consume heap)
            for index in stride(from: stream.heap.count / 2 - 1, through: 0, by: -1) {
                stream.siftDown(from: index)
            }
            return stream
        }

        /// The number of the obligation's shape, made on first sight.
        private mutating func shape(of obligation: Obligation) -> Int32 {
            let key = ShapeKey(
                id: obligation.id, kind: obligation.kind.rawValue, title: obligation.title,
                time: obligation.schedule.time.secondsIntoDay, move: obligation.schedule.workingDay,
                leads: obligation.remind, respondents: obligation.collectFrom)
            if let number = shapeNumbers[key] { return number }
            precondition(DeadlineStream.isSlug(obligation.id), "DeadlineStream needs slug ids: '\(obligation.id)'")

            // The notices, as `Planner.makeDeadline` makes them: per lead time (and per
            // respondent in a collection round), then the due notice or the round's summary.
            var specs: [(lead: LeadTime?, suffix: String, slot: String)] = []
            for lead in obligation.remind {
                if obligation.collectFrom.isEmpty {
                    specs.append((lead, "/\(lead.slot)", lead.slot))
                } else {
                    for role in obligation.collectFrom {
                        precondition(DeadlineStream.isSlug(role), "DeadlineStream needs slug ids: '\(role)'")
                        specs.append((lead, "/\(lead.slot)/\(role)", lead.slot))
                    }
                }
            }
            specs.append(obligation.collectFrom.isEmpty ? (nil, "/due", "due") : (nil, "/summary", "summary"))
            // Notices at the same instant go by id, and ids of one deadline differ in the suffix.
            let byID = specs.indices.sorted { specs[$0].suffix.utf8.lexicographicallyPrecedes(specs[$1].suffix.utf8) }
            var order = [Int32](repeating: 0, count: specs.count)
            for (rank, index) in byID.enumerated() { order[index] = Int32(rank) }
            let noticeStart = Int32(notices.count)
            for (index, spec) in specs.enumerated() {
                var piece: [UInt8] = []
                DeadlineJSON.appendEscaped(spec.suffix, to: &piece)
                piece.append(contentsOf: #"","slot":""#.utf8)
                DeadlineJSON.appendEscaped(spec.slot, to: &piece)
                piece.append(contentsOf: #"","at":""#.utf8)
                notices.append(NoticeSpec(lead: spec.lead, piece: strings.intern(piece), order: order[index]))
            }

            var fields = Array(#"","obligation":""#.utf8)
            DeadlineJSON.appendEscaped(obligation.id, to: &fields)
            fields.append(contentsOf: #"","kind":""#.utf8)
            DeadlineJSON.appendEscaped(obligation.kind.rawValue, to: &fields)
            fields.append(contentsOf: #"","title":""#.utf8)
            DeadlineJSON.appendEscaped(obligation.title, to: &fields)
            fields.append(contentsOf: #"","due":""#.utf8)
            let number = Int32(shapes.count)
            shapes.append(
                Shape(
                    middle: strings.intern(Array("/\(obligation.id)/".utf8)), fields: strings.intern(fields),
                    time: key.time, move: key.move, noticeStart: noticeStart, noticeEnd: Int32(notices.count)))
            shapeNumbers[key] = number
            return number
        }
    }

    /// `[a-z0-9][a-z0-9-]*`.
    static func isSlug(_ text: String) -> Bool {
        func allowed(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard let first = text.utf8.first, allowed(first) else { return false }
        return text.utf8.allSatisfy { allowed($0) || $0 == UInt8(ascii: "-") }
    }
}

// MARK: - The compact plan

extension DeadlineStream {
    /// One obligation of the plan: its agreement's id, its shape and where its dates start.
    struct CompiledObligation: Sendable {
        var agreementID: Int32
        var shape: Int32
        var occurrences: Int32
    }

    /// What deadlines need of an obligation besides its agreement's id and its dates; every
    /// obligation with the same id, kind, title, time, move and notices shares one.
    struct Shape: Sendable {
        /// `/OBLIGATION/`, between the agreement id and the date in every id.
        var middle: Int32
        /// `","obligation":"…","kind":"…","title":"…","due":"`, escaped.
        var fields: Int32
        /// The due time, in seconds into the day.
        var time: Int
        var move: WorkingDayMove
        /// The shape's notices in `notices`.
        var noticeStart: Int32
        var noticeEnd: Int32
    }

    struct ShapeKey: Hashable, Sendable {
        var id: String
        var kind: String
        var title: String
        var time: Int
        var move: WorkingDayMove
        var leads: [LeadTime]
        var respondents: [String]
    }

    /// One notice of every deadline of a shape.
    struct NoticeSpec: Sendable {
        /// Its lead time; nil for the due notice or the round's summary, at the due instant.
        var lead: LeadTime?
        /// `SUFFIX","slot":"SLOT","at":"`, escaped: what follows the deadline id in the notice.
        var piece: Int32
        /// Its place among the shape's notices by id, for notices at the same instant.
        var order: Int32
    }

    /// One obligation's run in the merge: its next deadline and where its dates continue.
    struct Cursor: Sendable {
        /// The due instant, UTC seconds since 1970.
        var due: Int
        /// The obligation's place in id order.
        var rank: Int32
        /// Its index in `Runs.obligations`.
        var obligation: Int32
        /// The next number in `occurrences`.
        var position: Int32
        var nominal: Int32

        @inline(__always)
        func precedes(_ other: Cursor) -> Bool { due < other.due || (due == other.due && rank < other.rank) }
    }

    /// A notice's instant and which notice it is, while one deadline is written.
    struct NoticeTime {
        var at: Int
        var order: Int32
        var piece: Int32
    }

    /// The plan's obligations in id order and what making their deadlines needs.
    struct Runs: Sendable {
        let planner: Planner
        let fromDay: Int
        let throughDay: Int
        let lowerDay: Int
        let strings: ByteStrings
        let obligations: ChunkedArray<CompiledObligation>
        let shapes: [Shape]
        let notices: [NoticeSpec]
        let occurrences: ChunkedArray<UInt8>
        let longestAgreementID: Int
        /// Offsets for due instants and for printed times; two cursors, as the two walk through
        /// time at different places (the next due date against the reminders before this one).
        private var dueOffsets: OffsetCursor
        private var printOffsets: OffsetCursor

        init(
            planner: Planner, fromDay: Int, throughDay: Int, lowerDay: Int, strings: ByteStrings,
            obligations: ChunkedArray<CompiledObligation>, shapes: [Shape], notices: [NoticeSpec],
            occurrences: ChunkedArray<UInt8>,
            longestAgreementID: Int
        ) {
            self.planner = planner
            self.fromDay = fromDay
            self.throughDay = throughDay
            self.lowerDay = lowerDay
            self.strings = strings
            self.obligations = obligations
            self.shapes = shapes
            self.notices = notices
            self.occurrences = occurrences
            self.longestAgreementID = longestAgreementID
            self.dueOffsets = planner.zone.offsetCursor()
            self.printOffsets = planner.zone.offsetCursor()
        }

        /// The nominal day after `previous` in a run of dates, or nil at its end.
        @inline(__always)
        static func nextNominal(after previous: Int, in occurrences: ChunkedArray<UInt8>, at position: inout Int)
            -> Int?
        {
            var delta = 0
            var shift = 0
            var byte: UInt8
            repeat {
                byte = occurrences[position]
                position += 1
                delta |= Int(byte & 0x7F) << shift
                shift += 7
            } while byte & 0x80 != 0
            return delta == 0 ? nil : previous + delta
        }

        /// The day a `d` or `wd` reminder goes out, as `Planner.reminderTime` has it; nil for
        /// the notices that are not computed by day.
        static func reminderDay(_ lead: LeadTime?, dueDay: Int, planner: Planner) throws(CalendarError) -> Int? {
            switch lead {
            case .days(let n): return try planner.reminderDay(daysBefore: n, dueDay: dueDay)
            case .workingDays(let n): return try planner.calendar.addingWorkingDays(-n, toDay: dueDay)
            case .hours, nil: return nil
            }
        }

        /// Moves `cursor` to its obligation's next deadline due in the range; false when there is
        /// none left.
        mutating func advance(_ cursor: inout Cursor) -> Bool {
            let obligation = obligations[Int(cursor.obligation)]
            let shape = shapes[Int(obligation.shape)]
            var position = Int(cursor.position)
            var nominal = Int(cursor.nominal)
            while let next = Self.nextNominal(after: nominal, in: occurrences, at: &position) {
                nominal = next
                let dueDay: Int
                do {
                    dueDay = try planner.dueDay(nominal: nominal, move: shape.move)
                } catch {
                    preconditionFailure("DeadlineStream.Builder.build checked every date: \(error)")
                }
                let due = dueOffsets.instant(wall: dueDay * 86_400 + shape.time)
                // As the planner filters: by the local date of the due instant.
                let local = due + dueOffsets.offset(atUTC: due)
                let localDay = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
                guard localDay >= fromDay && localDay <= throughDay else { continue }
                cursor.due = due
                cursor.position = Int32(position)
                cursor.nominal = Int32(nominal)
                return true
            }
            return false
        }

        /// An upper bound on the bytes of one deadline's JSON line.
        func longestDeadline(stateBlock: Int, noticeTail: Int) -> Int {
            let id = longestAgreementID
            // A date or a time, with room for years of any length.
            let time = RFC3339.maximumLength
            var longest = 0
            for shape in shapes {
                let middle = strings.range(shape.middle).count
                var bytes = 2 + 7 + id + middle + time + 15 + id + strings.range(shape.fields).count + time
                bytes += stateBlock + 2
                for notice in notices[Int(shape.noticeStart)..<Int(shape.noticeEnd)] {
                    bytes += 1 + 7 + id + middle + time + strings.range(notice.piece).count + time + noticeTail
                }
                longest = max(longest, bytes)
            }
            return longest + 16
        }

        /// Writes the deadline at `cursor` as `DeadlineJSON.append` writes it. `strings` is the
        /// bytes of `self.strings`; `times` is room for the notices of any shape.
        mutating func writeDeadline(
            _ cursor: Cursor, first: Bool, strings bytes: UnsafeBufferPointer<UInt8>, pieces: JSONPieces.View,
            times: inout [NoticeTime], to block: inout OutputBlock
        ) {
            let obligation = obligations[Int(cursor.obligation)]
            let shape = shapes[Int(obligation.shape)]
            let dueDay: Int
            do {
                dueDay = try planner.dueDay(nominal: Int(cursor.nominal), move: shape.move)
            } catch {
                preconditionFailure("DeadlineStream.Builder.build checked every date: \(error)")
            }

            // The notices by instant, then id, as `Planner.makeDeadline` sorts them.
            var count = 0
            for index in Int(shape.noticeStart)..<Int(shape.noticeEnd) {
                let notice = notices[index]
                let at: Int
                switch notice.lead {
                case .hours(let n)?:
                    at = cursor.due - n * 3600
                case nil:
                    at = cursor.due
                case let lead?:
                    let day: Int?
                    do {
                        day = try Self.reminderDay(lead, dueDay: dueDay, planner: planner)
                    } catch {
                        preconditionFailure("DeadlineStream.Builder.build checked every date: \(error)")
                    }
                    at = dueOffsets.instant(wall: (day ?? dueDay) * 86_400 + shape.time)
                }
                let time = NoticeTime(at: at, order: notice.order, piece: notice.piece)
                // Insertion sort: a deadline has a handful of notices.
                var slot = count
                while slot > 0 && (times[slot - 1].at, times[slot - 1].order) > (time.at, time.order) {
                    times[slot] = times[slot - 1]
                    slot -= 1
                }
                times[slot] = time
                count += 1
            }

            func string(_ number: Int32) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: bytes[strings.range(number)])
            }
            let agreementID = string(obligation.agreementID)
            block.append(first ? pieces.firstOpening : pieces.nextOpening)
            // The deadline id, written once and copied into every notice id.
            let id = block.count
            block.append(agreementID)
            block.append(string(shape.middle))
            block.appendDate(Int(cursor.nominal))
            let idEnd = block.count
            block.append(pieces.agreementKey)
            block.append(agreementID)
            block.append(string(shape.fields))
            // The due time, copied into the notices at the due instant.
            let due = block.count
            appendTime(cursor.due, to: &block)
            let dueEnd = block.count
            block.append(pieces.stateBlock)
            for index in 0..<count {
                let time = times[index]
                block.append(index == 0 ? pieces.noticeOpening : pieces.nextNoticeOpening)
                block.appendCopy(of: id..<idEnd)
                block.append(string(time.piece))
                if time.at == cursor.due {
                    block.appendCopy(of: due..<dueEnd)
                } else {
                    appendTime(time.at, to: &block)
                }
                block.append(pieces.noticeTail)
            }
            block.append(pieces.closing)
        }

        private mutating func appendTime(_ utc: Int, to block: inout OutputBlock) {
            let offset = printOffsets.offset(atUTC: utc)
            block.appendTime(utc: utc, offset: offset)
        }

        /// The most notices a deadline has.
        var mostNotices: Int { shapes.map { Int($0.noticeEnd - $0.noticeStart) }.max() ?? 0 }
    }

    /// The fixed pieces of a deadline's JSON, end to end in one array.
    struct JSONPieces {
        let bytes: [UInt8]
        let firstOpening: Range<Int>
        let nextOpening: Range<Int>
        let agreementKey: Range<Int>
        /// `","state":"STATE","notices":[`.
        let stateBlock: Range<Int>
        let noticeOpening: Range<Int>
        let nextNoticeOpening: Range<Int>
        /// `","state":"STATE"}`, closing a notice.
        let noticeTail: Range<Int>
        let closing: Range<Int>
        /// The end of the array, with and without deadlines in it.
        let end: Range<Int>
        let emptyEnd: Range<Int>

        init(state: String, noticeState: String) {
            var bytes: [UInt8] = []
            func piece(_ build: (inout [UInt8]) -> Void) -> Range<Int> {
                let start = bytes.count
                build(&bytes)
                return start..<bytes.count
            }
            firstOpening = piece { $0 += "\n{\"id\":\"".utf8 }
            nextOpening = piece { $0 += ",\n{\"id\":\"".utf8 }
            agreementKey = piece { $0 += #"","agreement":""#.utf8 }
            stateBlock = piece {
                $0 += #"","state":""#.utf8
                DeadlineJSON.appendEscaped(state, to: &$0)
                $0 += #"","notices":["#.utf8
            }
            noticeOpening = piece { $0 += #"{"id":""#.utf8 }
            nextNoticeOpening = piece { $0 += #",{"id":""#.utf8 }
            noticeTail = piece {
                $0 += #"","state":""#.utf8
                DeadlineJSON.appendEscaped(noticeState, to: &$0)
                $0 += #""}"#.utf8
            }
            closing = piece { $0 += "]}".utf8 }
            end = piece { $0 += "\n]\n".utf8 }
            emptyEnd = piece { $0 += "]\n".utf8 }
            self.bytes = bytes
        }

        /// The pieces as pointers into `bytes`, which `buffer` is.
        struct View {
            let firstOpening: UnsafeBufferPointer<UInt8>
            let nextOpening: UnsafeBufferPointer<UInt8>
            let agreementKey: UnsafeBufferPointer<UInt8>
            let stateBlock: UnsafeBufferPointer<UInt8>
            let noticeOpening: UnsafeBufferPointer<UInt8>
            let nextNoticeOpening: UnsafeBufferPointer<UInt8>
            let noticeTail: UnsafeBufferPointer<UInt8>
            let closing: UnsafeBufferPointer<UInt8>
            let end: UnsafeBufferPointer<UInt8>
            let emptyEnd: UnsafeBufferPointer<UInt8>
        }

        func view(of buffer: UnsafeBufferPointer<UInt8>) -> View {
            func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: buffer[range])
            }
            return View(
                firstOpening: slice(firstOpening), nextOpening: slice(nextOpening), agreementKey: slice(agreementKey),
                stateBlock: slice(stateBlock), noticeOpening: slice(noticeOpening),
                nextNoticeOpening: slice(nextNoticeOpening), noticeTail: slice(noticeTail), closing: slice(closing),
                end: slice(end), emptyEnd: slice(emptyEnd))
        }
    }
}

/// A fixed block of output, handed out whole when full: a plan's JSON streams through it, so
/// the memory for output does not grow with the plan. Writes are checked against the capacity;
/// the caller empties the block before a deadline that might not fit.
struct OutputBlock: ~Copyable {
    private let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var count = 0
    private var timestamps = RFC3339.Cache()

    init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written since the block was last emptied.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    mutating func removeAll() { count = 0 }

    mutating func append(_ byte: UInt8) {
        precondition(count < capacity, "OutputBlock overflow")
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(count + bytes.count <= capacity, "OutputBlock overflow")
        guard let start = bytes.baseAddress else { return }
        (base + count).update(from: start, count: bytes.count)
        count += bytes.count
    }

    /// A copy of bytes written earlier (the range must lie before `count`).
    @inline(__always)
    mutating func appendCopy(of range: Range<Int>) {
        precondition(range.upperBound <= count && count + range.count <= capacity, "OutputBlock overflow")
        (base + count).update(from: base + range.lowerBound, count: range.count)
        count += range.count
    }

    /// `YYYY-MM-DD` of a day number, as `LocalDate` prints it.
    mutating func appendDate(_ dayNumber: Int) {
        precondition(count + RFC3339.maximumLength <= capacity, "OutputBlock overflow")
        count += timestamps.writeDate(dayNumber: dayNumber, to: base + count)
    }

    /// An RFC 3339 local time with offset.
    mutating func appendTime(utc: Int, offset: Int) {
        precondition(count + RFC3339.maximumLength <= capacity, "OutputBlock overflow")
        count += timestamps.write(utc: utc, offset: offset, to: base + count)
    }
}

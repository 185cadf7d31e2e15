// Package store keeps CloudTrail events and signals in an embedded, append-only store on
// local disk: nothing to install, pure Go, one directory.
//
// A store keeps every distinct event (by eventID and eventTime) twice over: its raw JSON, exactly as
// delivered, zstd-compressed in blocks, and a columnar index of the header fields
// investigations filter on (time, account, region, API, actor, access key, source address,
// user agent, error code, original file and record). Lookups by identity, key, address,
// account or time read only the small index columns and then decompress only the blocks that
// hold matching events, so the store survives moving or deleting the original logs.
//
// # Layout
//
// A store is a directory:
//
//	LOCK              held (flock) by the one writing process
//	MANIFEST          JSON list of the committed segments; replaced atomically (write, fsync, rename)
//	seg-NNNNNN.ths    immutable segment files; a file not in MANIFEST is ignored (and removed by the next writer)
//	signals.jsonl     signals, one JSON object per line, unique by id; replaced atomically
//	state.json        free for the stateful detection stage (StatePath)
//
// A segment file is
//
//	"THSEG001" | block 0 | block 1 | … | section … | footer JSON | uint32 footer length | uint32 CRC-32C of footer | "THSEGEND"
//
// where each block is one zstd frame holding the raw JSON of consecutive events (about
// Options.BlockSize bytes before compression), and each section is one column of the index,
// one zstd frame per group of 16,384 rows (so a lookup decompresses only the groups of its
// matches), with one value per event in insertion order: the 64-bit eventID hash
// (dedup), the eventID, the time (Unix ns), one fixed-width dictionary code per string column
// (the dictionary is a section too), and the event's block, offset and length. The footer
// says where each section is, the number of events and their time range. Since footer
// version 2, the sections actor.set, key.set and ip.set list, per row group, the dictionary
// codes present in that group, so a lookup by actor, key or address skips the groups without
// them without decompressing their columns; segments without a version are read as before.
//
// Scan and Events call back from the calling goroutine in commit order, while up to
// GOMAXPROCS goroutines read ahead: segments, column groups, and raw blocks (each
// decompressed once per lookup, into pooled buffers; Events also parses ahead).
//
// # Durability
//
// Writer.Commit writes the segment, fsyncs it, renames it into place and only then replaces
// MANIFEST: a writer killed at any point leaves a store holding exactly what was committed
// before. Events added after the last Commit are lost; adding the same files again fills the
// gap without duplicating anything.
//
// # Concurrency
//
// One process writes at a time (the LOCK file); any number of processes read. Within a
// process, a Store and its Writer are safe for concurrent use: readers see the segments
// committed before their call began.
package store

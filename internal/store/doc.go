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
//	MANIFEST          the committed generation: every file below that belongs to it, with its
//	                  size and CRC-32C; replaced atomically (write, fsync, rename, fsync the folder)
//	seg-NNNNNN.ths    immutable segments of events
//	sig-NNNNNN.thb    chunks of signals (a later chunk's signal replaces an earlier one's with its id)
//	ledger-NNNNNN.thb the file ledger: input files stored whole (files.go)
//	blob-NNNNNN.thb   named blobs: the detection state (StateBlob), and for a service its
//	                  sources' checkpoints and sinks' outboxes
//
// Every file but the segments is framed (frame.go): its kind, the generation that wrote it, its
// body and a CRC-32C. Version 1 stores (a plain JSON manifest, signals.jsonl, state.json,
// files.ledger without checksums) are read as they are, and rewritten by their first commit.
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
// Since version 4 the footer also holds the generation, the CRC-32C of every byte before it
// and, for a compaction's output, the segments it replaced: what Repair needs to rebuild a
// manifest from the segments alone.
//
// Scan and Events call back from the calling goroutine in commit order, while up to
// GOMAXPROCS goroutines read ahead: segments, column groups, and raw blocks (each
// decompressed once per lookup, into pooled buffers; Events also parses ahead).
//
// # Durability
//
// Everything a run makes durable — its events, the input files it read whole, its signals, the
// detection state after it, and whatever blobs the caller adds — is committed together as one
// generation (commit.go): all the files of the generation are written and synced, then MANIFEST
// is replaced. Readers and the next writer see a whole generation or the one before it. A
// writer killed at any point leaves the previous generation; the files of the unfinished one
// are unreferenced and the next writer removes them. Full segments are written as Add goes
// (to bound memory) but are listed only by the commit that also holds their signals and state.
//
// A writer deletes a file only when a valid manifest proves it unreferenced. A missing or
// damaged manifest beside store files is an error (ErrNoManifest, or a damaged one) that
// changes nothing; Check verifies every file; Repair rebuilds what the files' own footers and
// checksums allow, moving aside (never deleting) what it cannot use.
//
// # Concurrency
//
// One process writes at a time (the LOCK file); any number of processes read. Within a
// process, a Store and its Writer are safe for concurrent use: readers see the segments
// committed before their call began.
package store

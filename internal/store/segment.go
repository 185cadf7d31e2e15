package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"sync"

	"github.com/klauspost/compress/zstd"
)

const (
	segMagic     = "THSEG001"
	segEndMagic  = "THSEGEND"
	trailerBytes = 4 + 4 + len(segEndMagic)
)

// Dictionary-encoded string columns, in the order of their sections.
const (
	colAccount = iota
	colRegion
	colSource
	colName
	colActor
	colKey
	colIP
	colUA
	colErr
	colFile
	// numHeaderCols: the columns above make a Record's header.
	numHeaderCols
	// colSrcID is userIdentity.sessionContext.sourceIdentity (segments of version 3 on).
	colSrcID   = numHeaderCols
	numStrCols = colSrcID + 1
)

var strColNames = [numStrCols]string{"account", "region", "source", "name", "actor", "key", "ip", "ua", "error", "file", "srcid"}

// Names of the other sections.
const (
	secDict   = "dict"   // uvarint length + bytes, per string; code 0 is ""
	secHash   = "hash"   // uint64 LE per event
	secID     = "id"     // uvarint length + bytes, per event
	secTime   = "time"   // int64 LE Unix ns per event
	secRecord = "record" // uint32 LE: record index in the original file
	secBlock  = "block"  // fixed width: block number
	secOffset = "offset" // uint32 LE: offset in the decompressed block
	secLength = "length" // uint32 LE: length of the raw JSON
	secBlocks = "blocks" // per block: file offset, compressed length, raw length (uint64 LE each)
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Rows are stored in groups of groupRows: each row-oriented section is one zstd frame per
// group, so a lookup that matches a few rows decompresses only their groups.
const (
	groupShift = 14
	groupRows  = 1 << groupShift
	groupMask  = groupRows - 1
)

// section locates the zstd frames (chunks) of one section in a segment file: one for the
// dictionary and the block table, one per row group for the columns.
type section struct {
	Chunks [][3]int64 `json:"chunks"`          // file offset, compressed length, raw length
	Width  int        `json:"width,omitempty"` // bytes per value of fixed-width columns
}

// footerVersion is the version of the segments written. Version 2 added the sections
// "actor.set", "key.set" and "ip.set" (setCols); segments without a version (1) lack them and
// are read without row-group skipping. Version 3 added the column "srcid"
// (sourceIdentity): older segments have none, and Filter.SourceIdentities finds nothing in
// them; and the section "activity" (segActivity), computed from the columns for older ones.
// Version 4 added the generation, the checksum of the body and, for segments a compaction
// wrote, the segments they replace: what `db repair` needs to rebuild a manifest.
const footerVersion = 4

// srcIDVersion is the first footer version with the srcid column.
const srcIDVersion = 3

// setCols are the identity columns that have, per row group, the set of their codes: per
// group, a uvarint count then the sorted codes as uvarint deltas, in one chunk.
var setCols = []int{colActor, colKey, colIP}

const setSuffix = ".set"

// footer is the table of contents of a segment.
type footer struct {
	Version  int                `json:"version,omitempty"`
	Events   int                `json:"events"`
	Blocks   int                `json:"blocks"`
	MinTime  int64              `json:"min_time"`
	MaxTime  int64              `json:"max_time"`
	Sections map[string]section `json:"sections"`
	// Generation is the commit the segment was written for (version 4 on).
	Generation uint64 `json:"generation,omitempty"`
	// BodyCRC is the CRC-32C of every byte before the footer (version 4 on).
	BodyCRC uint32 `json:"body_crc,omitempty"`
	// Replaces names the segments a compaction merged into this one, and SourceGeneration
	// is the newest generation of their events (0: the segment's own generation).
	Replaces         []string `json:"replaces,omitempty"`
	SourceGeneration uint64   `json:"source_generation,omitempty"`
}

// sourceGeneration is the generation whose commit made the segment's events durable: its
// own, or for a compaction's output the newest of the segments it merged.
func (ft footer) sourceGeneration() uint64 {
	if ft.SourceGeneration != 0 {
		return ft.SourceGeneration
	}
	return ft.Generation
}

// blockRef locates one compressed block.
type blockRef struct{ off, clen, raw int64 }

// segment is a committed segment file, opened for reading. Its file is read with ReadAt only,
// so it is safe for concurrent use.
type segment struct {
	name string
	num  uint32 // sequence number, from the name
	meta segmentMeta
	f    *os.File
	ft   footer
	size int64 // of the file
	// ftOff is where the footer starts.
	ftOff int64

	once   sync.Once
	dict   []string
	blocks []blockRef
	err    error

	setOnce sync.Once
	sets    [numStrCols][][]uint32 // per setCols column (nil when absent), per group, codes
	setErr  error
}

// groupSets returns, for the column c, the sorted codes present in each row group, or nil
// when the segment has none (written before version 2). The dictionary must be loaded.
func (sg *segment) groupSets(dec *zstd.Decoder, c int) ([][]uint32, error) {
	sg.setOnce.Do(func() {
		if sg.ft.Version < 2 {
			return
		}
		for _, col := range setCols {
			name := strColNames[col] + setSuffix
			if _, ok := sg.ft.Sections[name]; !ok {
				continue
			}
			b, err := sg.section(dec, name)
			if err != nil {
				sg.setErr = err
				return
			}
			sets := make([][]uint32, sg.groups())
			p := 0
			for g := range sets {
				n, k := binary.Uvarint(b[p:])
				if k <= 0 || n > uint64(len(b)-p) {
					sg.setErr = fmt.Errorf("segment %s: section %s: bad group %d", sg.name, name, g)
					return
				}
				p += k
				codes := make([]uint32, n)
				v := uint64(0)
				for i := range codes {
					d, k := binary.Uvarint(b[p:])
					if k <= 0 {
						sg.setErr = fmt.Errorf("segment %s: section %s: bad group %d", sg.name, name, g)
						return
					}
					p += k
					if v += d; v >= uint64(len(sg.dict)) {
						sg.setErr = fmt.Errorf("segment %s: section %s: dictionary code out of range", sg.name, name)
						return
					}
					codes[i] = uint32(v)
				}
				sets[g] = codes
			}
			if p != len(b) {
				sg.setErr = fmt.Errorf("segment %s: section %s: %d bytes left", sg.name, name, len(b)-p)
				return
			}
			sg.sets[col] = sets
		}
	})
	return sg.sets[c], sg.setErr
}

// openSegment opens a committed segment and reads its footer.
func openSegment(path string, meta segmentMeta) (*segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening segment: %w", err)
	}
	ft, size, ftOff, err := readFooter(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening segment %s: %w", meta.Name, err)
	}
	num, ok := fileSeq(meta.Name)
	if !ok || num > 1<<32-1 {
		f.Close()
		return nil, fmt.Errorf("opening segment %s: bad name", meta.Name)
	}
	return &segment{name: meta.Name, num: uint32(num), meta: meta, f: f, ft: ft, size: size, ftOff: ftOff}, nil
}

// readFooter reads and checks the footer of a segment file; it returns the footer, the
// file's size and where the footer starts.
func readFooter(f *os.File) (ft footer, size, ftOff int64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return ft, 0, 0, err
	}
	size = fi.Size()
	if size < int64(len(segMagic)+trailerBytes) {
		return ft, size, 0, fmt.Errorf("%w: truncated segment", errDamaged)
	}
	tr := make([]byte, trailerBytes)
	if _, err := f.ReadAt(tr, size-int64(trailerBytes)); err != nil {
		return ft, size, 0, fmt.Errorf("reading trailer: %w", err)
	}
	if string(tr[8:]) != segEndMagic {
		return ft, size, 0, fmt.Errorf("%w: truncated segment: no end marker", errDamaged)
	}
	n := int64(binary.LittleEndian.Uint32(tr))
	if n > size-int64(trailerBytes+len(segMagic)) {
		return ft, size, 0, fmt.Errorf("%w: bad footer length", errDamaged)
	}
	ftOff = size - int64(trailerBytes) - n
	b := make([]byte, n)
	if _, err := f.ReadAt(b, ftOff); err != nil {
		return ft, size, 0, fmt.Errorf("reading footer: %w", err)
	}
	if crc32.Checksum(b, crcTable) != binary.LittleEndian.Uint32(tr[4:]) {
		return ft, size, 0, fmt.Errorf("%w: footer checksum mismatch", errDamaged)
	}
	if err := json.Unmarshal(b, &ft); err != nil {
		return ft, size, 0, fmt.Errorf("%w: decoding footer: %v", errDamaged, err)
	}
	return ft, size, ftOff, nil
}

func (sg *segment) close() error { return sg.f.Close() }

// section reads and decompresses every chunk of a section, concatenated.
func (sg *segment) section(dec *zstd.Decoder, name string) ([]byte, error) {
	sec, ok := sg.ft.Sections[name]
	if !ok {
		return nil, fmt.Errorf("segment %s: no section %q", sg.name, name)
	}
	var out []byte
	for _, c := range sec.Chunks {
		b, err := sg.frame(dec, c[0], c[1], c[2])
		if err != nil {
			return nil, fmt.Errorf("segment %s: reading %s: %w", sg.name, name, err)
		}
		if out == nil {
			out = b
		} else {
			out = append(out, b...)
		}
	}
	return out, nil
}

// frame reads and decompresses the zstd frame at off.
func (sg *segment) frame(dec *zstd.Decoder, off, clen, raw int64) ([]byte, error) {
	c := make([]byte, clen)
	if _, err := sg.f.ReadAt(c, off); err != nil {
		return nil, err
	}
	out, err := dec.DecodeAll(c, make([]byte, 0, raw))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) != raw {
		return nil, fmt.Errorf("decompressed %d bytes, want %d", len(out), raw)
	}
	return out, nil
}

// meta loads (once) the dictionary and the block table.
func (sg *segment) load(dec *zstd.Decoder) error {
	sg.once.Do(func() {
		b, err := sg.section(dec, secDict)
		if err != nil {
			sg.err = err
			return
		}
		sg.dict, err = decodeStrings(b, -1)
		if err != nil {
			sg.err = fmt.Errorf("segment %s: dictionary: %w", sg.name, err)
			return
		}
		b, err = sg.section(dec, secBlocks)
		if err != nil {
			sg.err = err
			return
		}
		if len(b) != sg.ft.Blocks*24 {
			sg.err = fmt.Errorf("segment %s: block table of %d bytes for %d blocks", sg.name, len(b), sg.ft.Blocks)
			return
		}
		sg.blocks = make([]blockRef, sg.ft.Blocks)
		for i := range sg.blocks {
			p := b[i*24:]
			sg.blocks[i] = blockRef{int64(binary.LittleEndian.Uint64(p)), int64(binary.LittleEndian.Uint64(p[8:])), int64(binary.LittleEndian.Uint64(p[16:]))}
		}
	})
	return sg.err
}

// column is a fixed-width column whose row groups are read and decompressed on first use.
// It is owned by one goroutine. A read error is kept in err (the value read is then 0): check
// it after a loop.
type column struct {
	sg     *segment
	dec    *zstd.Decoder
	name   string
	sec    section
	w      int
	dictN  uint64 // when not 0, every value must be below it (dictionary codes)
	groups [][]byte
	errMu  sync.Mutex // guards err while groups are loaded concurrently (preload)
	err    error
}

// rowsIn returns the number of rows of group g.
func (sg *segment) rowsIn(g int) int { return min(groupRows, sg.ft.Events-g*groupRows) }

func (sg *segment) groups() int { return (sg.ft.Events + groupRows - 1) / groupRows }

// column returns the fixed-width column name; dictN, when not 0, bounds its values.
func (sg *segment) column(dec *zstd.Decoder, name string, dictN int) (*column, error) {
	sec, ok := sg.ft.Sections[name]
	if !ok || sec.Width == 0 || len(sec.Chunks) != sg.groups() {
		return nil, fmt.Errorf("segment %s: no column %q", sg.name, name)
	}
	return &column{sg: sg, dec: dec, name: name, sec: sec, w: sec.Width, dictN: uint64(dictN), groups: make([][]byte, len(sec.Chunks))}, nil
}

func (c *column) at(i int) uint64 {
	b := c.groups[i>>groupShift]
	if b == nil {
		b = c.load(i >> groupShift)
	}
	j := i & groupMask
	switch c.w {
	case 1:
		return uint64(b[j])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b[j*2:]))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b[j*4:]))
	default:
		return binary.LittleEndian.Uint64(b[j*8:])
	}
}

// load reads group g, checking its size and codes; on error it keeps the error and returns
// zeros.
func (c *column) load(g int) []byte {
	n := c.sg.rowsIn(g)
	ch := c.sec.Chunks[g]
	b, err := c.sg.frame(c.dec, ch[0], ch[1], ch[2])
	if err == nil && len(b) != n*c.w {
		err = fmt.Errorf("%d bytes for %d rows of width %d", len(b), n, c.w)
	}
	if err == nil && c.dictN != 0 {
		c.groups[g] = b
		for j := range n {
			if c.at(g<<groupShift+j) >= c.dictN {
				err = errors.New("dictionary code out of range")
				break
			}
		}
	}
	if err != nil {
		c.errMu.Lock()
		if c.err == nil {
			c.err = fmt.Errorf("segment %s: column %s, rows %d+: %w", c.sg.name, c.name, g<<groupShift, err)
		}
		c.errMu.Unlock()
		b = make([]byte, n*c.w)
	}
	c.groups[g] = b
	return b
}

// idColumn is the eventID column, read by row group like column.
type idColumn struct {
	sg     *segment
	dec    *zstd.Decoder
	sec    section
	groups [][]string
	errMu  sync.Mutex // guards err while groups are loaded concurrently (preload)
	err    error
}

func (sg *segment) idColumn(dec *zstd.Decoder) (*idColumn, error) {
	sec, ok := sg.ft.Sections[secID]
	if !ok || len(sec.Chunks) != sg.groups() {
		return nil, fmt.Errorf("segment %s: no id column", sg.name)
	}
	return &idColumn{sg: sg, dec: dec, sec: sec, groups: make([][]string, len(sec.Chunks))}, nil
}

func (c *idColumn) at(i int) string {
	ids := c.groups[i>>groupShift]
	if ids == nil {
		ids = c.load(i >> groupShift)
	}
	return ids[i&groupMask]
}

// load reads group g; on error it keeps the error and returns empty strings.
func (c *idColumn) load(g int) []string {
	n := c.sg.rowsIn(g)
	ch := c.sec.Chunks[g]
	b, err := c.sg.frame(c.dec, ch[0], ch[1], ch[2])
	var ids []string
	if err == nil {
		ids, err = decodeStrings(b, n)
	}
	if err != nil {
		c.errMu.Lock()
		if c.err == nil {
			c.err = fmt.Errorf("segment %s: id column, rows %d+: %w", c.sg.name, g<<groupShift, err)
		}
		c.errMu.Unlock()
		ids = make([]string, n)
	}
	c.groups[g] = ids
	return ids
}

// widthFor returns the bytes needed to store values up to max.
func widthFor(max uint64) int {
	switch {
	case max <= 0xff:
		return 1
	case max <= 0xffff:
		return 2
	case max <= 0xffffffff:
		return 4
	default:
		return 8
	}
}

// appendFixed appends v in w bytes, little endian.
func appendFixed(dst []byte, v uint64, w int) []byte {
	switch w {
	case 1:
		return append(dst, byte(v))
	case 2:
		return binary.LittleEndian.AppendUint16(dst, uint16(v))
	case 4:
		return binary.LittleEndian.AppendUint32(dst, uint32(v))
	default:
		return binary.LittleEndian.AppendUint64(dst, v)
	}
}

// decodeStrings splits uvarint-length-prefixed strings; n < 0 means as many as there are.
func decodeStrings(b []byte, n int) ([]string, error) {
	var out []string
	if n >= 0 {
		out = make([]string, 0, n)
	}
	// One string backs all: the dictionary is held as long as the segment.
	all := string(b)
	for p := 0; p < len(b); {
		l, k := binary.Uvarint(b[p:])
		if k <= 0 || uint64(len(b)-p-k) < l {
			return nil, errors.New("bad string length")
		}
		p += k
		out = append(out, all[p:p+int(l)])
		p += int(l)
	}
	if n >= 0 && len(out) != n {
		return nil, fmt.Errorf("%d strings, want %d", len(out), n)
	}
	return out, nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Statuses of a file in a CheckReport.
const (
	StatusOK = "ok"
	// StatusDamaged: the file's bytes are not what was written (checksum, size or framing).
	StatusDamaged = "damaged"
	// StatusMissing: the manifest lists a file that is not there.
	StatusMissing = "missing"
	// StatusUnreferenced: a store file the manifest does not list — left by a commit that
	// did not finish, or superseded; the next writer removes it. Not damage.
	StatusUnreferenced = "unreferenced"
)

// FileCheck is what Check found of one file.
type FileCheck struct {
	Name string `json:"name"`
	// Kind is segment, signals, ledger, blob:<name> or manifest.
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	Detail     string `json:"detail,omitempty"`
	Generation uint64 `json:"generation,omitempty"`
	Bytes      int64  `json:"bytes"`
}

// CheckReport is the result of Check.
type CheckReport struct {
	Dir string `json:"dir"`
	// Generation is the committed generation (when the manifest could be read).
	Generation uint64      `json:"generation"`
	Files      []FileCheck `json:"files"`
	// Damaged counts the files damaged or missing (the manifest included).
	Damaged int `json:"damaged"`
}

// OK reports whether every file of the store is as it was written.
func (r CheckReport) OK() bool { return r.Damaged == 0 }

// Check verifies every file of the store in dir against the manifest (size and CRC-32C of
// the whole file) and its own framing and checksums, and lists the store files the manifest
// does not reference. It changes nothing and takes no lock: a writer may be running (a file
// its commit replaces meanwhile makes Check read the manifest again). Damage is reported in
// the result, not as an error; an error means the store could not be checked at all.
func Check(ctx context.Context, dir string) (CheckReport, error) {
	if _, err := os.Stat(dir); err != nil {
		return CheckReport{}, fmt.Errorf("checking store: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<32))
	if err != nil {
		return CheckReport{}, err
	}
	defer dec.Close()
	for try := 0; ; try++ {
		r, retry, err := check(ctx, dir, dec)
		if err != nil || !retry || try == 3 {
			return r, err
		}
	}
}

// check checks the store once; retry is true when a listed file vanished while the manifest
// changed (a concurrent commit).
func check(ctx context.Context, dir string, dec *zstd.Decoder) (r CheckReport, retry bool, err error) {
	r = CheckReport{Dir: dir}
	mb, merr := os.ReadFile(filepath.Join(dir, manifestName))
	var m manifest
	switch {
	case errors.Is(merr, fs.ErrNotExist):
		if _, err := readManifest(dir); err == nil {
			return r, false, nil // an empty folder: an empty store
		}
		r.add(FileCheck{Name: manifestName, Kind: kindManifest, Status: StatusMissing, Detail: "store files are present without a manifest"})
	case merr != nil:
		return r, false, fmt.Errorf("checking store: %w", merr)
	default:
		m, merr = parseManifest(mb)
		if merr != nil {
			r.add(FileCheck{Name: manifestName, Kind: kindManifest, Status: StatusDamaged, Detail: merr.Error(), Bytes: int64(len(mb))})
		} else {
			m = m.withLegacy(dir)
			r.Generation = m.Generation
			r.add(FileCheck{Name: manifestName, Kind: kindManifest, Status: StatusOK, Generation: m.Generation, Bytes: int64(len(mb))})
		}
	}
	listed := map[string]bool{}
	if merr == nil {
		for _, meta := range m.Segments {
			listed[meta.Name] = true
			fc := checkSegment(ctx, filepath.Join(dir, meta.Name), dec, &meta)
			if fc.Status == StatusMissing && manifestChanged(dir, mb) {
				return r, true, nil
			}
			r.add(fc)
		}
		for _, f := range m.Files {
			listed[f.Name] = true
			fc := checkFramed(filepath.Join(dir, f.Name), &f)
			if fc.Status == StatusMissing && manifestChanged(dir, mb) {
				return r, true, nil
			}
			r.add(fc)
		}
	}
	// Store files the manifest does not list: unreferenced when it is valid; without a
	// valid manifest, each is checked on its own (what `db repair` could use).
	ents, err := os.ReadDir(dir)
	if err != nil {
		return r, false, fmt.Errorf("checking store: %w", err)
	}
	for _, e := range ents {
		n := e.Name()
		if listed[n] || !storeFile(n) || strings.HasSuffix(n, tmpSuffix) {
			continue
		}
		var fc FileCheck
		if strings.HasPrefix(n, segPrefix) {
			fc = checkSegment(ctx, filepath.Join(dir, n), dec, nil)
		} else {
			fc = checkFramed(filepath.Join(dir, n), nil)
		}
		if merr == nil {
			fc.Detail = "not in the manifest: left by a commit that did not finish, or superseded; the next writer removes it"
			if fc.Status != StatusOK {
				fc.Detail += " (and it is damaged)"
			}
			fc.Status = StatusUnreferenced
		}
		r.add(fc)
	}
	sort.SliceStable(r.Files, func(i, j int) bool { return r.Files[i].Name < r.Files[j].Name })
	return r, false, nil
}

func (r *CheckReport) add(fc FileCheck) {
	if fc.Status == StatusDamaged || fc.Status == StatusMissing {
		r.Damaged++
	}
	r.Files = append(r.Files, fc)
}

// manifestChanged reports whether MANIFEST no longer holds b.
func manifestChanged(dir string, b []byte) bool {
	now, err := os.ReadFile(filepath.Join(dir, manifestName))
	return err != nil || string(now) != string(b)
}

// checkSegment checks a segment file; meta, when given, is what the manifest says of it.
func checkSegment(ctx context.Context, path string, dec *zstd.Decoder, meta *segmentMeta) FileCheck {
	fc := FileCheck{Name: filepath.Base(path), Kind: "segment"}
	info, err := inspectSegment(ctx, path, dec)
	fc.Bytes, fc.Generation = info.size, info.ft.Generation
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fc.Status = StatusMissing
	case err != nil:
		fc.Status, fc.Detail = StatusDamaged, err.Error()
	case meta != nil && meta.CRC != 0 && (info.size != meta.Bytes || info.crc != meta.CRC):
		fc.Status = StatusDamaged
		fc.Detail = fmt.Sprintf("%d bytes with CRC-32C %08x; the manifest says %d bytes, %08x", info.size, info.crc, meta.Bytes, meta.CRC)
	case meta != nil && info.ft.Events != meta.Events:
		fc.Status = StatusDamaged
		fc.Detail = fmt.Sprintf("%d events; the manifest says %d", info.ft.Events, meta.Events)
	default:
		fc.Status = StatusOK
		fc.Detail = fmt.Sprintf("%d events", info.ft.Events)
	}
	return fc
}

// checkFramed checks a framed file (or a version 1 file); ref, when given, is what the
// manifest says of it.
func checkFramed(path string, ref *fileRef) FileCheck {
	fc := FileCheck{Name: filepath.Base(path)}
	if ref != nil {
		fc.Kind, fc.Generation = ref.Kind, ref.Generation
		if ref.Kind == kindBlob {
			fc.Kind = kindBlob + ":" + ref.Blob
		}
	}
	b, err := os.ReadFile(path)
	fc.Bytes = int64(len(b))
	if errors.Is(err, fs.ErrNotExist) {
		fc.Status = StatusMissing
		return fc
	}
	if err != nil {
		fc.Status, fc.Detail = StatusDamaged, err.Error()
		return fc
	}
	if ref != nil && ref.legacy() {
		fc.Status, fc.Detail = StatusOK, "version 1 file: no checksum (the next commit rewrites it with one)"
		switch ref.Kind {
		case kindSignals:
			if _, err := decodeLegacySignals(b); err != nil {
				fc.Status, fc.Detail = StatusDamaged, err.Error()
			}
		case kindLedger:
			if _, err := parseFiles(b); err != nil {
				fc.Status, fc.Detail = StatusDamaged, err.Error()
			}
		}
		return fc
	}
	h, body, err := parseFrame(b)
	if err == nil {
		fc.Generation = h.Generation
		fc.Kind = h.Kind
		if h.Kind == kindBlob {
			fc.Kind = kindBlob + ":" + h.Name
		}
		err = checkBody(h, body)
	}
	if err == nil && ref != nil {
		switch {
		case ref.Bytes != int64(len(b)) || ref.CRC != crc32.Checksum(b, crcTable):
			err = fmt.Errorf("%d bytes with CRC-32C %08x; the manifest says %d bytes, %08x", len(b), crc32.Checksum(b, crcTable), ref.Bytes, ref.CRC)
		case ref.Kind != h.Kind || ref.Blob != h.Name || ref.Generation != h.Generation:
			err = fmt.Errorf("holds %s %q of generation %d; the manifest lists %s %q of generation %d", h.Kind, h.Name, h.Generation, ref.Kind, ref.Blob, ref.Generation)
		}
	}
	if err != nil {
		fc.Status, fc.Detail = StatusDamaged, err.Error()
		return fc
	}
	fc.Status = StatusOK
	return fc
}

// checkBody checks the content of a framed file beyond its checksum.
func checkBody(h frameHeader, body []byte) error {
	switch h.Kind {
	case kindSignals:
		_, _, err := decodeSignals(body, false)
		return err
	case kindLedger:
		_, err := parseFiles(body)
		return err
	case kindBlob, kindManifest:
		return nil
	}
	return fmt.Errorf("unknown kind %q", h.Kind)
}

// segInfo is what inspectSegment found.
type segInfo struct {
	ft    footer
	size  int64
	ftOff int64
	crc   uint32 // of the whole file
}

// inspectSegment checks a segment file on its own: its footer, and the checksum of its body
// (version 4 on) or, for older segments, that every frame decodes (zstd checks its frames'
// checksums).
func inspectSegment(ctx context.Context, path string, dec *zstd.Decoder) (segInfo, error) {
	var info segInfo
	f, err := os.Open(path)
	if err != nil {
		return info, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return info, err
	}
	info.size = fi.Size()
	h := crc32.New(crcTable)
	if _, err := io.Copy(h, f); err != nil {
		return info, fmt.Errorf("reading: %w", err)
	}
	info.crc = h.Sum32()
	ft, _, ftOff, err := readFooter(f)
	if err != nil {
		return info, err
	}
	info.ft, info.ftOff = ft, ftOff
	if ft.Version >= 4 {
		h.Reset()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, ftOff)); err != nil {
			return info, fmt.Errorf("reading: %w", err)
		}
		if h.Sum32() != ft.BodyCRC {
			return info, fmt.Errorf("%w: body checksum mismatch", errDamaged)
		}
		return info, nil
	}
	// Older segments: decode every frame.
	sg := &segment{name: filepath.Base(path), f: f, ft: ft, size: info.size, ftOff: ftOff}
	if err := sg.load(dec); err != nil {
		return info, fmt.Errorf("%w: %v", errDamaged, err)
	}
	for name := range ft.Sections {
		if err := ctx.Err(); err != nil {
			return info, err
		}
		if _, err := sg.section(dec, name); err != nil {
			return info, fmt.Errorf("%w: %v", errDamaged, err)
		}
	}
	for i, b := range sg.blocks {
		if err := ctx.Err(); err != nil {
			return info, err
		}
		if _, err := sg.frame(dec, b.off, b.clen, b.raw); err != nil {
			return info, fmt.Errorf("%w: block %d: %v", errDamaged, i, err)
		}
	}
	return info, nil
}

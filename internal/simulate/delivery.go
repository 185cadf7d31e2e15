package simulate

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"
)

// Sink receives the generated files. Generate calls it from one goroutine, in order.
type Sink interface {
	// WriteFile stores data under name, a slash-separated path relative to the output root
	// ("AWSLogs/…/x.json.gz", "ground-truth.json"). data is only valid during the call.
	WriteFile(name string, data []byte) error
}

// DirSink writes files below a folder, creating sub-folders as needed. It is not safe for
// concurrent use.
type DirSink struct {
	root string
	made map[string]bool
}

// NewDirSink returns a Sink writing below dir.
func NewDirSink(dir string) *DirSink { return &DirSink{root: dir, made: map[string]bool{}} }

// WriteFile writes data to dir/name, replacing any file there.
func (d *DirSink) WriteFile(name string, data []byte) error {
	p := filepath.Join(d.root, filepath.FromSlash(name))
	if dir := filepath.Dir(p); !d.made[dir] {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
		d.made[dir] = true
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

const slotSeconds = 300

// slotKey names one delivery slot: an account, a region and a 5-minute interval.
type slotKey struct {
	acct   int
	region string
	slot   int64 // Unix seconds / slotSeconds
}

// slotBuf holds the encoded records of one slot until it is flushed.
type slotBuf struct {
	data           []byte
	ends           []int
	oldest, newest int64
}

// deliveryDelay draws how long CloudTrail takes to deliver an event: about 5 minutes on
// average, a few percent 12 to 25 minutes.
func (g *gen) deliveryDelay() int64 {
	switch p := g.r.Float64(); {
	case p < 0.90:
		return int64(30 + g.r.IntN(480))
	case p < 0.97:
		return int64(540 + g.r.IntN(360))
	default:
		return int64(720 + g.r.IntN(780))
	}
}

// emit encodes r into the slot it is delivered in (and, rarely, a second time into a later
// slot). It returns the eventID, which is only valid until the next emit.
func (g *gen) emit(r *rec) []byte {
	var idAt int
	g.enc, idAt = g.encode(g.enc[:0], r)
	t := r.at.Unix()
	slot := (t + g.deliveryDelay()) / slotSeconds
	if slot > t/slotSeconds {
		g.sum.Late++
	}
	g.put(slotKey{r.acct.idx, r.region, slot}, t)
	g.sum.Events++
	id := g.enc[idAt : idAt+36]
	if g.opts.DuplicateRate > 0 && g.r.Float64() < g.opts.DuplicateRate {
		g.put(slotKey{r.acct.idx, r.region, slot + int64(g.r.IntN(3)) + 1}, t)
		g.sum.Events++
		g.sum.Duplicates++
		g.truth.Duplicates = append(g.truth.Duplicates, string(id))
	}
	return id
}

func (g *gen) put(k slotKey, t int64) {
	s := g.slots[k]
	if s == nil {
		pk := prevDigest{k.acct, k.region}
		if free := g.free[pk]; len(free) > 0 {
			s, g.free[pk] = free[len(free)-1], free[:len(free)-1]
		} else {
			s = &slotBuf{}
		}
		s.oldest, s.newest = t, t
		g.slots[k] = s
	}
	g.buffered++
	g.peak = max(g.peak, g.buffered)
	s.data = append(s.data, g.enc...)
	s.ends = append(s.ends, len(s.data))
	s.oldest, s.newest = min(s.oldest, t), max(s.newest, t)
}

// flush writes every slot that starts before the Unix time before: no later event can be
// delivered in it, since events are generated in time order, give or take the length of
// one episode, and delivery delays are positive.
func (g *gen) flush(before int64) error {
	var keys []slotKey
	for k := range g.slots {
		if k.slot*slotSeconds < before {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y slotKey) int {
		return cmp.Or(cmp.Compare(x.slot, y.slot), cmp.Compare(x.acct, y.acct), cmp.Compare(x.region, y.region))
	})
	for _, k := range keys {
		s := g.slots[k]
		if err := g.writeSlot(k, s); err != nil {
			return err
		}
		delete(g.slots, k)
		g.buffered -= len(s.ends)
		// Buffers are reused by the same account and region only: one grown by a busy
		// slot, handed to a quiet region, would hold memory for nothing.
		pk := prevDigest{k.acct, k.region}
		if len(g.free[pk]) < 8 {
			s.data, s.ends = s.data[:0], s.ends[:0]
			g.free[pk] = append(g.free[pk], s)
		}
	}
	if g.opts.Digests {
		return g.flushDigests(before)
	}
	return nil
}

// writeSlot writes one slot as one or more files, records shuffled as CloudTrail does.
func (g *gen) writeSlot(k slotKey, s *slotBuf) error {
	n := len(s.ends)
	g.order = g.order[:0]
	for i := range n {
		g.order = append(g.order, i)
	}
	g.r.Shuffle(n, func(i, j int) { g.order[i], g.order[j] = g.order[j], g.order[i] })
	acct := g.w.accounts[k.acct]
	delivered := time.Unix((k.slot+1)*slotSeconds, 0).UTC()
	for lo := 0; lo < n; lo += g.opts.MaxPerFile {
		hi := min(n, lo+g.opts.MaxPerFile)
		g.doc = append(g.doc[:0], `{"Records":[`...)
		for i, idx := range g.order[lo:hi] {
			if i > 0 {
				g.doc = append(g.doc, ',')
			}
			start := 0
			if idx > 0 {
				start = s.ends[idx-1]
			}
			g.doc = append(g.doc, s.data[start:s.ends[idx]]...)
		}
		g.doc = append(g.doc, "]}"...)
		g.zbuf.Reset()
		g.zw.Reset(&g.zbuf)
		if _, err := g.zw.Write(g.doc); err != nil {
			return fmt.Errorf("compressing: %w", err)
		}
		if err := g.zw.Close(); err != nil {
			return fmt.Errorf("compressing: %w", err)
		}
		name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", acct.id, k.region, delivered.Format("20060102T1504Z"), g.r.str(mixedAlnum, 16))
		p := path.Join("AWSLogs", acct.id, "CloudTrail", k.region, delivered.Format("2006/01/02"), name)
		if err := g.sink.WriteFile(p, g.zbuf.Bytes()); err != nil {
			return err
		}
		g.sum.Files++
		g.sum.RawBytes += int64(len(g.doc))
		g.sum.GzipBytes += int64(g.zbuf.Len())
		if g.opts.Digests {
			sum := sha256.Sum256(g.doc)
			dk := digestKey{k.acct, k.region, delivered.Truncate(time.Hour).Unix()}
			d := g.digests[dk]
			if d == nil {
				d = &digestAcc{}
				g.digests[dk] = d
			}
			d.files = append(d.files, digestFile{p, hex.EncodeToString(sum[:]), s.oldest, s.newest})
		}
	}
	return nil
}

type digestKey struct {
	acct   int
	region string
	hour   int64 // Unix seconds at the start of the hour
}

type digestFile struct {
	path           string
	hash           string
	oldest, newest int64
}

type digestAcc struct{ files []digestFile }

// flushDigests writes the digest of every hour whose files have all been written. Like
// CloudTrail, each digest names its predecessor in the same account and region.
func (g *gen) flushDigests(before int64) error {
	var keys []digestKey
	for k := range g.digests {
		if k.hour+3600 <= before {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y digestKey) int {
		return cmp.Or(cmp.Compare(x.hour, y.hour), cmp.Compare(x.acct, y.acct), cmp.Compare(x.region, y.region))
	})
	for _, k := range keys {
		d := g.digests[k]
		delete(g.digests, k)
		acct := g.w.accounts[k.acct]
		end := time.Unix(k.hour+3600, 0).UTC()
		bucket := g.w.org + "-cloudtrail-logs"
		name := fmt.Sprintf("%s_CloudTrail-Digest_%s_%s-trail_%s_%sZ.json.gz", acct.id, k.region, g.w.org, acct.regions[0], end.Add(time.Duration(g.r.IntN(600))*time.Second).Format("20060102T150405"))
		p := path.Join("AWSLogs", acct.id, "CloudTrail-Digest", k.region, end.Format("2006/01/02"), name)
		prevKey := prevDigest{k.acct, k.region}
		prev := g.prevDigest[prevKey]
		var w jw
		w.o("").s("awsAccountId", acct.id).ts("digestStartTime", time.Unix(k.hour, 0).UTC()).ts("digestEndTime", end)
		w.s("digestS3Bucket", bucket).s("digestS3Object", p).s("digestPublicKeyFingerprint", g.r.str(hexChars, 32)).s("digestSignatureAlgorithm", "SHA256withRSA")
		oldest, newest := int64(1<<62), int64(0)
		for _, f := range d.files {
			oldest, newest = min(oldest, f.oldest), max(newest, f.newest)
		}
		w.ts("newestEventTime", time.Unix(newest, 0).UTC()).ts("oldestEventTime", time.Unix(oldest, 0).UTC())
		if prev.path != "" {
			w.s("previousDigestS3Bucket", bucket).s("previousDigestS3Object", prev.path).s("previousDigestHashValue", prev.hash).s("previousDigestHashAlgorithm", "SHA-256").s("previousDigestSignature", g.r.str(hexChars, 64))
		} else {
			w.null("previousDigestS3Bucket").null("previousDigestS3Object").null("previousDigestHashValue").null("previousDigestHashAlgorithm").null("previousDigestSignature")
		}
		w.a("logFiles")
		for _, f := range d.files {
			w.o("").s("s3Bucket", bucket).s("s3Object", f.path).s("hashValue", f.hash).s("hashAlgorithm", "SHA-256")
			w.ts("newestEventTime", time.Unix(f.newest, 0).UTC()).ts("oldestEventTime", time.Unix(f.oldest, 0).UTC()).c()
		}
		w.ca().c()
		sum := sha256.Sum256(w.b)
		g.prevDigest[prevKey] = digestFile{path: p, hash: hex.EncodeToString(sum[:])}
		g.zbuf.Reset()
		g.zw.Reset(&g.zbuf)
		if _, err := g.zw.Write(w.b); err != nil {
			return fmt.Errorf("compressing: %w", err)
		}
		if err := g.zw.Close(); err != nil {
			return fmt.Errorf("compressing: %w", err)
		}
		if err := g.sink.WriteFile(p, g.zbuf.Bytes()); err != nil {
			return err
		}
		g.sum.DigestFiles++
	}
	return nil
}

// prevDigest names an account and region: the chain of digests, and the reuse of buffers.
type prevDigest struct {
	acct   int
	region string
}

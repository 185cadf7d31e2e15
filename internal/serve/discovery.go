package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trailhound/trailhound/internal/source"
	"github.com/trailhound/trailhound/internal/store"
)

// checkpointBlob names the store blob of the listings' checkpoints.
const checkpointBlob = "checkpoints"

// resumeMargin is how far before the last object of a folder a listing resumes: CloudTrail
// names files by the minute of delivery, and two files of one minute sort by a random
// suffix. The ledger keeps the files listed again from being read twice.
const resumeMargin = 5 * time.Minute

// checkpoints says where each listing resumes — per account and region folder of a trail,
// so accounts can be split across processes — and which objects must be read again. The
// part committed is what the store holds; items in flight (handed to a batch, not yet
// committed) hold the resume point back to them.
type checkpoints struct {
	mu sync.Mutex
	// Resume is, per folder, the key its listing resumes from (ResumeKey of it).
	Resume map[string]string `json:"resume"`
	// Retry are objects whose read failed and that are tried again at each listing.
	Retry map[string]source.S3Object `json:"retry"`

	latest   map[string]string // folder -> latest key done since the last commit
	inflight map[string]flight // object URL -> where it was found
	recent   map[string]bool   // objects done by this process (not offered again)
}

// flight is an object handed to a batch: its key and the listing folder it was found in
// ("" for a notification or a retry).
type flight struct{ folder, key string }

func loadCheckpoints(st *store.Store) (*checkpoints, error) {
	c := &checkpoints{Resume: map[string]string{}, Retry: map[string]source.S3Object{}, latest: map[string]string{},
		inflight: map[string]flight{}, recent: map[string]bool{}}
	b, _, err := st.Blob(checkpointBlob)
	if err != nil {
		return nil, err
	}
	if len(b) > 0 {
		if err := json.Unmarshal(b, c); err != nil {
			return nil, fmt.Errorf("reading the listing checkpoints of the store: %w", err)
		}
	}
	if c.Resume == nil {
		c.Resume = map[string]string{}
	}
	if c.Retry == nil {
		c.Retry = map[string]source.S3Object{}
	}
	return c, nil
}

// claim reports whether the object should be offered to a batch: not in flight, not done
// by this process, not stored; it is then in flight, found in folder.
func (c *checkpoints) claim(o source.S3Object, folder string, stored func(source.S3Object) bool) bool {
	url := o.URL()
	c.mu.Lock()
	_, busy := c.inflight[url]
	if busy || c.recent[url] {
		c.mu.Unlock()
		return false
	}
	c.inflight[url] = flight{folder: folder, key: o.Key}
	c.mu.Unlock()
	if stored(o) {
		c.mu.Lock()
		delete(c.inflight, url)
		c.recent[url] = true
		c.mu.Unlock()
		return false
	}
	return true
}

// startAfter is where the listing of folder resumes.
func (c *checkpoints) startAfter(folder string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Resume[folder]
}

// retries are the objects to read again.
func (c *checkpoints) retries() []source.S3Object {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]source.S3Object, 0, len(c.Retry))
	for _, o := range c.Retry {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b source.S3Object) int {
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
	return out
}

// done records that an item was read (or needs no read: gone, too large).
func (c *checkpoints) done(it *item) {
	if it.obj == nil {
		return
	}
	url := it.obj.URL()
	c.mu.Lock()
	defer c.mu.Unlock()
	folder := it.folder
	delete(c.inflight, url)
	delete(c.Retry, url)
	if len(c.recent) > 200_000 {
		clear(c.recent) // the ledger still says what is stored
	}
	c.recent[url] = true
	if folder != "" && it.obj.Key > c.latest[folder] {
		c.latest[folder] = it.obj.Key
	}
}

// retry records that an item must be read again.
func (c *checkpoints) retry(it *item) {
	if it.obj == nil {
		return
	}
	url := it.obj.URL()
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inflight, url)
	c.Retry[url] = *it.obj
}

// resume returns the resume points to commit: after the latest key done in each folder,
// unless an object of the folder is still in flight, from which it then resumes.
func (c *checkpoints) resume() map[string]string {
	out := make(map[string]string, len(c.Resume))
	for f, k := range c.Resume {
		out[f] = k
	}
	for f, k := range c.latest {
		if r := source.ResumeKey(k, resumeMargin); r > out[f] {
			out[f] = r
		}
	}
	for _, f := range c.inflight {
		if f.folder == "" {
			continue
		}
		if r := source.ResumeKey(f.key, resumeMargin); r < out[f.folder] {
			out[f.folder] = r
		}
	}
	return out
}

// encode is the checkpoint blob of the next commit.
func (c *checkpoints) encode() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, _ := json.Marshal(struct {
		Resume map[string]string          `json:"resume"`
		Retry  map[string]source.S3Object `json:"retry"`
	}{c.resume(), c.Retry})
	return b
}

// committed makes the resume points of encode the committed ones.
func (c *checkpoints) committed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Resume = c.resume()
	clear(c.latest)
}

// trail lists an S3 prefix for new objects.
type trail struct {
	s       *Service
	url     source.S3URL
	poll    time.Duration
	folders []string
	found   time.Time // when folders were last discovered
	flat    bool      // folders is the trail's prefix alone: no layout found under it
	// cursor is, per folder whose last listing stopped at listCap, the last object offered:
	// the next step of a backlog lists on from it.
	cursor map[string]string
}

// run lists at start and then every poll interval until ctx is done. Listing errors are
// logged and counted, and the next poll tries again.
func (t *trail) run(ctx context.Context) error {
	for {
		more, recent, err := t.list(ctx)
		if err != nil && ctx.Err() == nil {
			t.s.m.listErrors.WithLabelValues(t.url.String()).Inc()
			t.s.log.Warn("listing failed; the next poll tries again", "trail", t.url.String(), "err", err)
		}
		if more && ctx.Err() == nil {
			continue // a backlog: the next step at once
		}
		if recent && (t.poll < 0 || t.poll > 2*time.Second) {
			// Objects written while the folders were listed: list again shortly.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(2 * time.Second):
			}
			continue
		}
		if t.poll < 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(t.poll):
		}
	}
}

// list offers every new object of the trail's folders, and the objects to retry; more is
// set when a folder held more than one listing takes (a backlog), recent when objects
// written during the listing were left for the next.
func (t *trail) list(ctx context.Context) (more, recent bool, err error) {
	s := t.s
	// Account and region folders are looked for at every poll: a region appears when an
	// attacker first uses it, exactly when it matters. It costs two list requests per
	// account (its folder, its CloudTrail folder) and two more for the trail.
	var errs []error
	{
		folders, err := source.TrailPrefixes(ctx, s.opts.S3, t.url, s.filter)
		if folders == nil && err != nil {
			return false, false, err
		}
		errs = append(errs, err)
		t.folders, t.found = folders, time.Now()
		// No folder of the CloudTrail layout (yet: an empty bucket, or another layout):
		// the prefix is listed whole at every poll, without a resume point (its keys need
		// not grow in delivery order), and the folders are looked for again next time.
		t.flat = len(folders) == 1 && folders[0] == t.url.Prefix
		if p, ok := source.ParseTrailPath(t.url.Prefix); ok && p.Region != "" {
			t.flat = false
		}
	}
	offer := func(o source.S3Object, folder string) error {
		if s.filter.NameExcluded(o.Key) || !s.cp.claim(o, folder, s.stored) {
			return nil
		}
		name := o.URL()
		it := item{obj: &o, name: name, trail: t, folder: folder, since: o.ModTime}
		select {
		case s.work <- it:
			s.m.listed.WithLabelValues(t.url.String()).Inc()
			s.m.observeNewest(o.ModTime)
			return nil
		case <-ctx.Done():
			s.cp.mu.Lock()
			delete(s.cp.inflight, name)
			s.cp.mu.Unlock()
			return ctx.Err()
		}
	}
	for _, o := range s.cp.retries() {
		if o.Bucket == t.url.Bucket {
			if err := offer(o, ""); err != nil {
				return false, false, err
			}
		}
	}
	// The new objects of every folder are offered in delivery order (the time in their
	// names), not folder after folder: on a backlog, folder after folder would hand the
	// engine one region's days before another's, and their events would arrive late.
	var found []listedObject
	horizon := ""
	// Objects written while the folders are being listed are left to the next poll: one
	// folder's listing would show them and another's not, and the later objects of one
	// would be offered before the earlier ones of the other. S3 times are to the second.
	cut := time.Now().Truncate(time.Second).Add(-time.Second)
	capped := map[string]bool{}
	for _, f := range t.folders {
		from := s.cp.startAfter(f)
		if c := t.cursor[f]; c > from {
			from = c // a backlog: on from where the last step stopped
		}
		folder := f
		if t.flat {
			from, folder = "", ""
		}
		if from == "" && !s.filter.Since.IsZero() {
			// A first listing with --since starts at the day folder of since, less the slack.
			if tp, ok := source.ParseTrailPath(f); ok && tp.Region != "" && !tp.DayFolder() {
				from = f + s.filter.Since.Add(-source.DeliverySlack).UTC().Format("2006/01/02/")
			}
		}
		n := 0
		err := source.ListS3From(ctx, s.opts.S3, t.url.Bucket, f, from, func(o source.S3Object) error {
			if source.S3Input(nil, o).Kind != source.KindLog || len(o.Key) == 0 || o.Key[len(o.Key)-1] == '/' {
				return nil
			}
			if !o.ModTime.IsZero() && !o.ModTime.Before(cut) {
				recent = true
				return nil
			}
			if n == s.cfg.Batch.ListMax {
				return errListCap
			}
			n++
			found = append(found, listedObject{obj: o, folder: folder, listed: f, stamp: deliveryStamp(o)})
			return nil
		})
		if errors.Is(err, errListCap) {
			capped[f] = true
			// More next time: nothing delivered after this folder's last object listed is
			// offered before it.
			if last := found[len(found)-1].stamp; horizon == "" || last < horizon {
				horizon = last
			}
			err = nil
		}
		if ctx.Err() != nil {
			return false, false, ctx.Err()
		}
		// A folder that cannot be listed does not hold the others back.
		errs = append(errs, err)
	}
	slices.SortStableFunc(found, func(a, b listedObject) int {
		if a.stamp != b.stamp {
			return strings.Compare(a.stamp, b.stamp)
		}
		return strings.Compare(a.obj.Key, b.obj.Key)
	})
	clear(t.cursor)
	for _, l := range found {
		if horizon != "" && l.stamp > horizon {
			break
		}
		if err := offer(l.obj, l.folder); err != nil {
			return false, false, err
		}
		if capped[l.listed] {
			t.cursor[l.listed] = l.obj.Key
		}
	}
	return horizon != "", recent, errors.Join(errs...)
}

var errListCap = errors.New("listing cap reached")

// listedObject is an object a poll found.
type listedObject struct {
	obj    source.S3Object
	folder string // its checkpoint folder ("" when the trail is listed whole)
	listed string // the folder listed
	stamp  string // delivery time, sortable
}

// deliveryStamp is when CloudTrail delivered an object: the time in a log file's name
// (20240310T0105Z), else its modification time in the same form.
func deliveryStamp(o source.S3Object) string {
	name := o.Key[strings.LastIndex(o.Key, "/")+1:]
	if parts := strings.Split(name, "_"); len(parts) >= 5 && parts[1] == "CloudTrail" {
		if _, err := time.Parse("20060102T1504Z", parts[3]); err == nil {
			return parts[3]
		}
	}
	return o.ModTime.UTC().Format("20060102T1504Z")
}

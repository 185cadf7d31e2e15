package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3Scheme starts an argument that names an S3 bucket and prefix: s3://bucket/prefix.
const S3Scheme = "s3://"

// S3Client is the part of the S3 API trailhound calls (*s3.Client has it). Implementations
// must be safe for concurrent use.
type S3Client interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3URL is a bucket and a key prefix.
type S3URL struct {
	Bucket, Prefix string
}

// String returns s3://bucket/prefix.
func (u S3URL) String() string { return S3Scheme + u.Bucket + "/" + u.Prefix }

// IsS3 reports whether arg names S3 (s3://...).
func IsS3(arg string) bool { return strings.HasPrefix(arg, S3Scheme) }

// ParseS3URL parses s3://bucket[/prefix]. The prefix is used as given: "AWSLogs" also lists
// "AWSLogsOld/"; end it with a slash to name a folder only.
func ParseS3URL(arg string) (S3URL, error) {
	if !IsS3(arg) {
		return S3URL{}, fmt.Errorf("%q is not an s3:// URL", arg)
	}
	rest := strings.TrimPrefix(arg, S3Scheme)
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return S3URL{}, fmt.Errorf("%q names no bucket (want s3://bucket/prefix)", arg)
	}
	return S3URL{Bucket: bucket, Prefix: prefix}, nil
}

// S3Config says how to reach S3. Credentials come from the SDK's default chain (environment,
// shared config and credentials files, SSO, web identity, ECS and EC2 roles); the endpoint
// from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL when set.
type S3Config struct {
	// Profile names a profile of the shared config files ("" : AWS_PROFILE or default).
	Profile string
	// Region is the client's region ("": AWS_REGION, the profile's, else us-east-1).
	Region string
	// PathStyle addresses buckets as a path (http://host/bucket/key), as S3-compatible
	// servers need; nil means: when an endpoint variable is set.
	PathStyle *bool
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// LoadAWSConfig loads the SDK configuration of c: the default credential chain, the profile
// and the region.
func LoadAWSConfig(ctx context.Context, c S3Config) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // S3 answers for any bucket's region through redirects in the error
	}
	return cfg, nil
}

// NewS3Client returns an S3 client for c.
func NewS3Client(ctx context.Context, c S3Config) (*s3.Client, error) {
	cfg, err := LoadAWSConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	pathStyle := getenv("AWS_ENDPOINT_URL_S3") != "" || getenv("AWS_ENDPOINT_URL") != ""
	if c.PathStyle != nil {
		pathStyle = *c.PathStyle
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
		// S3-compatible servers often return no checksum: the SDK would log a line per read.
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

// S3Object is one object of a listing or a notification.
type S3Object struct {
	Bucket, Key string
	Size        int64
	// ModTime is when it was written (zero when a notification did not say).
	ModTime time.Time
	// ETag identifies its content (without quotes).
	ETag string
}

// URL returns s3://bucket/key, the object's name in inputs, the file ledger and reports.
func (o S3Object) URL() string { return S3Scheme + o.Bucket + "/" + o.Key }

// Info describes the object as a file (name, size, modification time), for the file ledger.
func (o S3Object) Info() fs.FileInfo { return objectInfo{o} }

type objectInfo struct{ o S3Object }

func (i objectInfo) Name() string       { return path.Base(i.o.Key) }
func (i objectInfo) Size() int64        { return i.o.Size }
func (i objectInfo) Mode() fs.FileMode  { return 0o444 }
func (i objectInfo) ModTime() time.Time { return i.o.ModTime }
func (i objectInfo) IsDir() bool        { return false }
func (i objectInfo) Sys() any           { return objectTag(i.o.ETag) }

// objectTag is what Info().Sys() holds: the object's ETag, which the file ledger keys an
// object's version on (a notification gives no modification time, a listing does).
type objectTag string

// StampTag returns the ETag.
func (t objectTag) StampTag() string { return string(t) }

// S3Input is the input that reads o through c.
func S3Input(c S3Client, o S3Object) Input {
	if isDigest(o.Key) {
		return Input{Name: o.URL(), Kind: KindDigest, Info: o.Info()}
	}
	return Input{Name: o.URL(), Kind: KindLog, Info: o.Info(), open: func(ctx context.Context) (io.ReadCloser, error) {
		return OpenS3(ctx, c, o)
	}}
}

// OpenS3 reads an object. A missing object is an error that errors.Is fs.ErrNotExist.
func OpenS3(ctx context.Context, c S3Client, o S3Object) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key)}
	out, err := c.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("getting %s: %w", o.URL(), S3Error(err))
	}
	return out.Body, nil
}

// S3Error makes the errors of the S3 API a caller branches on testable with errors.Is:
// fs.ErrNotExist for a missing key or bucket, fs.ErrPermission for access denied.
func S3Error(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.ErrorCode() {
	case "NoSuchKey", "NoSuchBucket", "NotFound", "PreconditionFailed":
		return &codedError{err: err, is: fs.ErrNotExist}
	case "AccessDenied", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		return &codedError{err: err, is: fs.ErrPermission}
	}
	return err
}

type codedError struct {
	err error
	is  error
}

func (e *codedError) Error() string        { return e.err.Error() }
func (e *codedError) Unwrap() []error      { return []error{e.err, e.is} }
func (e *codedError) Is(target error) bool { return target == e.is }

// ListS3 calls fn for every object under u, in key order, and skipped for each folder of
// the CloudTrail layout that f excludes (PathExcluded) or object it excludes by name. With
// a filter it lists the layout folder by folder (one request per account, region and day
// kept), so that a year-old bucket is not listed whole for a one-day question; without, it
// lists the prefix flat. A folder that cannot be listed goes to failed with its error (when
// failed returns nil the listing goes on); the first error of fn, skipped or failed, or of
// listing u itself, ends it.
func ListS3(ctx context.Context, c S3Client, u S3URL, f Filter, fn func(S3Object) error, skipped func(prefix string) error, failed func(prefix string, err error) error) error {
	l := lister{c: c, bucket: u.Bucket, f: f, fn: fn, skipped: skipped, failed: failed}
	if f.IsZero() {
		return l.flat(ctx, u.Prefix, "")
	}
	return l.walk(ctx, u.Prefix, true)
}

type lister struct {
	c       S3Client
	bucket  string
	f       Filter
	fn      func(S3Object) error
	skipped func(string) error
	failed  func(string, error) error
}

func (l *lister) object(o S3Object) error {
	if l.f.NameExcluded(o.Key) {
		return l.skip(o.Key)
	}
	return l.fn(o)
}

func (l *lister) skip(p string) error {
	if l.skipped == nil {
		return nil
	}
	return l.skipped(S3Scheme + l.bucket + "/" + p)
}

func (l *lister) fail(prefix string, err error, top bool) error {
	err = fmt.Errorf("listing %s: %w", S3Scheme+l.bucket+"/"+prefix, S3Error(err))
	if top || l.failed == nil {
		return err
	}
	return l.failed(S3Scheme+l.bucket+"/"+prefix, err)
}

// flat lists every key under prefix after startAfter.
func (l *lister) flat(ctx context.Context, prefix, startAfter string) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix)}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	p := s3.NewListObjectsV2Paginator(l.c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return l.fail(prefix, err, false)
		}
		for _, o := range page.Contents {
			if err := l.object(objectOf(l.bucket, o.Key, o.Size, o.LastModified, o.ETag)); err != nil {
				return err
			}
		}
	}
	return nil
}

// walk lists prefix one level at a time, leaving out the folders the filter excludes; a day
// folder of the layout is listed flat. top marks the prefix the user named: an error
// listing it ends the walk.
func (l *lister) walk(ctx context.Context, prefix string, top bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")}
	p := s3.NewListObjectsV2Paginator(l.c, in)
	// Entries are handed out in key order: objects and folders of one page interleaved.
	type entry struct {
		name   string
		folder bool
		obj    S3Object
	}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return l.fail(prefix, err, top)
		}
		top = false
		var entries []entry
		for _, o := range page.Contents {
			entries = append(entries, entry{name: aws.ToString(o.Key), obj: objectOf(l.bucket, o.Key, o.Size, o.LastModified, o.ETag)})
		}
		for _, cp := range page.CommonPrefixes {
			entries = append(entries, entry{name: aws.ToString(cp.Prefix), folder: true})
		}
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
		for _, e := range entries {
			var err error
			switch {
			case !e.folder:
				err = l.object(e.obj)
			case l.f.PathExcluded(e.name):
				err = l.skip(e.name)
			default:
				if tp, ok := ParseTrailPath(e.name); ok && tp.DayFolder() {
					err = l.flat(ctx, e.name, "")
				} else {
					err = l.walk(ctx, e.name, false)
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func objectOf(bucket string, key *string, size *int64, mod *time.Time, etag *string) S3Object {
	return S3Object{Bucket: bucket, Key: aws.ToString(key), Size: aws.ToInt64(size), ModTime: aws.ToTime(mod), ETag: strings.Trim(aws.ToString(etag), `"`)}
}

// checkS3 checks that the prefix of an argument can be listed.
func checkS3(ctx context.Context, c S3Client, u S3URL) error {
	if c == nil {
		return fmt.Errorf("reading %s: no S3 client configured", u)
	}
	_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(u.Bucket), Prefix: aws.String(u.Prefix), MaxKeys: aws.Int32(1)})
	if err != nil {
		return fmt.Errorf("reading %s: %w", u, S3Error(err))
	}
	return nil
}

// ListS3From calls fn for every object under prefix whose key sorts after startAfter, in
// key order (a live service resumes a listing where it stopped).
func ListS3From(ctx context.Context, c S3Client, bucket, prefix, startAfter string, fn func(S3Object) error) error {
	l := lister{c: c, bucket: bucket, fn: fn}
	return l.flat(ctx, prefix, startAfter)
}

// TrailPrefixes returns the folders of the CloudTrail layout under u that hold one account's
// logs of one region (…/CloudTrail/<region>/), leaving out those f excludes and digest
// folders, in key order; a live service keeps one checkpoint for each. A prefix with no
// such folder under it (not the CloudTrail layout) is its own single folder. Folders that
// cannot be listed (access denied) are left out, and their errors returned with the others.
func TrailPrefixes(ctx context.Context, c S3Client, u S3URL, f Filter) ([]string, error) {
	var out []string
	var errs []error
	var walk func(prefix string, depth int) error
	walk = func(prefix string, depth int) error {
		in := &s3.ListObjectsV2Input{Bucket: aws.String(u.Bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")}
		p := s3.NewListObjectsV2Paginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				err = fmt.Errorf("listing %s: %w", S3Scheme+u.Bucket+"/"+prefix, S3Error(err))
				if depth == 0 || ctx.Err() != nil {
					return err
				}
				// A folder denied to us does not hide the others.
				errs = append(errs, err)
				return nil
			}
			for _, cp := range page.CommonPrefixes {
				name := aws.ToString(cp.Prefix)
				tp, ok := ParseTrailPath(name)
				switch {
				case f.PathExcluded(name), tp.Digest:
				case ok && tp.Region != "":
					out = append(out, name)
				case ok || (!strings.Contains(name, "AWSLogs/") && depth < 4):
					if err := walk(name, depth+1); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if tp, ok := ParseTrailPath(u.Prefix); ok && tp.Region != "" && strings.HasSuffix(u.Prefix, "/") {
		return []string{u.Prefix}, nil
	}
	if err := walk(u.Prefix, 0); err != nil {
		return nil, err
	}
	if len(out) == 0 && len(errs) == 0 {
		out = []string{u.Prefix}
	}
	return out, errors.Join(errs...)
}

// ResumeKey is where to resume listing the folder of key after it was seen: a CloudTrail
// log file name resumes at the files delivered margin before it (a later listing may show
// files of the same minute that sort before it), any other key right after it.
func ResumeKey(key string, margin time.Duration) string {
	dir, name := path.Split(key)
	parts := strings.Split(name, "_")
	if len(parts) < 5 || parts[1] != "CloudTrail" {
		return key
	}
	t, err := time.Parse("20060102T1504Z", parts[3])
	if err != nil {
		return key
	}
	back := t.Add(-margin)
	// The day folder of the earlier time, when the margin crosses midnight.
	if tp, ok := ParseTrailPath(dir); ok && tp.DayFolder() {
		dayDir := strings.TrimSuffix(dir, fmt.Sprintf("%04d/%02d/%02d/", tp.Year, tp.Month, tp.Day))
		dir = dayDir + back.Format("2006/01/02/")
	}
	return dir + strings.Join(parts[:3], "_") + "_" + back.Format("20060102T1504Z")
}

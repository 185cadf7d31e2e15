package sink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/trailhound/trailhound/internal/signal"
)

// SignatureHeader carries the HMAC-SHA256 of the request body with the webhook's secret, as
// "sha256=<hex>" (the form GitHub uses); TimestampHeader the time it was sent (Unix
// seconds), also covered by the signature when present: the MAC is over
// "<timestamp>.<body>", so a captured request cannot be replayed later unnoticed.
const (
	SignatureHeader = "X-Trailhound-Signature-256"
	TimestampHeader = "X-Trailhound-Timestamp"
)

// Sign returns the signature header value of body sent at ts with secret.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Webhook POSTs each revision as one JSON object (the JSONL form of the signal) to a URL,
// signed when it has a secret, with the configured headers. A 2xx answer acknowledges it;
// anything else, or no answer, is a failure the outbox retries.
type Webhook struct {
	url     string
	secret  []byte
	headers map[string]string
	client  *http.Client
	now     func() time.Time
}

// NewWebhook returns a webhook sink; client nil means one with a 30 s timeout.
func NewWebhook(url string, secret []byte, headers map[string]string, client *http.Client) *Webhook {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Webhook{url: url, secret: secret, headers: headers, client: client, now: time.Now}
}

// Deliver posts the revisions one at a time, in order, stopping at the first failure.
func (w *Webhook) Deliver(ctx context.Context, revs []signal.Signal) (int, error) {
	for i, s := range revs {
		body, err := s.MarshalJSON()
		if err != nil {
			return i, err
		}
		if err := w.post(ctx, body, "signal "+s.ID); err != nil {
			return i, err
		}
	}
	return len(revs), nil
}

func (w *Webhook) post(ctx context.Context, body []byte, what string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("posting %s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "trailhound")
	for k, v := range w.headers {
		req.Header.Set(k, v)
	}
	if len(w.secret) > 0 {
		ts := strconv.FormatInt(w.now().Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(SignatureHeader, Sign(w.secret, ts, body))
	}
	return send(w.client, req, what)
}

// send does a request and turns a non-2xx answer into an error (the start of the body says
// why, as servers write it; the URL is not repeated: it may hold a token).
func send(c *http.Client, req *http.Request, what string) error {
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("posting %s: %w", what, redactURL(err))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("posting %s: HTTP %d: %q", what, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

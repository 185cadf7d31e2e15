// Package sqsfake is an in-process Amazon SQS server for tests: it speaks the JSON protocol
// the AWS SDK for Go v2 uses (POST with X-Amz-Target: AmazonSQS.<Action>), so the real SDK
// client is exercised end to end — requests, long polling, receipt handles, visibility
// timeouts, batch deletes and the MD5 checks the SDK makes of bodies. No SQS emulator that
// speaks this protocol can be installed here (goaws speaks the older Query protocol).
//
// It implements CreateQueue, GetQueueUrl, SendMessage, ReceiveMessage, DeleteMessage,
// DeleteMessageBatch, ChangeMessageVisibility, ChangeMessageVisibilityBatch and
// GetQueueAttributes (the message counts),
// for standard queues. A Server is safe for concurrent use; Fail injects errors.
package sqsfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a fake SQS endpoint.
type Server struct {
	// URL is the endpoint to give the SDK client (BaseEndpoint).
	URL string
	srv *httptest.Server

	mu     sync.Mutex
	cond   *sync.Cond
	queues map[string]*queue
	seq    int
	fail   func(action string) (status int, code string)
	now    func() time.Time
}

type queue struct {
	name       string
	visibility time.Duration
	msgs       []*message
	received   int // receipts of messages, counting each redelivery
}

type message struct {
	id, body  string
	handle    string
	invisible time.Time // not received before this time
	sent      time.Time
	receives  int
}

// New starts a server; Close stops it.
func New() *Server {
	s := &Server{queues: map[string]*queue{}, now: time.Now}
	s.cond = sync.NewCond(&s.mu)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	s.queues = map[string]*queue{}
	s.cond.Broadcast()
	s.mu.Unlock()
	s.srv.Close()
}

// CreateQueue makes a queue and returns its URL.
func (s *Server) CreateQueue(name string, visibility time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queues[name] == nil {
		s.queues[name] = &queue{name: name, visibility: visibility}
	}
	return s.queueURL(name)
}

func (s *Server) queueURL(name string) string { return s.URL + "/000000000000/" + name }

// Send adds a message to a queue, as a producer would.
func (s *Server) Send(name, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[name]
	if q == nil {
		panic("sqsfake: no queue " + name)
	}
	s.seq++
	q.msgs = append(q.msgs, &message{id: fmt.Sprintf("msg-%d", s.seq), body: body, sent: s.now()})
	s.cond.Broadcast()
}

// Depth returns the messages in a queue: all, and those received and not yet visible again.
func (s *Server) Depth(name string) (all, inFlight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[name]
	if q == nil {
		return 0, 0
	}
	now := s.now()
	for _, m := range q.msgs {
		if m.invisible.After(now) {
			inFlight++
		}
	}
	return len(q.msgs), inFlight
}

// Received counts the receipts of a queue's messages: each message once per delivery.
func (s *Server) Received(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[name]; q != nil {
		return q.received
	}
	return 0
}

// Fail makes the server answer actions with an error while fn returns a non-zero status
// (fn is called with the action name, "ReceiveMessage" say); nil stops failing.
func (s *Server) Fail(fn func(action string) (status int, code string)) {
	s.mu.Lock()
	s.fail = fn
	s.mu.Unlock()
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("x-amzn-query-error", code+";Sender")
	writeJSON(w, status, errorBody{Type: "com.amazonaws.sqs#" + code, Message: msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	action, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	if r.Method != http.MethodPost || !ok {
		writeError(w, http.StatusBadRequest, "InvalidAction", "want POST with X-Amz-Target: AmazonSQS.<Action>")
		return
	}
	var in map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "MalformedInput", err.Error())
		return
	}
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		if status, code := fail(action); status != 0 {
			writeError(w, status, code, "injected failure")
			return
		}
	}
	str := func(k string) string {
		var v string
		json.Unmarshal(in[k], &v)
		return v
	}
	num := func(k string, def int) int {
		var v int
		if json.Unmarshal(in[k], &v) != nil {
			return def
		}
		return v
	}
	if action == "CreateQueue" {
		writeJSON(w, 200, map[string]string{"QueueUrl": s.CreateQueue(str("QueueName"), 30*time.Second)})
		return
	}
	if action == "GetQueueUrl" {
		s.mu.Lock()
		q := s.queues[str("QueueName")]
		s.mu.Unlock()
		if q == nil {
			writeError(w, 400, "QueueDoesNotExist", "no queue "+str("QueueName"))
			return
		}
		writeJSON(w, 200, map[string]string{"QueueUrl": s.queueURL(q.name)})
		return
	}
	qurl := str("QueueUrl")
	name := qurl[strings.LastIndex(qurl, "/")+1:]
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[name]
	if q == nil {
		writeError(w, 400, "QueueDoesNotExist", "no queue at "+qurl)
		return
	}
	switch action {
	case "SendMessage":
		body := str("MessageBody")
		s.seq++
		id := fmt.Sprintf("msg-%d", s.seq)
		q.msgs = append(q.msgs, &message{id: id, body: body, sent: s.now()})
		s.cond.Broadcast()
		writeJSON(w, 200, map[string]string{"MessageId": id, "MD5OfMessageBody": md5Hex(body)})
	case "ReceiveMessage":
		max := num("MaxNumberOfMessages", 1)
		wait := time.Duration(num("WaitTimeSeconds", 0)) * time.Second
		vis := time.Duration(num("VisibilityTimeout", -1)) * time.Second
		if vis < 0 {
			vis = q.visibility
		}
		deadline := s.now().Add(wait)
		var out []map[string]any
		for {
			now := s.now()
			for _, m := range q.msgs {
				if len(out) == max {
					break
				}
				if m.invisible.After(now) {
					continue
				}
				s.seq++
				m.handle = fmt.Sprintf("%s#%d", m.id, s.seq)
				m.invisible = now.Add(vis)
				m.receives++
				q.received++
				out = append(out, map[string]any{"MessageId": m.id, "ReceiptHandle": m.handle, "Body": m.body, "MD5OfBody": md5Hex(m.body),
					"Attributes": map[string]string{"SentTimestamp": strconv.FormatInt(m.sent.UnixMilli(), 10), "ApproximateReceiveCount": strconv.Itoa(m.receives)}})
			}
			if len(out) > 0 || !now.Before(deadline) || s.queues[name] != q || r.Context().Err() != nil {
				break
			}
			// Wake at the deadline, or when a message is sent or becomes visible again.
			t := time.AfterFunc(min(deadline.Sub(now), 50*time.Millisecond), func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
			s.cond.Wait()
			t.Stop()
		}
		writeJSON(w, 200, map[string]any{"Messages": out})
	case "DeleteMessage":
		if !q.remove(str("ReceiptHandle")) {
			writeError(w, 400, "ReceiptHandleIsInvalid", "unknown receipt handle")
			return
		}
		writeJSON(w, 200, map[string]any{})
	case "DeleteMessageBatch":
		var entries []struct{ Id, ReceiptHandle string }
		json.Unmarshal(in["Entries"], &entries)
		ok, failed := []map[string]any{}, []map[string]any{}
		for _, e := range entries {
			if q.remove(e.ReceiptHandle) {
				ok = append(ok, map[string]any{"Id": e.Id})
			} else {
				failed = append(failed, map[string]any{"Id": e.Id, "Code": "ReceiptHandleIsInvalid", "SenderFault": true, "Message": "unknown receipt handle"})
			}
		}
		writeJSON(w, 200, map[string]any{"Successful": ok, "Failed": failed})
	case "ChangeMessageVisibility":
		h := str("ReceiptHandle")
		for _, m := range q.msgs {
			if m.handle == h {
				m.invisible = s.now().Add(time.Duration(num("VisibilityTimeout", 0)) * time.Second)
				s.cond.Broadcast()
				writeJSON(w, 200, map[string]any{})
				return
			}
		}
		writeError(w, 400, "ReceiptHandleIsInvalid", "unknown receipt handle")
	case "ChangeMessageVisibilityBatch":
		var entries []struct {
			Id, ReceiptHandle string
			VisibilityTimeout int
		}
		json.Unmarshal(in["Entries"], &entries)
		ok, failed := []map[string]any{}, []map[string]any{}
	entry:
		for _, e := range entries {
			for _, m := range q.msgs {
				if m.handle == e.ReceiptHandle && e.ReceiptHandle != "" {
					m.invisible = s.now().Add(time.Duration(e.VisibilityTimeout) * time.Second)
					ok = append(ok, map[string]any{"Id": e.Id})
					continue entry
				}
			}
			failed = append(failed, map[string]any{"Id": e.Id, "Code": "ReceiptHandleIsInvalid", "SenderFault": true, "Message": "unknown receipt handle"})
		}
		s.cond.Broadcast()
		writeJSON(w, 200, map[string]any{"Successful": ok, "Failed": failed})
	case "GetQueueAttributes":
		now := s.now()
		inFlight := 0
		for _, m := range q.msgs {
			if m.invisible.After(now) {
				inFlight++
			}
		}
		writeJSON(w, 200, map[string]any{"Attributes": map[string]string{
			"ApproximateNumberOfMessages":           strconv.Itoa(len(q.msgs) - inFlight),
			"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inFlight)}})
	default:
		writeError(w, 400, "InvalidAction", "sqsfake does not implement "+action)
	}
}

// remove deletes the message with the receipt handle h (the latest one given for it).
func (q *queue) remove(h string) bool {
	for i, m := range q.msgs {
		if m.handle == h && h != "" {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			return true
		}
	}
	return false
}

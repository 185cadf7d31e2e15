package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trailhound/trailhound/internal/signal"
)

// Slack posts each revision to a Slack incoming webhook as a message a responder reads at a
// glance: level and status, the rule's title, the actor, account and regions, when, the
// summary, and a link to the signal. Incoming webhooks take one message per request.
type Slack struct {
	url    string
	link   string
	client *http.Client
}

// NewSlack returns a Slack sink posting to an incoming webhook URL; link, when not "", is
// the address of a signal with {id} replaced by its id. client nil means a 30 s timeout.
func NewSlack(webhookURL, link string, client *http.Client) *Slack {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Slack{url: webhookURL, link: link, client: client}
}

// slackMessage is the body of an incoming webhook request.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type   string      `json:"type"`
	Text   *slackText  `json:"text,omitempty"`
	Fields []slackText `json:"fields,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

var levelEmoji = map[signal.Level]string{
	signal.LevelCritical: ":red_circle:", signal.LevelHigh: ":large_orange_circle:", signal.LevelMedium: ":large_yellow_circle:",
	signal.LevelLow: ":large_blue_circle:", signal.LevelInformational: ":white_circle:",
}

// mrkdwn escapes text for Slack's markup as Slack documents it: &, < and >, so that
// attacker text cannot make a link, a mention (<!channel>) or a command.
func mrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// code shows an identifier verbatim (no emphasis applied to user_names_like_this): in a
// code span, with backticks, which would end it, replaced by a look-alike.
func code(s string) string {
	if s == "" {
		return "-"
	}
	return "`" + mrkdwn(strings.ReplaceAll(s, "`", "\u02cb")) + "`"
}

// SlackMessage is the message of one revision.
func SlackMessage(s signal.Signal, link string) ([]byte, error) {
	status, rev := s.Lifecycle()
	head := fmt.Sprintf("%s *%s* %s — %s", levelEmoji[s.Level], strings.ToUpper(s.Level.String()), status, mrkdwn(s.Title))
	if rev > 1 {
		head += fmt.Sprintf(" (revision %d)", rev)
	}
	when := "unknown time"
	if !s.FirstSeen.IsZero() {
		when = s.FirstSeen.UTC().Format(time.RFC3339)
		if s.LastSeen.After(s.FirstSeen) {
			when += " → " + s.LastSeen.UTC().Format(time.RFC3339)
		}
	}
	regions := strings.Join(s.Regions, ", ")
	fields := []slackText{
		{Type: "mrkdwn", Text: "*Actor*\n" + code(s.Actor)},
		{Type: "mrkdwn", Text: "*Account*\n" + code(s.AccountID)},
		{Type: "mrkdwn", Text: "*Regions*\n" + code(regions)},
		{Type: "mrkdwn", Text: fmt.Sprintf("*When*\n%s (%d events)", when, s.EventCount)},
	}
	body := mrkdwn(s.Summary)
	if s.SupersededBy != "" {
		body = fmt.Sprintf("Superseded by signal %s: an earlier event of this actor arrived late and opens that one, with this evidence.\n", s.SupersededBy) + body
	}
	if link != "" {
		body += fmt.Sprintf("\n<%s|Signal %s>", strings.ReplaceAll(link, "{id}", url.PathEscape(s.ID)), s.ID)
	} else {
		body += "\nSignal " + s.ID
	}
	msg := slackMessage{
		Text: mrkdwn(fmt.Sprintf("%s %s: %s (%s)", strings.ToUpper(s.Level.String()), status, s.Title, s.ID)),
		Blocks: []slackBlock{
			{Type: "section", Text: &slackText{Type: "mrkdwn", Text: head}},
			{Type: "section", Fields: fields},
			{Type: "section", Text: &slackText{Type: "mrkdwn", Text: body}},
		},
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(msg); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Deliver posts one message per revision, in order, stopping at the first failure.
func (sl *Slack) Deliver(ctx context.Context, revs []signal.Signal) (int, error) {
	for i, s := range revs {
		body, err := SlackMessage(s, sl.link)
		if err != nil {
			return i, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, sl.url, bytes.NewReader(body))
		if err != nil {
			return i, fmt.Errorf("posting signal %s to Slack: %w", s.ID, redactURL(err))
		}
		req.Header.Set("Content-Type", "application/json")
		if err := send(sl.client, req, "signal "+s.ID+" to Slack"); err != nil {
			return i, err
		}
	}
	return len(revs), nil
}

// redactURL drops the URL from an error of the HTTP client: webhook URLs are secrets.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

package detect

import (
	"errors"
	"strings"
	"testing"

	"github.com/trailhound/trailhound/internal/event"
	"github.com/trailhound/trailhound/internal/sigma"
	"github.com/valyala/fastjson"
)

// ruleHeader is prepended to every detection of the table tests.
const ruleHeader = "title: t\nid: 00000000-0000-0000-0000-000000000001\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n"

// compileDetection parses a rule whose detection section is det (indented by two spaces in
// the rule) and compiles it.
func compileDetection(t testing.TB, det string, opts Options) (*Engine, error) {
	t.Helper()
	var b strings.Builder
	b.WriteString(ruleHeader)
	for _, line := range strings.Split(strings.TrimRight(det, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	f, err := sigma.Parse("rule.yml", []byte(b.String()))
	if err != nil {
		t.Fatalf("parsing rule:\n%s\nerror: %v", b.String(), err)
	}
	if len(f.Rules) != 1 {
		t.Fatalf("parsing rule: got %d rules, want 1", len(f.Rules))
	}
	return Compile(f.Rules, opts)
}

// mustEvent parses one JSON event; the parser is not shared, so the event stays valid.
func mustEvent(t testing.TB, js string) *event.Event {
	t.Helper()
	var p fastjson.Parser
	v, err := p.Parse(js)
	if err != nil {
		t.Fatalf("parsing event %s: %v", js, err)
	}
	return &event.Event{Raw: []byte(js), Value: v}
}

// matchCase is one rule (detection section) against one event.
type matchCase struct {
	name  string
	det   string
	event string
	want  bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := compileDetection(t, tc.det, Options{Placeholders: map[string][]string{
				"admins":   {"root", "admin*"},
				"bad_nets": {"140.213.52.0/24", "2001:db8:bad::/48"},
				"nets":     {"10.0.0.0/8"},
			}})
			if err != nil {
				t.Fatalf("compiling: %v", err)
			}
			ev := mustEvent(t, tc.event)
			m := e.NewMatcher()
			r := e.Rules()[0]
			if got := m.MatchRule(r, ev); got != tc.want {
				t.Errorf("MatchRule on %s:\n%s\ngot %v, want %v", tc.event, tc.det, got, tc.want)
			}
			indexed := false
			m.Match(ev, func(*Rule) { indexed = true })
			if indexed != tc.want {
				t.Errorf("Match (indexed) on %s: got %v, want %v", tc.event, indexed, tc.want)
			}
		})
	}
}

func TestMatchEquality(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"equal", "sel:\n  eventName: DeleteTrail\ncondition: sel", `{"eventName":"DeleteTrail"}`, true},
		{"equal case-insensitive", "sel:\n  eventName: deletetrail\ncondition: sel", `{"eventName":"DeleteTrail"}`, true},
		{"not equal", "sel:\n  eventName: DeleteTrail\ncondition: sel", `{"eventName":"DeleteTrails"}`, false},
		{"absent", "sel:\n  eventName: DeleteTrail\ncondition: sel", `{"eventSource":"x"}`, false},
		{"empty string matches empty", "sel:\n  errorCode: ''\ncondition: sel", `{"errorCode":""}`, true},
		{"empty string not absent", "sel:\n  errorCode: ''\ncondition: sel", `{}`, false},
		{"unicode fold", "sel:\n  userName: 'ÄRGER'\ncondition: sel", `{"userName":"ärger"}`, true},
		{"cased equal", "sel:\n  eventName|cased: DeleteTrail\ncondition: sel", `{"eventName":"DeleteTrail"}`, true},
		{"cased differs", "sel:\n  eventName|cased: deletetrail\ncondition: sel", `{"eventName":"DeleteTrail"}`, false},
		{"contains on object searches its JSON", "sel:\n  requestParameters|contains: Suspended\ncondition: sel", `{"requestParameters":{"VersioningConfiguration":{"Status":"Suspended"}}}`, true},
		{"contains on object no", "sel:\n  requestParameters|contains: Enabled\ncondition: sel", `{"requestParameters":{"VersioningConfiguration":{"Status":"Suspended"}}}`, false},
		{"object value never equals", "sel:\n  requestParameters: x\ncondition: sel", `{"requestParameters":{"a":"x"}}`, false},
		{"several fields AND", "sel:\n  eventName: A\n  eventSource: b\ncondition: sel", `{"eventName":"A","eventSource":"B"}`, true},
		{"several fields AND one fails", "sel:\n  eventName: A\n  eventSource: b\ncondition: sel", `{"eventName":"A","eventSource":"C"}`, false},
		{"list is OR", "sel:\n  eventName:\n    - A\n    - B\ncondition: sel", `{"eventName":"B"}`, true},
		{"list none", "sel:\n  eventName:\n    - A\n    - B\ncondition: sel", `{"eventName":"C"}`, false},
		{"long list (set)", "sel:\n  eventName: [A, B, C, D, E, F]\ncondition: sel", `{"eventName":"e"}`, true},
		{"long list (set) none", "sel:\n  eventName: [A, B, C, D, E, F]\ncondition: sel", `{"eventName":"G"}`, false},
		{"long cased list", "sel:\n  eventName|cased: [A, B, C, D, E, F]\ncondition: sel", `{"eventName":"e"}`, false},
		{"long list with wildcard", "sel:\n  eventName: [A, B, C, D, E, F*]\ncondition: sel", `{"eventName":"Foo"}`, true},
		{"list of maps is OR", "sel:\n  - eventName: A\n  - eventSource: s\ncondition: sel", `{"eventName":"X","eventSource":"S"}`, true},
		{"list of maps none", "sel:\n  - eventName: A\n  - eventSource: s\ncondition: sel", `{"eventName":"X","eventSource":"T"}`, false},
	})
}

func TestMatchWildcards(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"star prefix", "sel:\n  eventName: Delete*\ncondition: sel", `{"eventName":"DeleteTrail"}`, true},
		{"star middle", "sel:\n  eventName: D*l\ncondition: sel", `{"eventName":"DeleteTrail"}`, true},
		{"star empty", "sel:\n  eventName: Delete*\ncondition: sel", `{"eventName":"Delete"}`, true},
		{"star no", "sel:\n  eventName: Delete*\ncondition: sel", `{"eventName":"CreateTrail"}`, false},
		{"only star matches empty", "sel:\n  errorCode: '*'\ncondition: sel", `{"errorCode":""}`, true},
		{"only star not absent", "sel:\n  errorCode: '*'\ncondition: sel", `{}`, false},
		{"question one char", "sel:\n  eventName: Get?\ncondition: sel", `{"eventName":"GetX"}`, true},
		{"question not zero", "sel:\n  eventName: Get?\ncondition: sel", `{"eventName":"Get"}`, false},
		{"question one rune", "sel:\n  userName: a?c\ncondition: sel", `{"userName":"aéc"}`, true},
		{"escaped star literal", `sel:` + "\n" + `  userName: 'a\*c'` + "\ncondition: sel", `{"userName":"a*c"}`, true},
		{"escaped star not wildcard", `sel:` + "\n" + `  userName: 'a\*c'` + "\ncondition: sel", `{"userName":"abc"}`, false},
		{"escaped question", `sel:` + "\n" + `  userName: 'a\?'` + "\ncondition: sel", `{"userName":"a?"}`, true},
		{"escaped question not wildcard", `sel:` + "\n" + `  userName: 'a\?'` + "\ncondition: sel", `{"userName":"ab"}`, false},
		{"escaped backslash then star", `sel:` + "\n" + `  userName: 'a\\*'` + "\ncondition: sel", `{"userName":"a\\xyz"}`, true},
		{"plain backslash literal", `sel:` + "\n" + `  userName: 'dom\user'` + "\ncondition: sel", `{"userName":"DOM\\user"}`, true},
		{"trailing backslash literal", `sel:` + "\n" + `  userName: 'a\'` + "\ncondition: sel", `{"userName":"a\\"}`, true},
		{"wildcard cased", "sel:\n  eventName|cased: Delete*\ncondition: sel", `{"eventName":"deleteTrail"}`, false},
	})
}

func TestMatchTypes(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"rule number, event number", "sel:\n  responseElements.count: 25\ncondition: sel", `{"responseElements":{"count":25}}`, true},
		{"rule number, event numeric string", "sel:\n  responseElements.count: 25\ncondition: sel", `{"responseElements":{"count":"25"}}`, true},
		{"rule string, event number", "sel:\n  responseElements.count: '25'\ncondition: sel", `{"responseElements":{"count":25}}`, true},
		{"rule number 10, event 10", "sel:\n  responseElements.count: 10\ncondition: sel", `{"responseElements":{"count":10}}`, true},
		{"rule number 10, event 1", "sel:\n  responseElements.count: 10\ncondition: sel", `{"responseElements":{"count":1}}`, false},
		{"rule number 100.50", "sel:\n  responseElements.count: 100.50\ncondition: sel", `{"responseElements":{"count":"100.5"}}`, true},
		{"rule hex number", "sel:\n  responseElements.count: 0x10\ncondition: sel", `{"responseElements":{"count":16}}`, true},
		{"rule number, event other number", "sel:\n  responseElements.count: 25\ncondition: sel", `{"responseElements":{"count":26}}`, false},
		{"rule number, event 25.0", "sel:\n  responseElements.count: 25\ncondition: sel", `{"responseElements":{"count":25.0}}`, true},
		{"rule number, event text", "sel:\n  responseElements.count: 25\ncondition: sel", `{"responseElements":{"count":"twenty-five"}}`, false},
		{"rule number with contains", "sel:\n  responseElements.port|contains: 22\ncondition: sel", `{"responseElements":{"port":2222}}`, true},
		{"rule wildcard, event number", "sel:\n  responseElements.port: '22*'\ncondition: sel", `{"responseElements":{"port":2201}}`, true},
		{"rule bool, event bool", "sel:\n  additionalEventData.MFAUsed: false\ncondition: sel", `{"additionalEventData":{"MFAUsed":false}}`, true},
		{"rule bool, event other bool", "sel:\n  additionalEventData.MFAUsed: false\ncondition: sel", `{"additionalEventData":{"MFAUsed":true}}`, false},
		{"rule bool, event string", "sel:\n  readOnly: true\ncondition: sel", `{"readOnly":"True"}`, true},
		{"rule string, event bool", "sel:\n  readOnly: 'true'\ncondition: sel", `{"readOnly":true}`, true},
		{"rule string no, event bool", "sel:\n  readOnly: 'false'\ncondition: sel", `{"readOnly":true}`, false},
		{"null absent", "sel:\n  errorCode: null\ncondition: sel", `{}`, true},
		{"null json null", "sel:\n  errorCode: null\ncondition: sel", `{"errorCode":null}`, true},
		{"null present", "sel:\n  errorCode: null\ncondition: sel", `{"errorCode":"AccessDenied"}`, false},
		{"null empty string", "sel:\n  errorCode: null\ncondition: sel", `{"errorCode":""}`, false},
		{"null parent absent", "sel:\n  requestParameters.policy: null\ncondition: sel", `{}`, true},
		{"not null filter", "sel:\n  eventName: A\nfilter:\n  errorCode: null\ncondition: sel and not filter", `{"eventName":"A","errorCode":"X"}`, true},
		{"not null filter absent", "sel:\n  eventName: A\nfilter:\n  errorCode: null\ncondition: sel and not filter", `{"eventName":"A"}`, false},
	})
}

func TestMatchModifiers(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"all", "sel:\n  userAgent|contains|all: [aws, cli]\ncondition: sel", `{"userAgent":"aws-cli/2"}`, true},
		{"all one missing", "sel:\n  userAgent|contains|all: [aws, boto]\ncondition: sel", `{"userAgent":"aws-cli/2"}`, false},
		{"all over array elements", "sel:\n  resources.type|all: [a, b]\ncondition: sel", `{"resources":[{"type":"A"},{"type":"B"}]}`, true},
		{"all over array elements missing", "sel:\n  resources.type|all: [a, b]\ncondition: sel", `{"resources":[{"type":"A"},{"type":"C"}]}`, false},
		{"contains", "sel:\n  userAgent|contains: CLI\ncondition: sel", `{"userAgent":"aws-cli/2"}`, true},
		{"contains no", "sel:\n  userAgent|contains: boto\ncondition: sel", `{"userAgent":"aws-cli/2"}`, false},
		{"contains wildcard inside", "sel:\n  userAgent|contains: cli*2\ncondition: sel", `{"userAgent":"aws-cli/2 x"}`, true},
		{"contains cased", "sel:\n  userAgent|contains|cased: CLI\ncondition: sel", `{"userAgent":"aws-cli/2"}`, false},
		{"startswith", "sel:\n  userAgent|startswith: AWS\ncondition: sel", `{"userAgent":"aws-cli/2"}`, true},
		{"startswith no", "sel:\n  userAgent|startswith: cli\ncondition: sel", `{"userAgent":"aws-cli/2"}`, false},
		{"endswith", "sel:\n  userAgent|endswith: /2\ncondition: sel", `{"userAgent":"aws-cli/2"}`, true},
		{"endswith no", "sel:\n  userAgent|endswith: aws\ncondition: sel", `{"userAgent":"aws-cli/2"}`, false},
		{"re", "sel:\n  userAgent|re: '^aws-cli/\\d+$'\ncondition: sel", `{"userAgent":"aws-cli/2"}`, true},
		{"re is cased", "sel:\n  userAgent|re: '^AWS'\ncondition: sel", `{"userAgent":"aws-cli/2"}`, false},
		{"re i", "sel:\n  userAgent|re|i: '^AWS'\ncondition: sel", `{"userAgent":"aws-cli/2"}`, true},
		{"re unanchored", "sel:\n  userAgent|re: 'cli'\ncondition: sel", `{"userAgent":"aws-cli/2"}`, true},
		{"re m", "sel:\n  requestParameters.script|re|m: '^rm -rf$'\ncondition: sel", `{"requestParameters":{"script":"cd /\nrm -rf\nexit"}}`, true},
		{"re no m", "sel:\n  requestParameters.script|re: '^rm -rf$'\ncondition: sel", `{"requestParameters":{"script":"cd /\nrm -rf\nexit"}}`, false},
		{"re s", "sel:\n  requestParameters.script|re|s: 'cd.*exit'\ncondition: sel", `{"requestParameters":{"script":"cd /\nexit"}}`, true},
		{"re no s", "sel:\n  requestParameters.script|re: 'cd.*exit'\ncondition: sel", `{"requestParameters":{"script":"cd /\nexit"}}`, false},
		{"re on number", "sel:\n  responseElements.port|re: '^2[0-9]$'\ncondition: sel", `{"responseElements":{"port":22}}`, true},
		{"cidr v4", "sel:\n  sourceIPAddress|cidr: 10.0.0.0/8\ncondition: sel", `{"sourceIPAddress":"10.1.2.3"}`, true},
		{"cidr v4 outside", "sel:\n  sourceIPAddress|cidr: 10.0.0.0/8\ncondition: sel", `{"sourceIPAddress":"11.1.2.3"}`, false},
		{"cidr leading zeros", "sel:\n  sourceIPAddress|cidr: 75.50.0.0/16\ncondition: sel", `{"sourceIPAddress":"075.050.255.067"}`, true},
		{"cidr non-IP", "sel:\n  sourceIPAddress|cidr: 0.0.0.0/0\ncondition: sel", `{"sourceIPAddress":"ec2.amazonaws.com"}`, false},
		{"cidr v6", "sel:\n  sourceIPAddress|cidr: '2001:db8::/32'\ncondition: sel", `{"sourceIPAddress":"2001:db8::1"}`, true},
		{"cidr list", "sel:\n  sourceIPAddress|cidr: [192.168.0.0/16, 10.0.0.0/8]\ncondition: sel", `{"sourceIPAddress":"10.1.2.3"}`, true},
		{"exists true", "sel:\n  errorCode|exists: true\ncondition: sel", `{"errorCode":"x"}`, true},
		{"exists true absent", "sel:\n  errorCode|exists: true\ncondition: sel", `{}`, false},
		{"exists false absent", "sel:\n  errorCode|exists: false\ncondition: sel", `{}`, true},
		{"exists false present", "sel:\n  errorCode|exists: false\ncondition: sel", `{"errorCode":"x"}`, false},
		{"exists nested", "sel:\n  userIdentity.sessionContext.sessionIssuer|exists: true\ncondition: sel", `{"userIdentity":{"sessionContext":{"sessionIssuer":{}}}}`, true},
		{"exists through array", "sel:\n  resources.ARN|exists: true\ncondition: sel", `{"resources":[{"type":"x"},{"ARN":"y"}]}`, true},
		{"exists through empty array", "sel:\n  resources.ARN|exists: true\ncondition: sel", `{"resources":[]}`, false},
		{"fieldref equal", "sel:\n  userIdentity.userName|fieldref: requestParameters.userName\ncondition: sel", `{"userIdentity":{"userName":"Bob"},"requestParameters":{"userName":"bob"}}`, true},
		{"fieldref differ", "sel:\n  userIdentity.userName|fieldref: requestParameters.userName\ncondition: sel", `{"userIdentity":{"userName":"Bob"},"requestParameters":{"userName":"alice"}}`, false},
		{"fieldref other absent", "sel:\n  userIdentity.userName|fieldref: requestParameters.userName\ncondition: sel", `{"userIdentity":{"userName":"Bob"}}`, false},
		{"fieldref cased", "sel:\n  userIdentity.userName|fieldref|cased: requestParameters.userName\ncondition: sel", `{"userIdentity":{"userName":"Bob"},"requestParameters":{"userName":"bob"}}`, false},
		{"fieldref contains", "sel:\n  userIdentity.arn|fieldref|contains: requestParameters.userName\ncondition: sel", `{"userIdentity":{"arn":"arn:aws:iam::1:user/Bob"},"requestParameters":{"userName":"bob"}}`, true},
		{"fieldref contains no", "sel:\n  userIdentity.arn|fieldref|contains: requestParameters.userName\ncondition: sel", `{"userIdentity":{"arn":"arn:aws:iam::1:user/Bob"},"requestParameters":{"userName":"eve"}}`, false},
		{"fieldref startswith", "sel:\n  userIdentity.arn|fieldref|startswith: requestParameters.prefix\ncondition: sel", `{"userIdentity":{"arn":"ARN:aws"},"requestParameters":{"prefix":"arn:"}}`, true},
		{"fieldref endswith", "sel:\n  userIdentity.arn|fieldref|endswith: requestParameters.userName\ncondition: sel", `{"userIdentity":{"arn":"user/BOB"},"requestParameters":{"userName":"bob"}}`, true},
		{"fieldref numbers", "sel:\n  a|fieldref: b\ncondition: sel", `{"a":5,"b":5}`, true},
		{"fieldref neq", "sel:\n  userIdentity.userName|fieldref|neq: requestParameters.userName\ncondition: sel", `{"userIdentity":{"userName":"Bob"},"requestParameters":{"userName":"alice"}}`, true},
		{"fieldref neq same", "sel:\n  userIdentity.userName|fieldref|neq: requestParameters.userName\ncondition: sel", `{"userIdentity":{"userName":"Bob"},"requestParameters":{"userName":"bob"}}`, false},
		{"gt", "sel:\n  responseElements.count|gt: 10\ncondition: sel", `{"responseElements":{"count":11}}`, true},
		{"gt equal", "sel:\n  responseElements.count|gt: 10\ncondition: sel", `{"responseElements":{"count":10}}`, false},
		{"gte", "sel:\n  responseElements.count|gte: 10\ncondition: sel", `{"responseElements":{"count":10}}`, true},
		{"lt", "sel:\n  responseElements.count|lt: 10\ncondition: sel", `{"responseElements":{"count":9.5}}`, true},
		{"lt no", "sel:\n  responseElements.count|lt: 10\ncondition: sel", `{"responseElements":{"count":10}}`, false},
		{"lte", "sel:\n  responseElements.count|lte: 10\ncondition: sel", `{"responseElements":{"count":"10"}}`, true},
		{"gt on text", "sel:\n  responseElements.count|gt: 10\ncondition: sel", `{"responseElements":{"count":"many"}}`, false},
		{"gt big ints", "sel:\n  a|gt: 9007199254740992\ncondition: sel", `{"a":9007199254740993}`, true},
		{"neq", "sel:\n  eventName: A\n  awsRegion|neq: us-east-1\ncondition: sel", `{"eventName":"A","awsRegion":"eu-west-1"}`, true},
		{"neq equal", "sel:\n  eventName: A\n  awsRegion|neq: us-east-1\ncondition: sel", `{"eventName":"A","awsRegion":"US-EAST-1"}`, false},
		{"neq list", "sel:\n  awsRegion|neq: [us-east-1, eu-west-1]\ncondition: sel", `{"awsRegion":"eu-west-1"}`, false},
		{"neq list other", "sel:\n  awsRegion|neq: [us-east-1, eu-west-1]\ncondition: sel", `{"awsRegion":"ap-south-1"}`, true},
		{"neq absent", "sel:\n  awsRegion|neq: us-east-1\ncondition: sel", `{}`, true},
		{"neq contains", "sel:\n  userAgent|neq|contains: console\ncondition: sel", `{"userAgent":"aws-cli"}`, true},
		{"base64", "sel:\n  requestParameters.userData|base64: '#!/bin/bash'\ncondition: sel", `{"requestParameters":{"userData":"IyEvYmluL2Jhc2g="}}`, true},
		// The encoded value compares like any string: case-insensitively unless |cased.
		{"base64 case-insensitive", "sel:\n  requestParameters.userData|base64: '#!/bin/bash'\ncondition: sel", `{"requestParameters":{"userData":"iyevymluL2jhc2g="}}`, true},
		{"base64 with padding", "sel:\n  requestParameters.userData|base64|contains: '#!/bin/bash'\ncondition: sel", `{"requestParameters":{"userData":"xxIyEvYmluL2Jhc2gxx"}}`, false},
		{"base64 contains", "sel:\n  requestParameters.userData|base64|contains: '#!/bin/sh'\ncondition: sel", `{"requestParameters":{"userData":"xxIyEvYmluL3Noxx"}}`, true},
		{"base64offset 0", "sel:\n  requestParameters.userData|base64offset|contains: 'curl '\ncondition: sel", `{"requestParameters":{"userData":"Y3VybCBodHRwOi8v"}}`, true},
		{"base64offset 1", "sel:\n  requestParameters.userData|base64offset|contains: 'curl '\ncondition: sel", `{"requestParameters":{"userData":"IGN1cmwgaHR0cDovLw=="}}`, true},
		{"base64offset 2", "sel:\n  requestParameters.userData|base64offset|contains: 'curl '\ncondition: sel", `{"requestParameters":{"userData":"ICBjdXJsIGh0dHA6Ly8="}}`, true},
		{"base64offset no", "sel:\n  requestParameters.userData|base64offset|contains: 'curl '\ncondition: sel", `{"requestParameters":{"userData":"d2dldCBodHRwOi8v"}}`, false},
		{"wide", "sel:\n  a|wide|base64offset|contains: 'ab'\ncondition: sel", `{"a":"YQBiAA=="}`, true},
		{"utf16le base64", "sel:\n  a|utf16le|base64: 'ab'\ncondition: sel", `{"a":"YQBiAA=="}`, true},
		{"utf16be base64", "sel:\n  a|utf16be|base64: 'ab'\ncondition: sel", `{"a":"AGEAYg=="}`, true},
		{"utf16 base64 (BOM)", "sel:\n  a|utf16|base64: 'ab'\ncondition: sel", `{"a":"//5hAGIA"}`, true},
		{"windash dash", "sel:\n  a|windash|contains: ' -enc '\ncondition: sel", `{"a":"powershell -enc x"}`, true},
		{"windash slash", "sel:\n  a|windash|contains: ' -enc '\ncondition: sel", `{"a":"powershell /enc x"}`, true},
		{"windash en dash", "sel:\n  a|windash|contains: ' -enc '\ncondition: sel", `{"a":"powershell –enc x"}`, true},
		{"windash other", "sel:\n  a|windash|contains: ' -enc '\ncondition: sel", `{"a":"powershell +enc x"}`, false},
		{"expand", "sel:\n  userIdentity.userName|expand: '%admins%'\ncondition: sel", `{"userIdentity":{"userName":"Administrator"}}`, true},
		{"expand literal", "sel:\n  userIdentity.userName|expand: '%admins%'\ncondition: sel", `{"userIdentity":{"userName":"root"}}`, true},
		{"expand no", "sel:\n  userIdentity.userName|expand: '%admins%'\ncondition: sel", `{"userIdentity":{"userName":"bob"}}`, false},
		{"expand cidr", "sel:\n  sourceIPAddress|expand|cidr: '%bad_nets%'\ncondition: sel", `{"sourceIPAddress":"140.213.52.7"}`, true},
		{"expand cidr v6", "sel:\n  sourceIPAddress|expand|cidr: '%bad_nets%'\ncondition: sel", `{"sourceIPAddress":"2001:db8:bad::1"}`, true},
		{"expand cidr no", "sel:\n  sourceIPAddress|expand|cidr: '%bad_nets%'\ncondition: sel", `{"sourceIPAddress":"140.213.53.7"}`, false},
		{"expand inside text", "sel:\n  userIdentity.arn|expand: 'arn:aws:iam::*:user/%admins%'\ncondition: sel", `{"userIdentity":{"arn":"arn:aws:iam::1:user/root"}}`, true},
		{"minute", "sel:\n  eventTime|minute: 4\ncondition: sel", `{"eventTime":"2024-02-29T13:04:05Z"}`, true},
		{"hour", "sel:\n  eventTime|hour: 13\ncondition: sel", `{"eventTime":"2024-02-29T13:04:05Z"}`, true},
		{"hour 10", "sel:\n  eventTime|hour: 10\ncondition: sel", `{"eventTime":"2024-02-29T01:04:05Z"}`, false},
		{"hour offset to UTC", "sel:\n  eventTime|hour: 11\ncondition: sel", `{"eventTime":"2024-02-29T13:04:05+02:00"}`, true},
		{"hour gte", "sel:\n  eventTime|hour|gte: 22\ncondition: sel", `{"eventTime":"2024-02-29T23:04:05Z"}`, true},
		{"hour lt no", "sel:\n  eventTime|hour|lt: 6\ncondition: sel", `{"eventTime":"2024-02-29T13:04:05Z"}`, false},
		{"day", "sel:\n  eventTime|day: 29\ncondition: sel", `{"eventTime":"2024-02-29T13:04:05Z"}`, true},
		{"week", "sel:\n  eventTime|week: 9\ncondition: sel", `{"eventTime":"2024-02-29T13:04:05Z"}`, true},
		{"month", "sel:\n  eventTime|month: 2\ncondition: sel", `{"eventTime":"2024-02-29T13:04:05.123Z"}`, true},
		{"year", "sel:\n  eventTime|year: 2024\ncondition: sel", `{"eventTime":"2024-02-29T13:04:05Z"}`, true},
		{"year not a time", "sel:\n  eventTime|year: 2024\ncondition: sel", `{"eventTime":"2024"}`, false},
	})
}

func TestMatchKeywords(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"keyword contains", "kw:\n  - mimikatz\ncondition: kw", `{"requestParameters":{"x":["a","run MIMIKATZ now"]}}`, true},
		{"keyword none", "kw:\n  - mimikatz\ncondition: kw", `{"requestParameters":{"x":["a","b"]}}`, false},
		{"keyword list OR", "kw:\n  - mimikatz\n  - rubeus\ncondition: kw", `{"a":"rubeus.exe"}`, true},
		{"keyword number", "kw:\n  - 4444\ncondition: kw", `{"a":{"port":4444}}`, true},
		{"keyword wildcard", "kw:\n  - 'evil*.com'\ncondition: kw", `{"a":"http://evil-site.com/x"}`, true},
		{"keyword not in keys", "kw:\n  - secretkey\ncondition: kw", `{"secretkey":"x"}`, false},
		{"keyword and field", "kw:\n  - mimikatz\nsel:\n  eventName: A\ncondition: kw and sel", `{"eventName":"A","b":"mimikatz"}`, true},
		{"keyword all", "kw:\n  '|all':\n    - mimi\n    - katz\ncondition: kw", `{"a":"mimi","b":"katz"}`, true},
		{"keyword all missing", "kw:\n  '|all':\n    - mimi\n    - rubeus\ncondition: kw", `{"a":"mimi","b":"katz"}`, false},
	})
}

func TestMatchPaths(t *testing.T) {
	containers := `{"eventName":"RegisterTaskDefinition","requestParameters":{"containerDefinitions":[{"image":"nginx:latest"},{"image":"evil/miner:1"},{"name":"noimage"}]}}`
	perms := `{"eventName":"AuthorizeSecurityGroupIngress","requestParameters":{"ipPermissions":{"items":[` +
		`{"fromPort":443,"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]}},` +
		`{"fromPort":22,"ipRanges":{"items":[{"cidrIp":"192.168.1.0/24"},{"cidrIp":"0.0.0.0/0"}]}}]}}}`
	nested := `{"a":[[{"b":"x"}],[{"b":"y"},[{"b":"z"}]]]}`
	runMatchCases(t, []matchCase{
		{"array any element", "sel:\n  requestParameters.containerDefinitions.image|contains: miner\ncondition: sel", containers, true},
		{"array first element", "sel:\n  requestParameters.containerDefinitions.image|startswith: nginx\ncondition: sel", containers, true},
		{"array none", "sel:\n  requestParameters.containerDefinitions.image|contains: redis\ncondition: sel", containers, false},
		{"array neq: one differs is not enough", "sel:\n  requestParameters.containerDefinitions.image|neq: 'nginx:latest'\ncondition: sel", containers, false},
		{"nested items", "sel:\n  requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0\ncondition: sel", perms, true},
		{"nested items none", "sel:\n  requestParameters.ipPermissions.items.ipRanges.items.cidrIp: ::/0\ncondition: sel", perms, false},
		{"nested items number", "sel:\n  requestParameters.ipPermissions.items.fromPort: 22\ncondition: sel", perms, true},
		{"nested items cidr", "sel:\n  requestParameters.ipPermissions.items.ipRanges.items.cidrIp|cidr: 192.168.0.0/16\ncondition: sel", perms, false},
		{"arrays of arrays", "sel:\n  a.b: z\ncondition: sel", nested, true},
		{"leaf array", "sel:\n  tags: prod\ncondition: sel", `{"tags":["dev","PROD"]}`, true},
		{"leaf array all", "sel:\n  tags|all: [dev, prod]\ncondition: sel", `{"tags":["dev","PROD"]}`, true},
		{"leaf array null", "sel:\n  tags: null\ncondition: sel", `{"tags":[]}`, true},
		{"dotted path not a key", "sel:\n  requestParameters.bucketName: b\ncondition: sel", `{"requestParameters.bucketName":"b"}`, false},
	})
}

func TestMatchConditions(t *testing.T) {
	sel := "sel_a:\n  eventName: A\nsel_b:\n  eventSource: b\nfilter:\n  errorCode: x\n"
	ab := `{"eventName":"A","eventSource":"B"}`
	abx := `{"eventName":"A","eventSource":"B","errorCode":"X"}`
	a := `{"eventName":"A"}`
	none := `{"eventName":"C"}`
	runMatchCases(t, []matchCase{
		{"and", sel + "condition: sel_a and sel_b", ab, true},
		{"and fails", sel + "condition: sel_a and sel_b", a, false},
		{"or", sel + "condition: sel_a or sel_b", a, true},
		{"or none", sel + "condition: sel_a or sel_b", none, false},
		{"not", sel + "condition: not sel_a", none, true},
		{"not fails", sel + "condition: not sel_a", a, false},
		{"and not", sel + "condition: sel_a and not filter", ab, true},
		{"and not filtered", sel + "condition: sel_a and not filter", abx, false},
		{"precedence and over or", sel + "condition: filter or sel_a and sel_b", a, false},
		{"precedence and over or 2", sel + "condition: filter or sel_a and sel_b", ab, true},
		{"parentheses", sel + "condition: (filter or sel_a) and sel_b", a, false},
		{"parentheses 2", sel + "condition: (filter or sel_a) and not sel_b", a, true},
		{"not binds tight", sel + "condition: not sel_b and sel_a", a, true},
		{"1 of pattern", sel + "condition: 1 of sel_*", `{"eventSource":"b"}`, true},
		{"1 of pattern none", sel + "condition: 1 of sel_*", `{"errorCode":"x"}`, false},
		{"all of pattern", sel + "condition: all of sel_*", ab, true},
		{"all of pattern one missing", sel + "condition: all of sel_*", a, false},
		{"1 of them", sel + "condition: 1 of them", `{"errorCode":"x"}`, true},
		{"all of them", sel + "condition: all of them", abx, true},
		{"all of them missing", sel + "condition: all of them", ab, false},
		{"all of pattern and not", sel + "condition: all of sel_* and not filter", abx, false},
		{"not 1 of", sel + "condition: not 1 of sel_*", none, true},
		{"condition list", sel + "condition:\n  - sel_a and sel_b\n  - filter", `{"errorCode":"x"}`, true},
		{"condition list none", sel + "condition:\n  - sel_a and sel_b\n  - filter", a, false},
	})
}

func TestExpandMissingPlaceholder(t *testing.T) {
	_, err := compileDetection(t, "sel:\n  userIdentity.userName|expand: '%unknown%'\ncondition: sel", Options{})
	if err == nil {
		t.Fatal("compiling a rule with an unknown placeholder: got no error")
	}
	var list sigma.ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("got error %v (%T), want a sigma.ErrorList of one error", err, err)
	}
	// ruleHeader is 6 lines; the value's opening quote is on line 8, column 35, after
	// "    userIdentity.userName|expand: ".
	got := list[0]
	if got.File != "rule.yml" || got.Line != 8 || got.Col != 35 || !strings.Contains(got.Msg, "%unknown%") {
		t.Errorf("got error %q at %s:%d:%d, want rule.yml:8:35 naming %%unknown%%", got.Msg, got.File, got.Line, got.Col)
	}
}

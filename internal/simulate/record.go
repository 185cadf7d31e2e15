package simulate

import (
	"strings"
	"time"
)

// rec is one CloudTrail record before encoding. req, resp, extra and resources hold encoded
// JSON that is only valid until the record is emitted (nil: null, or left out).
type rec struct {
	at                   time.Time
	acct                 *account
	who                  *actor
	source, name, region string
	errCode, errMsg      string
	req, resp            []byte
	extra, resources     []byte
	readOnly             bool
	eventType            string // "" means AwsApiCall
	data                 bool   // a data event (eventCategory Data, managementEvent false)
}

// versionFor returns the eventVersion AWS currently writes for a service's events.
func versionFor(source string) string {
	switch source {
	case "sts.amazonaws.com", "ec2-instance-connect.amazonaws.com":
		return "1.08"
	case "signin.amazonaws.com", "ses.amazonaws.com", "monitoring.amazonaws.com", "logs.amazonaws.com", "resource-explorer-2.amazonaws.com":
		return "1.09"
	case "lambda.amazonaws.com", "cloudtrail.amazonaws.com":
		return "1.11"
	}
	return "1.10"
}

// isReadOnly tells read calls by their names, as CloudTrail's readOnly field does.
func isReadOnly(name string) bool {
	for _, p := range [...]string{"Describe", "List", "Get", "Head", "Search", "Lookup", "BatchGet", "Decrypt"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// encode appends r as one JSON object and returns the buffer and the span of its eventID.
func (g *gen) encode(b []byte, r *rec) ([]byte, int) {
	w := jw{b: b}
	w.o("")
	w.s("eventVersion", versionFor(r.source)).raw("userIdentity", r.who.id).ts("eventTime", r.at)
	w.s("eventSource", r.source).s("eventName", r.name).s("awsRegion", r.region)
	w.s("sourceIPAddress", r.who.ip).s("userAgent", r.who.ua)
	if r.errCode != "" {
		w.s("errorCode", r.errCode)
	}
	if r.errMsg != "" {
		w.s("errorMessage", r.errMsg)
	}
	if r.req != nil {
		w.raw("requestParameters", r.req)
	} else {
		w.null("requestParameters")
	}
	if r.resp != nil && r.errCode == "" {
		w.raw("responseElements", r.resp)
	} else {
		w.null("responseElements")
	}
	if r.extra != nil {
		w.raw("additionalEventData", r.extra)
	}
	w.key("requestID")
	if r.source == "s3.amazonaws.com" {
		w.b = append(w.b, '"')
		w.b = g.r.appendStr(w.b, "0123456789ABCDEF", 16)
		w.b = append(w.b, '"')
	} else {
		w.b = append(w.b, '"')
		w.b = g.r.appendUUID(w.b)
		w.b = append(w.b, '"')
	}
	w.comma = true
	w.key("eventID")
	idAt := len(w.b) + 1
	w.b = append(w.b, '"')
	w.b = g.r.appendUUID(w.b)
	w.b = append(w.b, '"')
	w.comma = true
	w.t("readOnly", r.readOnly)
	if r.resources != nil {
		w.raw("resources", r.resources)
	}
	et := r.eventType
	if et == "" {
		et = "AwsApiCall"
	}
	w.s("eventType", et).t("managementEvent", !r.data).s("recipientAccountId", r.acct.id)
	if r.data {
		w.s("eventCategory", "Data")
	} else {
		w.s("eventCategory", "Management")
	}
	if r.who.ip != "" && !strings.HasSuffix(r.who.ip, ".amazonaws.com") && r.who.ip != "AWS Internal" {
		w.o("tlsDetails").s("tlsVersion", "TLSv1.3").s("cipherSuite", "TLS_AES_128_GCM_SHA256")
		w.key("clientProvidedHostHeader")
		w.b = appendHost(w.b, r.source, r.region)
		w.comma = true
		w.c()
	}
	if r.who.console {
		w.s("sessionCredentialFromConsole", "true")
	}
	w.c()
	return w.b, idAt
}

// appendHost appends the quoted endpoint host name a client sends for a service in a region.
func appendHost(b []byte, source, region string) []byte {
	b = append(b, '"')
	switch source {
	case "iam.amazonaws.com", "sts.amazonaws.com":
		b = append(b, source...)
	case "signin.amazonaws.com":
		b = append(b, "signin.aws.amazon.com"...)
	default:
		b = append(b, strings.TrimSuffix(source, ".amazonaws.com")...)
		b = append(b, '.')
		b = append(b, region...)
		b = append(b, ".amazonaws.com"...)
	}
	return append(b, '"')
}

package investigate

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/trailhound/trailhound/internal/incident"
)

// Graph is the identity graph of an incident: identities, keys, source addresses and
// resources, joined by what the evidence shows.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// Node kinds.
const (
	NodeUser           = "user"
	NodeRole           = "role"
	NodeSession        = "session"
	NodeRoot           = "root"
	NodeFederatedUser  = "federated-user"
	NodeService        = "service"
	NodePrincipal      = "principal"
	NodeAccessKey      = "access-key"
	NodeIP             = "ip"
	NodeResource       = "resource"
	NodeSourceIdentity = "source-identity"
)

// Edge kinds.
const (
	// EdgeCreated: an identity created a user, role or access key (or set a source identity).
	EdgeCreated = "created"
	// EdgeAssumed: an identity assumed a role (or obtained a federation token): the target is
	// the session.
	EdgeAssumed = "assumed"
	// EdgeLoggedInAs: someone at an address signed in to the console as a user.
	EdgeLoggedInAs = "logged-in-as"
	// EdgeUsedKey: an identity made calls with an access key.
	EdgeUsedKey = "used-key"
	// EdgeUsedFrom: an identity made calls from an address.
	EdgeUsedFrom = "used-from"
	// EdgeActedOn: an identity created or changed a resource.
	EdgeActedOn = "acted-on"
	// EdgeIssued: an identity outside the scope (an AWS service such as ec2.amazonaws.com
	// for an instance profile, a SAML or web identity) issued a root's temporary key.
	EdgeIssued = "issued"
)

// Node is one vertex. ID is "KIND:VALUE".
type Node struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Label string `json:"label"`
	// InScope marks the scope's identities (starting point and derived).
	InScope bool `json:"in_scope,omitempty"`
}

// Edge is one relation, with the first event that shows it and how many do.
type Edge struct {
	From    string    `json:"from"`
	To      string    `json:"to"`
	Kind    string    `json:"kind"`
	EventID string    `json:"event_id"`
	Time    time.Time `json:"time"`
	Count   int       `json:"count"`
}

type graphBuilder struct {
	nodes map[string]*Node
	edges map[[3]string]*Edge
}

func (g *graphBuilder) node(kind, value, label string) string {
	id := kind + ":" + value
	if _, ok := g.nodes[id]; !ok {
		if label == "" {
			label = value
		}
		g.nodes[id] = &Node{ID: id, Kind: kind, Label: label}
	}
	return id
}

func (g *graphBuilder) edge(from, to, kind, eventID string, at time.Time) {
	k := [3]string{from, to, kind}
	if e, ok := g.edges[k]; ok {
		e.Count++
		return
	}
	g.edges[k] = &Edge{From: from, To: to, Kind: kind, EventID: eventID, Time: at, Count: 1}
}

// actorNode returns the node of a principal.
func (g *graphBuilder) actorNode(actor string) string {
	return g.node(principalKind(actor), actor, "")
}

func ipKind(ip string) string {
	if strings.Contains(ip, "amazonaws.com") || strings.HasPrefix(ip, "AWS ") {
		return NodeService
	}
	return NodeIP
}

// graph builds the identity graph of the scope.
func (s *scope) graph(resources []incident.Resource) *Graph {
	x := s.x
	g := &graphBuilder{nodes: map[string]*Node{}, edges: map[[3]string]*Edge{}}
	for _, e := range s.notOwner() {
		r := &x.recs[e]
		actor := x.str(r.actor)
		if actor == "" {
			continue
		}
		id, at := x.str(r.id), x.time(e)
		a := g.actorNode(actor)
		if r.key != 0 {
			g.edge(a, g.node(NodeAccessKey, x.str(r.key), ""), EdgeUsedKey, id, at)
		}
		if ip := x.str(r.ip); ip != "" {
			ipn := g.node(ipKind(ip), ip, "")
			if r.flags&flagLoginOK != 0 {
				g.edge(ipn, a, EdgeLoggedInAs, id, at)
			} else {
				g.edge(a, ipn, EdgeUsedFrom, id, at)
			}
		}
	}
	for _, sub := range s.subjects {
		if !sub.shared && sub.attr.a == incident.Owner {
			continue
		}
		var n string
		v := x.str(sub.val)
		switch sub.kind {
		case subjPrincipal, subjConsole:
			n = g.actorNode(v)
		case subjRole:
			n = g.node(NodeRole, v, "")
		case subjKey:
			n = g.node(NodeAccessKey, v, "")
		case subjSourceIdentity:
			n = g.node(NodeSourceIdentity, v, "")
		}
		g.nodes[n].InScope = true
		if sub.shared && sub.kind == subjKey {
			if li, ok := x.keyLink[sub.val]; ok {
				e := x.links[li].ev
				g.edge(g.actorNode(x.str(x.recs[e].actor)), n, EdgeIssued, x.str(x.recs[e].id), x.time(e))
			}
		}
		if sub.ev < 0 {
			continue
		}
		by := g.actorNode(x.str(sub.by))
		id, at := x.str(x.recs[sub.ev].id), x.time(sub.ev)
		switch sub.how {
		case "assumed role", "federation token", "assumed role with SAML", "assumed role with web identity":
			if sess := x.str(sub.session); sess != "" {
				sn := g.actorNode(sess)
				g.edge(by, sn, EdgeAssumed, id, at)
				g.edge(sn, n, EdgeUsedKey, id, at)
				continue
			}
			g.edge(by, n, EdgeAssumed, id, at)
		case "set console password":
			// The login profile is a resource: the acted-on edge below shows it.
		default:
			g.edge(by, n, EdgeCreated, id, at)
		}
	}
	for _, res := range resources {
		label := string(res.Type) + " " + res.Name
		switch res.Type {
		case incident.EC2Instance:
			label = strings.TrimSpace(string(res.Type) + " " + res.Details["instance_type"] + " " + res.ID)
		case incident.IAMPolicyAttachment, incident.IAMInlinePolicy, incident.IAMGroupMembership:
			label = string(res.Type) + " " + res.ID
		}
		if res.Failed {
			label += " (failed: " + res.ErrorCode + ")"
		}
		rn := g.node(NodeResource, res.Key(), label)
		g.edge(g.actorNode(res.CreatedBy), rn, EdgeActedOn, res.CreateEventID, res.CreatedAt)
	}
	out := &Graph{Nodes: make([]Node, 0, len(g.nodes)), Edges: make([]Edge, 0, len(g.edges))}
	for _, n := range g.nodes {
		out.Nodes = append(out.Nodes, *n)
	}
	for _, e := range g.edges {
		out.Edges = append(out.Edges, *e)
	}
	slices.SortFunc(out.Nodes, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(out.Edges, func(a, b Edge) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

var dotShapes = map[string]string{
	NodeUser: "box", NodeRole: "box3d", NodeSession: "ellipse", NodeRoot: "doubleoctagon",
	NodeFederatedUser: "box", NodeService: "hexagon", NodePrincipal: "box", NodeAccessKey: "note",
	NodeIP: "diamond", NodeResource: "component", NodeSourceIdentity: "tab",
}

// WriteDOT writes the graph in Graphviz DOT. Every identifier and label is a quoted string
// with quotes, backslashes and control characters escaped, so attacker-chosen names (user
// names, session names) cannot change the graph's structure or inject attributes.
func (g *Graph) WriteDOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "digraph incident {")
	fmt.Fprintln(bw, "  rankdir=LR;")
	fmt.Fprintln(bw, `  node [fontname="Helvetica", fontsize=10];`)
	fmt.Fprintln(bw, `  edge [fontname="Helvetica", fontsize=9];`)
	for _, n := range g.Nodes {
		shape := dotShapes[n.Kind]
		if shape == "" {
			shape = "box"
		}
		style := ""
		if n.InScope {
			style = `, style=filled, fillcolor="#f4cccc"`
		}
		fmt.Fprintf(bw, "  %s [label=%s, shape=%s%s];\n", dotQuote(n.ID), dotQuote(n.Kind+"\n"+n.Label), shape, style)
	}
	for _, e := range g.Edges {
		label := e.Kind
		if e.Count > 1 {
			label = fmt.Sprintf("%s ×%d", e.Kind, e.Count)
		}
		fmt.Fprintf(bw, "  %s -> %s [label=%s];\n", dotQuote(e.From), dotQuote(e.To), dotQuote(label))
	}
	fmt.Fprintln(bw, "}")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing the graph: %w", err)
	}
	return nil
}

// dotQuote returns s as a DOT quoted string: backslash and quote escaped, newline as the
// \n escape, other control and format characters dropped for a visible \u escape.
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar:
			fmt.Fprintf(&b, `\\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Package web is the investigator in a browser: an http.Handler that serves a signals
// inbox with triage, and the incident view of any starting point (identity graph, timeline,
// ATT&CK matrix, resources, data touched, blind spots, cost, remediation plan, exports),
// over a store that a writer (hunt --db, serve) may be filling at the same time.
//
// The front-end is built from pinned npm packages (Cytoscape.js with the fcose and dagre
// layouts, vis-timeline) by frontend/build.sh with esbuild into assets/, which is
// committed and embedded: `go build` alone gives a working binary, and no request leaves
// the machine (no CDN, no external font).
//
// # Routes
//
//	GET  /                         the application (one page; the view is in the URL's fragment)
//	GET  /assets/…                 its script and style sheet
//	GET  /api/signals              the inbox: filters, full-text search, counts, paging
//	GET  /api/signal?id=           one signal with its triage history
//	POST /api/triage               set a signal's status and note
//	GET  /api/case?START           the case as investigate -f json writes it
//	GET  /api/case.md?START        … as Markdown; /api/case.json, /api/plan.sh as downloads
//	GET  /api/navigator?START      the incident's ATT&CK Navigator layer
//	GET  /api/navigator/rules      the loaded rules' coverage layer
//	GET  /api/event?id=&t=&actor=&key=   one stored event's raw JSON
//	POST /api/csp-report           Content-Security-Policy violation reports (counted, logged)
//
// START is one of signal=ID, access_key=KEY, arn=ARN, user=NAME, ip=ADDR: the starting
// points of trailhound investigate.
//
// # Security
//
// Every string from CloudTrail may be chosen by an attacker. The page renders text only
// with textContent (never innerHTML), under a Content-Security-Policy without inline
// scripts, inline styles in markup or eval; JSON responses are escaped as investigate -f
// json escapes them (safetext.JSON).
//
// With Options.RequireToken (any listener not on loopback), every request must carry the
// token: the ?token= of the printed URL (answered with a cookie and a redirect), the
// cookie, or an Authorization: Bearer header; without it every route answers 401. On
// loopback, reads need no token but the Host must be a loopback name (a DNS-rebinding page
// cannot read the API). State changes (triage) always need the token in the
// X-Trailhound-Token header, which only the page itself can read, a JSON body and no
// cross-site Origin or Sec-Fetch-Site: a cross-site form or fetch cannot make one.
package web

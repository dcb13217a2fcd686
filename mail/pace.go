package mail

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// DomainLimit paces the mail to a group of recipient domains: at most
// Rate messages a second (0: no limit) and Connections sends at once (0:
// no limit), shared by every domain the group names. A name "*.example"
// matches the subdomains of example as well as example itself.
type DomainLimit struct {
	Domains     []string
	Rate        float64
	Connections int
}

// CheckDomainLimits says what is wrong with limits, naming the entry (1
// for the first) and the value.
func CheckDomainLimits(limits []DomainLimit) error {
	seen := map[string]int{}
	for i, l := range limits {
		if len(l.Domains) == 0 {
			return fmt.Errorf("domain limit %d: no domains", i+1)
		}
		if l.Rate < 0 {
			return fmt.Errorf("domain limit %d: rate %v is negative", i+1, l.Rate)
		}
		if l.Connections < 0 {
			return fmt.Errorf("domain limit %d: connections %d is negative", i+1, l.Connections)
		}
		for _, d := range l.Domains {
			name := strings.ToLower(strings.TrimPrefix(d, "*."))
			if name == "" || strings.ContainsAny(name, "*@ \t/") || !strings.Contains(name, ".") {
				return fmt.Errorf("domain limit %d: %q is not a domain or *.domain", i+1, d)
			}
			if j, ok := seen[strings.ToLower(d)]; ok {
				return fmt.Errorf("domain limit %d: %q is already limited by domain limit %d", i+1, d, j)
			}
			seen[strings.ToLower(d)] = i + 1
		}
	}
	return nil
}

// pacer decides, for each message, when it may go to its domain. Each
// group of DomainLimits, and each other domain, has a gate. A gate lets a
// message through at once, or after a short wait in the worker (at most
// maxWait), or says when to come back: the delivery is then given back
// with that time and no attempt spent, so a slow domain never holds the
// workers the other domains need.
//
// A "try later" reply (421, 451) from a domain pauses its gate and halves
// its pace; successes bring the pace back. Every other domain goes on.
type pacer struct {
	limits  []DomainLimit
	backoff time.Duration // first pause after a try-later; doubled on each in a row
	maxWait time.Duration
	now     func() time.Time

	mu      sync.Mutex
	share   int              // live senders the configured rates are split among; 0: 1
	gates   map[string]*gate // by group key
	sweepAt int              // when gates has this many, idle ones are dropped
}

// sweepGates is how many gates the pacer keeps before it drops those of
// domains with nothing to remember (a big list reaches many domains).
const sweepGates = 10000

// gate is the pacing state of one group of domains.
type gate struct {
	key      string
	rate     float64 // configured; 0: none
	conns    int     // configured; 0: none
	inFlight int

	next   time.Time // when the next message may go at the current pace
	paused time.Time // no message before this (after a try-later)
	factor float64   // the share of rate in force, halved by each try-later
	slow   int       // try-laters in a row
	good   int       // successes since the last change of factor
	// observed is the pace a domain without a rate had when first told to
	// slow down, in messages a second: what factor then shares. Sends are
	// counted in windows of paceWindow to know it.
	observed      float64
	window        time.Time
	sent, sentWas int // in this window and the one before
	// reserved holds the slot handed to a delivery given back to wait
	// for it, so that it does not queue again when it comes back.
	reserved map[int64]time.Time
}

// paceWindow is how far back a gate without a rate looks to know its pace.
const paceWindow = 10 * time.Second

func newPacer(limits []DomainLimit, backoff time.Duration, now func() time.Time) *pacer {
	if backoff <= 0 {
		backoff = time.Minute
	}
	return &pacer{limits: limits, backoff: backoff, maxWait: time.Second, now: now, gates: map[string]*gate{}}
}

// gateFor returns the gate of domain, made on first use.
func (p *pacer) gateFor(domain string) *gate {
	key, rate, conns := domain, 0.0, 0
	for i, l := range p.limits {
		if matchesAny(l.Domains, domain) {
			key, rate, conns = fmt.Sprintf("limit %d", i+1), l.Rate, l.Connections
			break
		}
	}
	g := p.gates[key]
	if g == nil {
		if len(p.gates) >= max(p.sweepAt, sweepGates) {
			for k, old := range p.gates {
				if old.idle(p.now()) {
					delete(p.gates, k)
				}
			}
			p.sweepAt = 2 * len(p.gates)
		}
		g = &gate{key: key, rate: rate, conns: conns, factor: 1}
		p.gates[key] = g
	}
	return g
}

// matchesAny says whether domain is one of names, or under a "*." one.
func matchesAny(names []string, domain string) bool {
	for _, n := range names {
		n = strings.ToLower(n)
		if base, ok := strings.CutPrefix(n, "*."); ok {
			if domain == base || strings.HasSuffix(domain, "."+base) {
				return true
			}
		} else if domain == n {
			return true
		}
	}
	return false
}

// idle says whether g holds nothing that a new gate would not: no pause,
// no slowing, nothing in flight or reserved.
func (g *gate) idle(now time.Time) bool {
	return g.inFlight == 0 && len(g.reserved) == 0 && g.factor >= 1 && g.slow == 0 &&
		!g.paused.After(now) && !g.next.After(now)
}

// setShare splits every configured rate among n live senders, so that
// several instances sending one list keep the limits together.
func (p *pacer) setShare(n int) {
	p.mu.Lock()
	p.share = n
	p.mu.Unlock()
}

// interval is the time between two messages at g's pace, its configured
// rate split among share senders; 0 when unpaced.
func (g *gate) interval(share int) time.Duration {
	r := g.rate
	if r == 0 {
		if g.factor >= 1 {
			return 0
		}
		r = g.observed // what this sender saw: its own share already
	} else if share > 1 {
		r /= float64(share)
	}
	r *= g.factor
	if r <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / r)
}

// admit says whether delivery id to domain may go now. It returns wait>0
// when the worker should wait that long first, or back non-zero when the
// delivery should be given back until then. A caller that goes sends and
// then calls done.
func (p *pacer) admit(id int64, domain string) (wait time.Duration, back time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	g := p.gateFor(domain)
	slot, held := g.reserved[id]
	delete(g.reserved, id)
	if !held || slot.Before(g.paused) {
		slot = now
		if g.next.After(slot) {
			slot = g.next
		}
		if g.paused.After(slot) {
			slot = g.paused
		}
		g.next = slot.Add(g.interval(p.share))
	}
	busy := g.conns > 0 && g.inFlight >= g.conns
	if busy && !slot.After(now.Add(p.maxWait)) {
		// Every connection this group may use is busy: come back soon.
		slot = now.Add(p.maxWait)
	}
	if d := slot.Sub(now); busy || d > p.maxWait {
		if g.reserved == nil {
			g.reserved = map[int64]time.Time{}
		}
		g.reserved[id] = slot
		return 0, slot
	} else if d > 0 {
		wait = d
	}
	g.inFlight++
	return wait, time.Time{}
}

// done tells the pacer how a send it admitted ended: tryLater for a 421
// or 451 reply.
func (p *pacer) done(domain string, ok, tryLater bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	g := p.gateFor(domain)
	g.inFlight = max(g.inFlight-1, 0)
	switch {
	case tryLater:
		if g.rate == 0 && g.factor >= 1 {
			g.observed = max(g.observedRate(), 1)
		}
		pause := p.backoff
		for i := 0; i < g.slow && pause < maxBackoff; i++ {
			pause *= 2
		}
		g.slow++
		g.paused = now.Add(min(pause, maxBackoff))
		g.factor = max(g.factor/2, 1.0/64)
		g.good = 0
	case ok:
		g.slow = 0
		if g.rate == 0 && g.factor >= 1 {
			g.count(now)
		}
		if g.factor < 1 {
			if g.good++; g.good >= 50 {
				g.factor, g.good = min(g.factor*1.25, 1), 0
			}
		}
	}
}

// count counts one send at now in g's windows.
func (g *gate) count(now time.Time) {
	switch {
	case now.Sub(g.window) >= 2*paceWindow:
		g.window, g.sent, g.sentWas = now, 0, 0
	case now.Sub(g.window) >= paceWindow:
		g.window, g.sent, g.sentWas = g.window.Add(paceWindow), 0, g.sent
	}
	g.sent++
}

// observedRate is how many messages a second g sent in a recent window,
// the fuller of the current and the last.
func (g *gate) observedRate() float64 {
	return float64(max(g.sent, g.sentWas)) / paceWindow.Seconds()
}

// tryLater says whether an SMTP reply code asks the client to slow down
// for the domain: 421 (service not available, closing) and 451 (local
// error, often "too many messages, slow down").
func tryLater(code int) bool { return code == 421 || code == 451 }

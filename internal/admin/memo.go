package admin

import (
	"sync"
	"time"
)

// memo keeps counts that cost more than a page may spend (a GROUP BY over
// 100,000 rows) for a short while, as listmonk's dashboard keeps its
// materialised counts. An entry is used while it is younger than its ttl
// and its fingerprint (something cheap that changes when the value does)
// is the same. Safe for concurrent use.
type memo struct {
	mu sync.Mutex
	m  map[string]memoEntry
}

type memoEntry struct {
	at  time.Time
	fp  string
	ttl time.Duration
	v   any
}

// remember returns the value kept under name for fingerprint fp, or
// computes it with fn and keeps it for ttl. fresh computes it in any case
// (the refresh loop, Admin.Run).
func remember[T any](m *memo, name, fp string, now time.Time, ttl time.Duration, fresh bool, fn func() (T, error)) (T, error) {
	m.mu.Lock()
	e, ok := m.m[name]
	m.mu.Unlock()
	if !fresh && ok && e.fp == fp && now.Sub(e.at) < e.ttl && !now.Before(e.at) {
		return e.v.(T), nil
	}
	v, err := fn()
	if err != nil {
		return v, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]memoEntry{}
	}
	for k, old := range m.m {
		if now.Sub(old.at) >= old.ttl {
			delete(m.m, k)
		}
	}
	m.m[name] = memoEntry{at: now, fp: fp, ttl: ttl, v: v}
	return v, nil
}

package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// instanceLock keeps a second serve, or a run while serve is active, off
// one database. It is an flock on a file beside the database: the kernel
// releases it when the process ends, however it ends, so a lock left by a
// killed process is simply taken over by the next one.
type instanceLock struct{ f *os.File }

// errLocked is returned when another tidings holds the lock.
var errLocked = errors.New("another tidings is running on this database")

// lockInstance takes the lock of an SQLite database. A PostgreSQL
// database takes several instances, which share its work through the
// database itself (claims, leader locks): it returns a nil lock, whose
// release does nothing.
func lockInstance(db DatabaseConfig, what string) (*instanceLock, error) {
	if !db.SQLite() {
		return nil, nil
	}
	path := db.Path + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			advice := "stop it first, or use its HTTP server and schedules instead of " + what
			if what == "db copy" {
				advice = "stop it first, so that nothing changes during the copy"
			}
			return nil, fmt.Errorf("%w (%s, lock file %s); %s", errLocked, strings.TrimSpace(string(holder)), path, advice)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Who holds it, for the message a second instance prints.
	f.Truncate(0)
	f.WriteAt([]byte("tidings "+what+", pid "+strconv.Itoa(os.Getpid())+"\n"), 0)
	return &instanceLock{f: f}, nil
}

// release lets the next instance in.
func (l *instanceLock) release() {
	if l == nil {
		return
	}
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}

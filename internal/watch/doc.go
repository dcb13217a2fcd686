// Package watch tells when something changed in a set of folders or any
// folder below them, so that serve rescans its content folders within a
// moment of a file being added, changed or removed instead of at the next
// poll. It knows nothing of articles: it only coalesces the file system's
// events into one call per burst of changes.
//
// It watches folders, not files (inotify on Linux; kqueue elsewhere needs
// a descriptor per file and soon runs out), walks new subfolders as they
// appear and waits for a content folder that does not exist yet. When the
// operating system cannot watch them all (the user's inotify watches are
// used up, too many folders, a file system without notifications), Run
// returns the reason and the caller's poll is what finds changes.
package watch

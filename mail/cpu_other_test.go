//go:build !unix

package mail

import "time"

// cpuTime is 0 where getrusage is not there: the benchmarks then report
// no CPU time.
func cpuTime() time.Duration { return 0 }

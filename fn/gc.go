package fn

import (
	"runtime/debug"
	"runtime/metrics"
)

// collectLessWhileWriting changes the garbage collector's pacing for the
// writing of the output, and returns the function that restores it. Only
// for a process that runs nothing but this function (Options.OwnProcess):
// the settings are the whole process's.
//
// Performance: while the output is written the live heap only shrinks
// (each item's tree is dropped once written, writer.go) while go-yaml's
// encoder allocates some 50 KB of short-lived events per item. With the
// default pacing (GOGC=100, the next collection at twice the live heap)
// the collector then ran every 10-25 MB allocated: on the importer
// benchmark input of 5,000 Services some 55 of the run's 68 collections
// came in the last second, while the heap was 12-30 MB, the process
// having already held 240 MB. Here the collector is paced by a memory
// limit instead (GOGC off, as runtime/debug documents for this use): the
// larger of what the process holds now (mapped and not returned) and
// what the default pacing would allow (twice the live heap, at least
// 4 MB more). So writing collects far less often and the process's peak
// memory does not grow beyond what it already reached, or what GOGC=100
// would give.
func collectLessWhileWriting() (restore func()) {
	s := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	metrics.Read(s)
	for _, x := range s {
		if x.Value.Kind() != metrics.KindUint64 {
			return func() {}
		}
	}
	held := s[0].Value.Uint64() - s[1].Value.Uint64()
	limit := max(held, 2*s[2].Value.Uint64()+4<<20)
	oldLimit := debug.SetMemoryLimit(int64(limit))
	oldPercent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}

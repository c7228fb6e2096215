package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckGoBench reads BenchmarkScaling's lines as `go test -bench`
// prints them and checks each against the limit; a collection during the
// timing fails the check too, and BenchmarkProcess's times are shown.
func TestCheckGoBench(t *testing.T) {
	out := `goos: linux
BenchmarkProcess/exporter/services=1000-2         	     165	  22714323 ns/op	 7566528 B/op	   67434 allocs/op
BenchmarkProcess/exporter/services=10000-2        	      14	 248412371 ns/op	77907633 B/op	  672015 allocs/op
BenchmarkScaling/exporter/services=100-1000-2         	      41	  168400287 ns/op	         0 gc/op	        10.96 max-x	         8.968 median-x	         5.648 min-x
BenchmarkScaling/exporter/services=1000-10000-2       	      41	 1855786776 ns/op	         0 gc/op	        18.03 max-x	        11.01 median-x	         7.753 min-x
BenchmarkScaling/importer/services=1000-10000-2       	      41	 1855786776 ns/op	         0.02439 gc/op	        12.00 max-x	        9.5 median-x	         7.0 min-x
PASS
`
	file := filepath.Join(t.TempDir(), "gobench.txt")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	checkGoBench(file, 1.1, func(ok bool, format string, args ...any) {
		got = append(got, fmt.Sprintf("%v %s", ok, fmt.Sprintf(format, args...)))
	})
	want := []string{
		"true core exporter 100->1000 services: 8.97x time (median of 41 rounds, 5.6x-11.0x; 0 collections during timing; limit 11.0x)",
		"false core exporter 1000->10000 services: 11.01x time (median of 41 rounds, 7.8x-18.0x; 0 collections during timing; BenchmarkProcess 22.7 ms -> 248.4 ms; limit 11.0x)",
		"false core importer 1000->10000 services: 9.50x time (median of 41 rounds, 7.0x-12.0x; 1 collections during timing; limit 11.0x)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("checks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

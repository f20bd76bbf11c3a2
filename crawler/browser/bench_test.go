package browser

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkFetch fetches the SRE listing pages and articles of the gob.mx
// copy over loopback, one page at a time, through plain net/http and
// through the browser transport (without and behind the challenge). It
// reports pages/s and the peak resident memory of the test process and,
// for the browser, the sum of the peaks of the browser's processes. Run one
// sub-benchmark per process for clean peaks:
//
//	go test -run '^$' -bench 'Fetch/http$' ./crawler/browser
//	go test -run '^$' -bench 'Fetch/browser$' ./crawler/browser
//	go test -run '^$' -bench 'Fetch/browser-challenge$' ./crawler/browser
func BenchmarkFetch(b *testing.B) {
	plain := httptest.NewServer(extraPages(""))
	defer plain.Close()
	protected := newTestSite(b, "")
	b.Run("http", func(b *testing.B) {
		benchFetch(b, &http.Client{}, plain.URL, nil)
	})
	b.Run("browser", func(b *testing.B) {
		br := newTestBrowser(b, Options{})
		benchFetch(b, &http.Client{Transport: newTestTransport(b, br, TransportOptions{})}, plain.URL, br)
	})
	b.Run("browser-challenge", func(b *testing.B) {
		br := newTestBrowser(b, Options{})
		benchFetch(b, &http.Client{Transport: newTestTransport(b, br, TransportOptions{})}, protected.URL, br)
	})
}

func benchFetch(b *testing.B, client *http.Client, site string, br *Browser) {
	urls, _ := gobmxPages(b, site)
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		resp, err := client.Get(urls[i%len(urls)])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: status %d", urls[i%len(urls)], resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pages/s")
	b.ReportMetric(peakKB(os.Getpid())/1024, "go-peak-MB")
	if br != nil {
		if p := br.running(); p != nil {
			b.ReportMetric(treeSum(p.pid(), peakKB)/1024, "browser-peak-MB")
			b.ReportMetric(treeSum(p.pid(), pssKB)/1024, "browser-pss-MB")
		}
	}
}

// peakKB returns the peak resident set size (VmHWM) of a process, in kB.
// Pages shared with other processes count in each.
func peakKB(pid int) float64 { return procKB(pid, "status", "VmHWM:") }

// pssKB returns the proportional set size of a process now, in kB: shared
// pages are divided among the processes sharing them.
func pssKB(pid int) float64 { return procKB(pid, "smaps_rollup", "Pss:") }

// procKB reads the kB value of field in /proc/pid/file.
func procKB(pid int, file, field string) float64 {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), file))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb
		}
	}
	return 0
}

// treeSum sums measure over pid and all its descendants. For peakKB it is
// an upper bound of the tree's peak: the peaks need not coincide, and
// shared pages count once per process.
func treeSum(pid int, measure func(int) float64) float64 {
	parents := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name may hold spaces; the fields after it do not.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			parents[ppid] = append(parents[ppid], child)
		}
	}
	total, queue := 0.0, []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = append(queue[1:], parents[p]...)
		total += measure(p)
	}
	return total
}

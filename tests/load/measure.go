package main

// Timing, statistics and per-process CPU accounting for the login load test.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// batchResult is one timed batch: a latency and an outcome per operation, and the batch's wall time.
type batchResult struct {
	lat    []time.Duration
	errs   []error
	denied []bool
	wall   time.Duration
}

// runBatch runs op(0..n-1) on conc workers; every call is timed on its own. op returns
// (denied, err): denied marks an intended denial (a normal answer, not an error).
func runBatch(n, conc int, op func(i int) (bool, error)) batchResult {
	r := batchResult{lat: make([]time.Duration, n), errs: make([]error, n), denied: make([]bool, n)}
	var next int64 = -1
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= n {
					return
				}
				t := time.Now()
				r.denied[i], r.errs[i] = op(i)
				r.lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	r.wall = time.Since(start)
	return r
}

// series accumulates the batches of one kind of operation at one concurrency.
type series struct {
	lat        []time.Duration
	errors     int
	denials    int
	wall       time.Duration
	cpu        map[string]time.Duration // process -> CPU time spent during this series' batches
	sidecarUs  []float64                // the sidecar's own evaluate duration_us during the batches
	errSamples []string
}

func newSeries() *series { return &series{cpu: map[string]time.Duration{}} }

func (s *series) add(b batchResult, cpu map[string]time.Duration) {
	for i, d := range b.lat {
		s.lat = append(s.lat, d)
		switch {
		case b.errs[i] != nil:
			s.errors++
			if len(s.errSamples) < 5 {
				s.errSamples = append(s.errSamples, b.errs[i].Error())
			}
		case b.denied[i]:
			s.denials++
		}
	}
	s.wall += b.wall
	for k, v := range cpu {
		s.cpu[k] += v
	}
}

// summary is what the report shows for a series.
type summary struct {
	Count        int                `json:"count"`
	Errors       int                `json:"errors"`
	Denials      int                `json:"intended_denials"`
	MeanMs       float64            `json:"mean_ms"`
	P50Ms        float64            `json:"p50_ms"`
	P95Ms        float64            `json:"p95_ms"`
	P99Ms        float64            `json:"p99_ms"`
	MaxMs        float64            `json:"max_ms"`
	RPS          float64            `json:"rps"`
	CPUMsPerOp   map[string]float64 `json:"cpu_ms_per_op,omitempty"`
	SidecarUsP50 float64            `json:"sidecar_evaluate_us_p50,omitempty"`
	SidecarUsAvg float64            `json:"sidecar_evaluate_us_mean,omitempty"`
	ErrSamples   []string           `json:"error_samples,omitempty"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	if k < 0 {
		k = 0
	}
	return sorted[k]
}

func (s *series) summarize() summary {
	sorted := append([]time.Duration(nil), s.lat...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var total time.Duration
	for _, d := range sorted {
		total += d
	}
	out := summary{Count: len(sorted), Errors: s.errors, Denials: s.denials, ErrSamples: s.errSamples}
	if len(sorted) > 0 {
		out.MeanMs = ms(total / time.Duration(len(sorted)))
		out.P50Ms, out.P95Ms = ms(percentile(sorted, 50)), ms(percentile(sorted, 95))
		out.P99Ms, out.MaxMs = ms(percentile(sorted, 99)), ms(sorted[len(sorted)-1])
	}
	if s.wall > 0 {
		out.RPS = math.Round(float64(len(sorted))/s.wall.Seconds()*10) / 10
	}
	if len(s.cpu) > 0 && len(sorted) > 0 {
		out.CPUMsPerOp = map[string]float64{}
		var sum time.Duration
		for k, v := range s.cpu {
			out.CPUMsPerOp[k] = math.Round(float64(v)/float64(len(sorted))/1e3) / 1e3
			sum += v
		}
		out.CPUMsPerOp["total"] = math.Round(float64(sum)/float64(len(sorted))/1e3) / 1e3
	}
	if n := len(s.sidecarUs); n > 0 {
		us := append([]float64(nil), s.sidecarUs...)
		sort.Float64s(us)
		var sum float64
		for _, v := range us {
			sum += v
		}
		out.SidecarUsP50, out.SidecarUsAvg = us[(n-1)/2], math.Round(sum/float64(n))
	}
	return out
}

// pairSum combines two series operation by operation (a nonce request and the login that used
// it): latency = sum of both, wall time = both batches.
func pairSum(a, b *series) *series {
	s := newSeries()
	for i := range a.lat {
		if i < len(b.lat) {
			s.lat = append(s.lat, a.lat[i]+b.lat[i])
		}
	}
	s.errors, s.denials, s.wall = a.errors+b.errors, a.denials+b.denials, a.wall+b.wall
	s.errSamples = append(append([]string(nil), a.errSamples...), b.errSamples...)
	for k, v := range a.cpu {
		s.cpu[k] += v
	}
	for k, v := range b.cpu {
		s.cpu[k] += v
	}
	s.sidecarUs = b.sidecarUs
	return s
}

// procs names the processes whose CPU time is accounted: the server, its plugin processes
// (found as its children at each sample), the sidecar, and this program.
type procs struct {
	server, sidecar int
}

const clockTicks = 100 // USER_HZ on Linux

// cpuOf returns utime+stime of a process (all its threads) from /proc/PID/stat.
func cpuOf(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * time.Second / clockTicks
}

// childrenOf lists the pids whose parent is pid.
func childrenOf(pid int) []int {
	var out []int
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			if c, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/proc/"), "/stat")); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

func (p procs) sample() map[string]time.Duration {
	m := map[string]time.Duration{"loadgen": cpuOf(os.Getpid())}
	if p.server > 0 {
		m["server"] = cpuOf(p.server)
		for _, c := range childrenOf(p.server) {
			m["plugin"] += cpuOf(c)
		}
	}
	if p.sidecar > 0 {
		m["sidecar"] = cpuOf(p.sidecar)
	}
	return m
}

func diff(after, before map[string]time.Duration) map[string]time.Duration {
	d := map[string]time.Duration{}
	for k, v := range after {
		d[k] = v - before[k]
	}
	return d
}

// sidecarLog reads the sidecar's JSON-lines decision log from where it last stopped.
type sidecarLog struct {
	path   string
	offset int64
}

func (l *sidecarLog) skipToEnd() {
	if fi, err := os.Stat(l.path); err == nil {
		l.offset = fi.Size()
	}
}

// evaluations returns duration_us and decision of every evaluate entry since the last call.
func (l *sidecarLog) evaluations() (durations []float64, decisions map[string]int) {
	decisions = map[string]int{}
	if l.path == "" {
		return nil, decisions
	}
	f, err := os.Open(l.path)
	if err != nil {
		return nil, decisions
	}
	defer f.Close()
	if _, err := f.Seek(l.offset, io.SeekStart); err != nil {
		return nil, decisions
	}
	r := bufio.NewReaderSize(f, 1<<16)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			break // a partial last line is read next time
		}
		l.offset += int64(len(line))
		var e struct {
			Event      string  `json:"event"`
			Decision   string  `json:"decision"`
			DurationUs float64 `json:"duration_us"`
		}
		if json.Unmarshal(line, &e) == nil && e.Event == "evaluate" {
			durations = append(durations, e.DurationUs)
			decisions[e.Decision]++
		}
	}
	return durations, decisions
}

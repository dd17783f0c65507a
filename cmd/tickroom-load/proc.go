package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux build Go supports.
const clockTicks = 100

// procCPU returns the user+sys CPU time a process has used so far, from
// /proc/PID/stat (all threads).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("proc: read stat of %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; fields after it are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc: stat of %d: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("proc: stat of %d: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("proc: stat of %d: bad utime/stime %q %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// selfCPU returns this process's user+sys CPU time (microsecond resolution).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0 // Getrusage(RUSAGE_SELF) cannot fail on Linux
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memInfo is a process's resident memory from /proc/PID/status.
type memInfo struct {
	RSS  int64 // VmRSS, bytes now
	Peak int64 // VmHWM, bytes at the peak of the process's life
}

func procMem(pid int) (memInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}, fmt.Errorf("proc: read status of %d: %w", pid, err)
	}
	var m memInfo
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.Peak
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return memInfo{}, fmt.Errorf("proc: status of %d: %s %q: %w", pid, k, v, err)
		}
		*dst = kb * 1024
	}
	return m, nil
}

// loadAvg returns the first three fields of /proc/loadavg ("1.20 0.80 0.50").
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return strings.TrimSpace(string(b))
	}
	return strings.Join(f[:3], " ")
}

// raiseFileLimit lifts RLIMIT_NOFILE to at least want open files; a child
// server started afterwards inherits the new limit. Raising the hard limit
// needs CAP_SYS_RESOURCE (root in a container may lack it); without it the
// soft limit goes as high as the hard one allows and the returned value
// says how far.
func raiseFileLimit(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("rlimit: get: %w", err)
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	next := syscall.Rlimit{Cur: want, Max: max(lim.Max, want)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err == nil {
		return want, nil
	}
	next = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err != nil {
		return lim.Cur, fmt.Errorf("rlimit: set %d: %w", lim.Max, err)
	}
	return lim.Max, nil
}

// cpuMeter turns two CPU readings of a process into CPU seconds per wall
// second. A nil *cpuMeter (the server's process is unknown) measures nothing.
type cpuMeter struct {
	self     bool
	pid      int
	pids     []int // several processes, added up (pid unused)
	cpu0     time.Duration
	wall0    time.Time
	err      error
	lastCPU  time.Duration
	lastWall time.Time
}

// newCPUMeter measures process pid; pid 0 (unknown) gives nil.
func newCPUMeter(pid int) *cpuMeter {
	if pid <= 0 {
		return nil
	}
	m := &cpuMeter{pid: pid}
	m.reset()
	return m
}

// newCPUMeterSum measures the CPU of several processes added up (a
// cluster's nodes, its NATS servers); none gives nil.
func newCPUMeterSum(pids []int) *cpuMeter {
	if len(pids) == 0 {
		return nil
	}
	m := &cpuMeter{pids: append([]int(nil), pids...)}
	m.reset()
	return m
}

// newSelfCPUMeter measures this process.
func newSelfCPUMeter() *cpuMeter {
	m := &cpuMeter{self: true}
	m.reset()
	return m
}

func (m *cpuMeter) read() time.Duration {
	if m.self {
		return selfCPU()
	}
	if len(m.pids) > 0 {
		var sum time.Duration
		for _, pid := range m.pids {
			c, err := procCPU(pid)
			if err != nil && m.err == nil {
				m.err = err
			}
			sum += c
		}
		return sum
	}
	c, err := procCPU(m.pid)
	if err != nil && m.err == nil {
		m.err = err
	}
	return c
}

// reset starts a new measurement from now.
func (m *cpuMeter) reset() {
	if m == nil {
		return
	}
	m.cpu0, m.wall0 = m.read(), time.Now()
	m.lastCPU, m.lastWall = m.cpu0, m.wall0
}

// share returns CPU seconds per wall second since reset (nil: not measured).
func (m *cpuMeter) share() *float64 {
	if m == nil {
		return nil
	}
	c, w := m.read(), time.Now()
	if m.err != nil {
		return nil
	}
	d := w.Sub(m.wall0).Seconds()
	if d <= 0 {
		return nil
	}
	v := (c - m.cpu0).Seconds() / d
	return &v
}

// tick returns the CPU share since the previous tick call, for progress
// lines (0 when not measured).
func (m *cpuMeter) tick() float64 {
	if m == nil {
		return 0
	}
	c, w := m.read(), time.Now()
	share := 0.0
	if d := w.Sub(m.lastWall); d > 0 {
		share = (c - m.lastCPU).Seconds() / d.Seconds()
	}
	m.lastCPU, m.lastWall = c, w
	return share
}

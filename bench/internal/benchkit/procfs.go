// Package benchkit holds what the bench/ harnesses share: building and
// starting ecsd (and other servers) as child processes and stopping them,
// an ECS client for it, reading /proc (process CPU, memory, the demo app
// processes of an ecsd), running clean-ups once, on normal exit, fatal error
// or signal, and the report's notes and JSON.
package benchkit

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ClkTck is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is 100 on
// every Linux architecture Go supports (reading it needs sysconf, i.e. cgo).
const ClkTck = 100

// ProcStat is what the benchmark reads from /proc/PID/stat.
type ProcStat struct {
	Pid, PPid int
	State     byte
	Ticks     uint64 // utime + stime, in 1/ClkTck s
	Start     uint64 // starttime: with pid, identifies a process across pid reuse
}

func ReadStat(pid int) (ProcStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcStat{}, err
	}
	i := bytes.LastIndexByte(b, ')') // comm may hold spaces and parentheses
	if i < 0 || i+2 > len(b) {
		return ProcStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+2:])) // f[0] is field 3 (state)
	if len(f) < 20 {
		return ProcStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	num := func(s string) uint64 { n, _ := strconv.ParseUint(s, 10, 64); return n }
	return ProcStat{
		Pid:   pid,
		PPid:  int(num(f[1])),
		State: f[0][0],
		Ticks: num(f[11]) + num(f[12]),
		Start: num(f[19]),
	}, nil
}

// StatusField returns the number in a /proc/PID/status line ("VmRSS:  1234 kB"
// → 1234, "Threads: 9" → 9); -1 if it cannot be read.
func StatusField(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	return FieldOf(b, key)
}

func FieldOf(b []byte, key string) int64 {
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return n
				}
			}
		}
	}
	return -1
}

// MemAvailableKiB is MemAvailable from /proc/meminfo.
func MemAvailableKiB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	return FieldOf(b, "MemAvailable")
}

// FDCount is the number of open file descriptors of pid (-1 if unreadable).
func FDCount(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

// ProcInfo is a point-in-time view of one process.
type ProcInfo struct {
	RSSKiB  int64 `json:"rss_kib"`
	Threads int64 `json:"threads"`
	FDs     int   `json:"fds"`
}

func InfoOf(pid int) ProcInfo {
	return ProcInfo{RSSKiB: StatusField(pid, "VmRSS"), Threads: StatusField(pid, "Threads"), FDs: FDCount(pid)}
}

// DemoProcs returns the live (non-zombie) demo app processes of an ecsd: the
// descendants of root (by the ppid chain in /proc) whose command line holds
// the word "demoapp". The process runtime starts them as direct children of
// ecsd (`<ecsd binary> demoapp`, each in its own process group).
func DemoProcs(root int) []ProcStat {
	var out []ProcStat
	for _, c := range Descendants(root) {
		if c.State == 'Z' || !IsDemo(c.Pid) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Descendants returns every process below root in the ppid chain of /proc
// (zombies included), parents before their children.
func Descendants(root int) []ProcStat {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]ProcStat{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := ReadStat(pid)
		if err != nil {
			continue // exited meanwhile
		}
		children[st.PPid] = append(children[st.PPid], st)
	}
	var out []ProcStat
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			queue = append(queue, c.Pid)
			out = append(out, c)
		}
	}
	return out
}

// TreeTicks is the CPU time (utime+stime, 1/ClkTck s) of root and its live
// descendants, e.g. an nginx master and its workers. Time of children that
// have already exited is not counted.
func TreeTicks(root int) uint64 {
	st, err := ReadStat(root)
	if err != nil {
		return 0
	}
	n := st.Ticks
	for _, c := range Descendants(root) {
		n += c.Ticks
	}
	return n
}

func IsDemo(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	for arg := range bytes.SplitSeq(b, []byte{0}) {
		if string(arg) == "demoapp" {
			return true
		}
	}
	return false
}

// SameProcess reports whether p still names the process it was read from.
func SameProcess(p ProcStat) bool {
	st, err := ReadStat(p.Pid)
	return err == nil && st.Start == p.Start && st.State != 'Z'
}

package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clkTck is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is 100 on
// every Linux architecture Go supports (reading it needs sysconf, i.e. cgo).
const clkTck = 100

// procStat is what the benchmark reads from /proc/PID/stat.
type procStat struct {
	pid, ppid int
	state     byte
	ticks     uint64 // utime + stime, in 1/clkTck s
	start     uint64 // starttime: with pid, identifies a process across pid reuse
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')') // comm may hold spaces and parentheses
	if i < 0 || i+2 > len(b) {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+2:])) // f[0] is field 3 (state)
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	num := func(s string) uint64 { n, _ := strconv.ParseUint(s, 10, 64); return n }
	return procStat{
		pid:   pid,
		ppid:  int(num(f[1])),
		state: f[0][0],
		ticks: num(f[11]) + num(f[12]),
		start: num(f[19]),
	}, nil
}

// statusField returns the number in a /proc/PID/status line ("VmRSS:  1234 kB"
// → 1234, "Threads: 9" → 9); -1 if it cannot be read.
func statusField(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	return fieldOf(b, key)
}

func fieldOf(b []byte, key string) int64 {
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

// memAvailableKiB is MemAvailable from /proc/meminfo.
func memAvailableKiB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	return fieldOf(b, "MemAvailable")
}

// fdCount is the number of open file descriptors of pid (-1 if unreadable).
func fdCount(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

// procInfo is a point-in-time view of one process.
type procInfo struct {
	RSSKiB  int64 `json:"rss_kib"`
	Threads int64 `json:"threads"`
	FDs     int   `json:"fds"`
}

func infoOf(pid int) procInfo {
	return procInfo{RSSKiB: statusField(pid, "VmRSS"), Threads: statusField(pid, "Threads"), FDs: fdCount(pid)}
}

// demoProcs returns the live (non-zombie) demo app processes of an ecsd: the
// descendants of root (by the ppid chain in /proc) whose command line holds
// the word "demoapp". The process runtime starts them as direct children of
// ecsd (`<ecsd binary> demoapp`, each in its own process group).
func demoProcs(root int) []procStat {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]procStat{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // exited meanwhile
		}
		children[st.ppid] = append(children[st.ppid], st)
	}
	var out []procStat
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			queue = append(queue, c.pid)
			if c.state == 'Z' || !isDemo(c.pid) {
				continue
			}
			out = append(out, c)
		}
	}
	return out
}

func isDemo(pid int) bool {
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

// sameProcess reports whether p still names the process it was read from.
func sameProcess(p procStat) bool {
	st, err := readStat(p.pid)
	return err == nil && st.start == p.start && st.state != 'Z'
}

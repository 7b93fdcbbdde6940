package process

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procStat is what we use of /proc/<pid>/stat.
type procStat struct {
	state      byte   // R, S, D, Z, ...
	startTicks uint64 // start time after boot, in clock ticks
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name (field 2) is in parentheses and may contain
	// anything, so split after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ticks, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: starttime: %w", pid, err)
	}
	return procStat{state: fields[0][0], startTicks: ticks}, nil
}

// alive reports whether pid is still the process that started at
// startTicks and has not exited.
func alive(pid int, startTicks uint64) bool {
	st, err := readProcStat(pid)
	return err == nil && st.startTicks == startTicks && st.state != 'Z' && st.state != 'X'
}

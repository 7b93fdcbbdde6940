package benchkit

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Setup makes the benchmark's temp dir, removed at exit (or, with keep,
// kept and its path printed), and makes SIGINT/SIGTERM run the clean-ups.
func Setup(program string, keep bool) (tmp string) {
	tmp, err := os.MkdirTemp("", "ecsd-bench-"+program+"-")
	if err != nil {
		Fatal(program, err)
	}
	AtExit(func() {
		if keep {
			fmt.Println("kept", tmp)
		} else {
			os.RemoveAll(tmp)
		}
	})
	CleanUpOnSignal()
	return tmp
}

// PrintNotes prints the notes, if any, as a list after a blank line.
func PrintNotes(notes []string) {
	if len(notes) > 0 {
		fmt.Println("\nNotes:")
		for _, n := range notes {
			fmt.Println("  - " + n)
		}
	}
}

// WriteJSON writes v, indented, to path.
func WriteJSON(path string, v any) error {
	b, _ := json.MarshalIndent(v, "", "  ")
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Finish writes report as JSON to jsonPath, if set, and exits with code (1
// if it could not write).
func Finish(program string, code int, jsonPath string, report any) {
	if jsonPath != "" {
		if err := WriteJSON(jsonPath, report); err != nil {
			fmt.Fprintln(os.Stderr, program+":", err)
			code = 1
		} else {
			fmt.Printf("\nJSON written to %s\n", jsonPath)
		}
	}
	Exit(code)
}

// LoadAvg is the 1, 5 and 15 minute load average.
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

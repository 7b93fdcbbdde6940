package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// ecspressoCompatible names the commands that work as ecspresso's (v2) do
// and, for each, the flags that mean what ecspresso's flag of the same
// name means. Help marks them "(as ecspresso)"; the rest is ecsctl's own.
var ecspressoCompatible = map[string][]string{
	"delete":     {"dry-run", "force", "terminate"},
	"deploy":     {"dry-run", "force-new-deployment", "latest-task-definition", "no-wait", "resume-auto-scaling", "revision", "skip-task-definition", "suspend-auto-scaling", "tasks", "wait-until"},
	"deregister": {"dry-run", "force", "keeps", "revision"},
	"diff":       {"unified"},
	"init":       {"cluster", "force-overwrite", "jsonnet", "region", "service", "service-definition-path", "task-definition-path"},
	"register":   {"dry-run"},
	"render":     nil,
	"revisions":  {"output", "revision"},
	"rollback":   {"deregister-task-definition", "dry-run", "no-wait", "rollback-events", "wait-until"},
	"run":        {"count", "dry-run", "latest-task-definition", "no-wait", "overrides", "overrides-file", "revision", "skip-task-definition", "wait-until", "watch-container"},
	"scale":      {"dry-run", "no-wait", "resume-auto-scaling", "suspend-auto-scaling", "tasks"},
	"status":     nil,
	"tasks":      {"find", "force", "id", "output", "stop"},
	"verify":     nil,
	"wait":       {"wait-until"},
}

// ecspressoGlobalFlags are the global flags ecspresso takes too.
var ecspressoGlobalFlags = []string{"config", "debug", "envfile", "ext-code", "ext-str", "timeout"}

const asEcspresso = " (as ecspresso)"

// usage is `ecsctl --help`: every command with its one-line summary, the
// global flags, where the endpoint comes from and the exit codes.
func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: ecsctl <command> [flags]

ecsctl deploys ECS services from ecspresso-style configs to any ECS endpoint
(ecsd locally, Amazon ECS in production) and reports a failed deployment the
moment ECS knows it.

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s%s\n", n, commands[n].summary, ecspressoMark(n))
	}
	fmt.Fprint(w, `  version    print the version
  help       print this help, or 'ecsctl help <command>' a command's description and flags

Global flags (every command takes them):
`)
	fs := flag.NewFlagSet("ecsctl", flag.ContinueOnError)
	var g globals
	g.register(fs, func(string) string { return "" })
	writeFlags(w, fs, nil, ecspressoGlobalFlags)
	fmt.Fprint(w, `
The endpoint, region and credentials come from the standard AWS SDK
configuration: AWS_ENDPOINT_URL=http://127.0.0.1:5440 points every service
ecsctl calls (ECS, ELBv2, Application Auto Scaling) at ecsd.

Exit codes: 0 success, 1 error, 2 deployment failed or rolled back, 3 timeout.
run (--wait-until stopped, the default) exits with the watched container's
exit code once its tasks have stopped (the first non-zero one of them), 2 if
a task stopped before that container ran, and 1 or 3 if ecsctl itself failed
or timed out first; its last line tells which (with --log-format json, its
"kind" is "exit", "failure" or "error").
`)
}

// commandHelp is `ecsctl help <command>` and `ecsctl <command> --help`:
// the command's description, its flags, then the global flags.
func commandHelp(w io.Writer, name string) {
	cmd := commands[name]
	fs := flag.NewFlagSet("ecsctl "+name, flag.ContinueOnError)
	var g globals
	g.register(fs, func(string) string { return "" })
	global := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { global[f.Name] = true })
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	use := "Usage: ecsctl " + name + " [flags]"
	if cmd.args != "" {
		use += " " + cmd.args
	}
	fmt.Fprintf(w, "%s\n\n%s%s.\n", use, upperFirst(cmd.summary), ecspressoMark(name))
	if cmd.details != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(cmd.details))
	}
	own := func(n string) bool { return !global[n] }
	if hasFlags(fs, own) {
		fmt.Fprint(w, "\nFlags:\n")
		writeFlags(w, fs, own, ecspressoCompatible[name])
	}
	fmt.Fprint(w, "\nGlobal flags:\n")
	writeFlags(w, fs, func(n string) bool { return global[n] }, ecspressoGlobalFlags)
}

func ecspressoMark(command string) string {
	if _, ok := ecspressoCompatible[command]; ok {
		return asEcspresso
	}
	return ""
}

func hasFlags(fs *flag.FlagSet, keep func(string) bool) bool {
	found := false
	fs.VisitAll(func(f *flag.Flag) { found = found || keep(f.Name) })
	return found
}

// writeFlags prints the flags keep selects (all when nil), one line each:
// name and value placeholder, description, default, and "(as ecspresso)"
// for those named in ecspresso.
func writeFlags(w io.Writer, fs *flag.FlagSet, keep func(string) bool, ecspresso []string) {
	type row struct{ left, right string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		if keep != nil && !keep(f.Name) {
			return
		}
		placeholder, desc := flag.UnquoteUsage(f)
		left := "--" + f.Name
		switch {
		case strings.ContainsAny(placeholder, "|="): // a form: text|json, KEY=VALUE
			left += " " + placeholder
		case placeholder != "": // a type or a noun: DURATION, FILE
			left += " " + strings.ToUpper(placeholder)
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "-1" && !strings.Contains(desc, "default") {
			desc += " (default " + d + ")"
		}
		if slices.Contains(ecspresso, f.Name) {
			desc += asEcspresso
		}
		rows = append(rows, row{left, desc})
		width = max(width, len(left))
	})
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.left, r.right)
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

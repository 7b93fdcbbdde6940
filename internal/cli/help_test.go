package cli

import (
	"bytes"
	"flag"
	"slices"
	"strings"
	"testing"
)

func runHelp(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(args, &out, &errOut, func(string) string { return "" }); code != ExitOK {
		t.Fatalf("ecsctl %s: exit %d, stderr %s", strings.Join(args, " "), code, errOut.String())
	}
	if errOut.Len() != 0 {
		t.Errorf("ecsctl %s wrote to stderr: %s", strings.Join(args, " "), errOut.String())
	}
	return out.String()
}

// commandFlags are the flags a command registers besides the global ones.
func commandFlags(name string) []*flag.Flag {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if c := commands[name]; c.flags != nil {
		c.flags(fs)
	}
	var fl []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { fl = append(fl, f) })
	return fl
}

// lineOf is the help line that describes flag name.
func lineOf(help, name string) string {
	for _, l := range strings.Split(help, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "--"+name+" ") || strings.TrimSpace(l) == "--"+name {
			return l
		}
	}
	return ""
}

func TestUsageListsEveryCommand(t *testing.T) {
	help := runHelp(t, "--help")
	for _, args := range [][]string{{"help"}, {"-h"}, {}} {
		if got := runHelp(t, args...); got != help {
			t.Errorf("ecsctl %v prints another help than ecsctl --help", args)
		}
	}
	for name, c := range commands {
		want := "  " + name + strings.Repeat(" ", max(1, 11-len(name))) + c.summary + ecspressoMark(name) + "\n"
		if !strings.Contains(help, want) {
			t.Errorf("the help lacks the line %q", want)
		}
	}
	for _, want := range []string{"  version    print the version\n", "  help       ", "AWS_ENDPOINT_URL=http://127.0.0.1:5440", "Exit codes:"} {
		if !strings.Contains(help, want) {
			t.Errorf("the help lacks %q", want)
		}
	}
	for _, g := range append(slices.Clone(ecspressoGlobalFlags), "log-format") {
		l := lineOf(help, g)
		if l == "" {
			t.Errorf("the help lacks the global flag --%s", g)
		}
		if marked := strings.HasSuffix(l, asEcspresso); marked != slices.Contains(ecspressoGlobalFlags, g) {
			t.Errorf("global flag --%s: marked as ecspresso's %v, want %v: %q", g, marked, !marked, l)
		}
	}
}

func TestCommandHelp(t *testing.T) {
	for name, c := range commands {
		help := runHelp(t, name, "--help")
		if got := runHelp(t, "help", name); got != help {
			t.Errorf("%s: 'ecsctl help %s' and 'ecsctl %s --help' differ", name, name, name)
		}
		if got := runHelp(t, name, "-h"); got != help {
			t.Errorf("%s: -h and --help differ", name)
		}
		if !strings.HasPrefix(help, "Usage: ecsctl "+name+" [flags]") {
			t.Errorf("%s: the help does not start with its usage line:\n%s", name, help)
		}
		if !strings.Contains(help, upperFirst(c.summary)+ecspressoMark(name)+".\n") {
			t.Errorf("%s: the help lacks the description %q:\n%s", name, c.summary, help)
		}
		if !strings.Contains(help, "\nGlobal flags:\n") || lineOf(help, "config") == "" {
			t.Errorf("%s: the help lacks the global flags", name)
		}
		for _, f := range commandFlags(name) {
			l := lineOf(help, f.Name)
			_, desc := flag.UnquoteUsage(f)
			switch {
			case l == "":
				t.Errorf("%s: the help lacks --%s", name, f.Name)
			case strings.TrimSpace(desc) == "" || strings.Contains(f.Usage, "\n"):
				t.Errorf("%s --%s: the description is not one line: %q", name, f.Name, f.Usage)
			case !strings.Contains(l, desc):
				t.Errorf("%s --%s: the line %q lacks the description %q", name, f.Name, l, desc)
			}
			if marked, want := strings.HasSuffix(l, asEcspresso), slices.Contains(ecspressoCompatible[name], f.Name); marked != want {
				t.Errorf("%s --%s: marked as ecspresso's %v, want %v", name, f.Name, marked, want)
			}
		}
	}
}

// Every flag the ecspresso table names exists, so a renamed flag cannot
// leave a stale entry.
func TestEcspressoTableNamesRealFlags(t *testing.T) {
	for name, flags := range ecspressoCompatible {
		if _, ok := commands[name]; !ok {
			t.Errorf("ecspressoCompatible names the command %q, which ecsctl does not have", name)
			continue
		}
		have := map[string]bool{}
		for _, f := range commandFlags(name) {
			have[f.Name] = true
		}
		for _, f := range flags {
			if !have[f] {
				t.Errorf("ecspressoCompatible[%q] names --%s, which the command does not take", name, f)
			}
		}
	}
	fs := flag.NewFlagSet("g", flag.ContinueOnError)
	var g globals
	g.register(fs, func(string) string { return "" })
	for _, f := range ecspressoGlobalFlags {
		if fs.Lookup(f) == nil {
			t.Errorf("ecspressoGlobalFlags names --%s, which is no global flag", f)
		}
	}
}

func TestHelpOfAnUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"help", "nope"}, &out, &errOut, func(string) string { return "" }); code != ExitError || !strings.Contains(errOut.String(), `unknown command "nope"`) {
		t.Errorf("ecsctl help nope: exit %d, stderr %q", code, errOut.String())
	}
}

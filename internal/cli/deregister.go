package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"golang.org/x/term"
)

type deregisterFlags struct {
	revision             string
	keeps                int
	dryRun, force, purge bool
}

func init() {
	var f deregisterFlags
	commands["deregister"] = command{
		summary: "deregister revisions of the family (--revision N or --keeps N); never one in use",
		flags: func(fs *flag.FlagSet) func() {
			fs.StringVar(&f.revision, "revision", "", "deregister this revision (a number, or latest)")
			fs.IntVar(&f.keeps, "keeps", 0, "deregister all but the newest N revisions that are not in use")
			fs.BoolVar(&f.dryRun, "dry-run", false, "print what would be deregistered, change nothing")
			fs.BoolVar(&f.force, "force", false, "do not ask for confirmation (needed when stdin is not a terminal)")
			fs.BoolVar(&f.purge, "delete", false, "also delete the deregistered revisions (DeleteTaskDefinitions)")
			return nil
		},
		run: func(a *app, args []string) error { return a.deregister(f) },
	}
}

// stdinTerminal returns where confirmations are read from and whether it
// is a terminal; tests replace it.
var stdinTerminal = func() (io.Reader, bool) {
	return os.Stdin, term.IsTerminal(int(os.Stdin.Fd()))
}

func (a *app) deregister(f deregisterFlags) error {
	switch {
	case f.revision != "" && f.keeps != 0:
		return errors.New("--revision and --keeps exclude each other: pass one")
	case f.revision == "" && f.keeps == 0:
		return errors.New("nothing to deregister: pass --revision N (or latest) or --keeps N")
	case f.keeps < 0:
		return fmt.Errorf("--keeps %d: keep at least 1 revision", f.keeps)
	}
	if _, tty := stdinTerminal(); !f.dryRun && !f.force && !tty {
		return errors.New("refusing to deregister without confirmation: stdin is not a terminal; pass --force to deregister without asking, or --dry-run to see what would be deregistered")
	}
	ctx, cancel := signalContext()
	defer cancel()
	family, svc, err := a.familyService(ctx)
	if err != nil {
		return err
	}
	active, inUse, err := a.revisionUses(ctx, family, svc)
	if err != nil {
		return err
	}

	var targets []string
	if f.revision != "" {
		name, err := a.namedRevision(ctx, family, f.revision)
		if err != nil {
			return err
		}
		if use := inUse[name]; use != "" {
			return fmt.Errorf("%s is in use (%s): ecsctl never deregisters a revision the service or a running task uses; deploy or roll back to another revision first", name, use)
		}
		if !slices.Contains(active, name) {
			return fmt.Errorf("%s is not an ACTIVE revision of %s (ecsctl revisions lists them)", name, family)
		}
		targets = []string{name}
	} else {
		for _, n := range active {
			if use := inUse[n]; use != "" {
				a.out.info("%s is in use (%s); keeping it", n, use)
			}
		}
		targets = revisionsBeyond(active, inUse, f.keeps)
		if len(targets) == 0 {
			a.out.info("nothing to deregister: --keeps %d keeps every revision of %s not in use", f.keeps, family)
			return nil
		}
	}

	if f.dryRun {
		for _, n := range targets {
			a.out.info("dry run: would deregister %s", n)
		}
		return nil
	}
	if !f.force {
		ok, err := a.confirm(fmt.Sprintf("Deregister %s?", strings.Join(targets, ", ")))
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("not confirmed; nothing deregistered")
		}
	}
	for _, n := range targets {
		if _, err := a.ecs.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(n)}); err != nil {
			return fmt.Errorf("deregistering %s: %w", n, err)
		}
		a.out.info("deregistered %s", n)
	}
	if f.purge {
		for chunk := range slices.Chunk(targets, 10) {
			out, err := a.ecs.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: chunk})
			if err != nil {
				return fmt.Errorf("deleting %s: %w", strings.Join(chunk, ", "), err)
			}
			if len(out.Failures) > 0 {
				fl := out.Failures[0]
				return fmt.Errorf("deleting %s: %s", aws.ToString(fl.Arn), aws.ToString(fl.Reason))
			}
			a.out.info("deleted %s", strings.Join(chunk, ", "))
		}
	}
	return nil
}

// namedRevision resolves --revision (a number or "latest") to family:revision.
func (a *app) namedRevision(ctx context.Context, family, revision string) (string, error) {
	if revision == "latest" {
		td, _, err := a.describeTaskDefinition(ctx, family)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s:%d", family, td.Revision), nil
	}
	n, err := strconv.Atoi(revision)
	if err != nil || n < 1 {
		return "", fmt.Errorf("--revision %q: use a revision number or latest", revision)
	}
	return fmt.Sprintf("%s:%d", family, n), nil
}

// revisionsBeyond picks, from the ACTIVE revisions (oldest first), those
// to deregister so that keeps of the ones not in use remain: the oldest
// not in use. Revisions in use are never picked.
func revisionsBeyond(active []string, inUse map[string]string, keeps int) []string {
	var free []string
	for _, n := range active {
		if inUse[n] == "" {
			free = append(free, n)
		}
	}
	if len(free) <= keeps {
		return nil
	}
	return free[:len(free)-keeps]
}

// confirm asks a yes/no question on the terminal; only "y" or "yes" is yes.
func (a *app) confirm(question string) (bool, error) {
	in, _ := stdinTerminal()
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

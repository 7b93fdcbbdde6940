package cli

import (
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func init() {
	var dryRun bool
	var output string
	commands["register"] = command{
		summary: "register the local task definition as a new revision and print its ARN",
		flags: func(fs *flag.FlagSet) func() {
			fs.BoolVar(&dryRun, "dry-run", false, "print the task definition that would be registered, register nothing")
			fs.StringVar(&output, "output", "arn", "what to print: arn, or json (the registered task definition)")
			return nil
		},
		run: func(a *app, args []string) error { return a.register(dryRun, output) },
	}
}

func (a *app) register(dryRun bool, output string) error {
	if output != "arn" && output != "json" {
		return fmt.Errorf("--output %q: use arn or json", output)
	}
	if err := a.load(); err != nil {
		return err
	}
	td, warns, err := a.cfg.TaskDefinition()
	a.warn(warns)
	if err != nil {
		return err
	}
	if dryRun {
		b, err := apiJSON(td)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "dry run: would register this as a new revision of %s; nothing registered\n", aws.ToString(td.Family))
		_, err = a.stdout.Write(b)
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	if err := a.client(ctx); err != nil {
		return err
	}
	out, err := a.ecs.RegisterTaskDefinition(ctx, td)
	if err != nil {
		return fmt.Errorf("registering task definition %s: %w", aws.ToString(td.Family), err)
	}
	if output == "json" {
		b, err := apiJSON(out.TaskDefinition)
		if err != nil {
			return err
		}
		_, err = a.stdout.Write(b)
		return err
	}
	fmt.Fprintln(a.stdout, aws.ToString(out.TaskDefinition.TaskDefinitionArn))
	return nil
}

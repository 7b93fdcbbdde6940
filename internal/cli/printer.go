package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/term"
)

// printer writes what ecsctl reports, in one of three forms:
//
//   - text: timestamped lines ("15:04:05 message"); warnings and errors on
//     stderr;
//   - json (--log-format json): one JSON object per line with time, level,
//     kind, message and the fields of the kind (deployment counts, exit
//     codes, ...), errors included;
//   - live: text, but when stdout is a terminal the deployments a command
//     waits for are a block redrawn in place (see renderLive), with service
//     events and other lines printed above it.
type printer struct {
	w, errW io.Writer
	json    bool
	live    bool
	width   func() int // the terminal's width; 0 when unknown
	now     func() time.Time

	block        []string                 // live: the block on screen
	lastRows     map[string]deploymentRow // json: the last state reported per deployment
	lastProgress string                   // text: the last progress line
}

// Levels of JSON lines.
const (
	levelInfo  = "info"
	levelWarn  = "warn"
	levelError = "error"
)

func newPrinter(stdout, stderr io.Writer, format string, getenv func(string) string) *printer {
	p := &printer{w: stdout, errW: stderr, json: format == "json", now: time.Now, width: func() int { return 0 }}
	if f, ok := stdout.(*os.File); ok && !p.json && term.IsTerminal(int(f.Fd())) && getenv("TERM") != "dumb" {
		p.live = true
		p.width = func() int {
			w, _, err := term.GetSize(int(f.Fd()))
			if err != nil {
				return 0
			}
			return w
		}
	}
	return p
}

// emit writes one report to w.
func (p *printer) emit(w io.Writer, level, kind, text, msg string, fields map[string]any) {
	if p.json {
		fmt.Fprintln(w, jsonLine(p.now(), level, kind, msg, fields))
		return
	}
	p.above(func() { fmt.Fprintln(w, text) })
}

// jsonLine is one JSON report. The fields cannot replace time, level, kind
// or message.
func jsonLine(now time.Time, level, kind, msg string, fields map[string]any) string {
	obj := make(map[string]any, len(fields)+4)
	maps.Copy(obj, fields)
	obj["time"] = now.UTC().Format(time.RFC3339Nano)
	obj["level"] = level
	obj["kind"] = kind
	obj["message"] = msg
	b, err := json.Marshal(obj)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"time": obj["time"], "level": levelError, "kind": "internal", "message": fmt.Sprintf("encoding a %s report: %v", kind, err)})
	}
	return string(b)
}

// line reports msg on stdout.
func (p *printer) line(kind, msg string, fields map[string]any) {
	p.emit(p.w, levelInfo, kind, p.stamp(p.now())+msg, strings.TrimSpace(msg), fields)
}

func (p *printer) stamp(t time.Time) string { return t.Local().Format("15:04:05") + " " }

func (p *printer) info(format string, args ...any) { p.line("info", fmt.Sprintf(format, args...), nil) }

// warn reports something that did not stop the command, on stderr.
func (p *printer) warn(msg string) {
	p.emit(p.errW, levelWarn, "warning", "warning: "+msg, msg, nil)
}

// fail reports, on stdout, the failure that ends a deployment or a wait.
// Its first line is the cause; in text, further lines are indented under
// it.
func (p *printer) fail(err error, code int) {
	msg := "FAILED: " + err.Error()
	p.emit(p.w, levelError, "failure", p.stamp(p.now())+strings.ReplaceAll(msg, "\n", "\n  "), msg, map[string]any{"exitCode": code})
}

// commandError reports, on stderr, the error that ends command cmd.
func (p *printer) commandError(cmd string, err error, code int) {
	p.emit(p.errW, levelError, "error", fmt.Sprintf("ecsctl %s: %v", cmd, err), err.Error(), map[string]any{"command": cmd, "exitCode": code})
}

// event reports a service event.
func (p *printer) event(msg string, at time.Time) {
	p.emit(p.w, levelInfo, "event", p.stamp(at)+msg, msg, map[string]any{"eventTime": at.UTC().Format(time.RFC3339Nano)})
}

// deployments reports the service's deployments while a command waits for
// deployment watched: a redrawn block on a terminal, otherwise a line (text)
// or a JSON object per deployment (json) whenever one of them changed.
func (p *printer) deployments(svc types.Service, watched string, elapsed time.Duration) {
	rows := deploymentRows(svc, watched)
	switch {
	case p.json:
		seen := map[string]bool{}
		for _, r := range rows {
			seen[r.ID] = true
			if old, ok := p.lastRows[r.ID]; ok && old == r {
				continue
			}
			if p.lastRows == nil {
				p.lastRows = map[string]deploymentRow{}
			}
			p.lastRows[r.ID] = r
			fields := r.fields()
			fields["elapsedSeconds"] = elapsed.Round(time.Millisecond).Seconds()
			fmt.Fprintln(p.w, jsonLine(p.now(), levelInfo, "deployment", r.summary(), fields))
		}
		for id := range p.lastRows {
			if !seen[id] {
				delete(p.lastRows, id)
			}
		}
	case p.live:
		p.redraw(renderLive(svc, rows, elapsed, p.width()))
	default:
		if s := progressLine(rows); s != p.lastProgress {
			p.lastProgress = s
			p.line("progress", fmt.Sprintf("%s (%s)", s, elapsed.Round(time.Second)), nil)
		}
	}
}

// settle leaves the live block on screen as it is: what is printed next
// goes below it.
func (p *printer) settle() { p.block = nil }

// above runs write, which prints whole lines, above the live block.
func (p *printer) above(write func()) {
	if len(p.block) == 0 {
		write()
		return
	}
	block := p.block
	p.redraw(nil)
	write()
	p.redraw(block)
}

// redraw replaces the live block on screen with lines.
func (p *printer) redraw(lines []string) {
	if n := len(p.block); n > 0 {
		fmt.Fprintf(p.w, "\r\x1b[%dA\x1b[J", n) // up to the block's first line, clear to the end
	}
	for _, l := range lines {
		fmt.Fprintln(p.w, l)
	}
	p.block = lines
}

// taskExit reports, on stdout, the exit code ecsctl run ends with.
func (p *printer) taskExit(e *taskExitError) {
	kind := "exit"
	if e.failed {
		kind = "failure"
	}
	fields := map[string]any{"exitCode": e.code, "taskId": e.task, "container": e.container}
	if e.exitCode != nil {
		fields["containerExitCode"] = *e.exitCode
	}
	p.emit(p.w, levelError, kind, p.stamp(p.now())+e.msg, e.msg, fields)
}

// verified reports one item ecsctl verify checked, indented under the item
// it belongs to.
func (p *printer) verified(c check) {
	level := levelInfo
	switch c.status {
	case verifyNG:
		level = levelError
	case verifySkip:
		level = levelWarn
	}
	text := fmt.Sprintf("%s%-6s %s", strings.Repeat("  ", c.depth), "["+c.status+"]", c.item)
	if c.detail != "" {
		text += ": " + c.detail
	}
	msg := c.item
	if c.detail != "" {
		msg += ": " + c.detail
	}
	p.emit(p.w, level, "verify", text, msg, map[string]any{"item": c.item, "status": c.status, "detail": c.detail, "depth": c.depth})
}

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// printer writes progress: timestamped lines, or JSON objects with
// --log-format json.
type printer struct {
	w    io.Writer
	json bool
	now  func() time.Time
}

func newPrinter(w io.Writer, format string) *printer {
	return &printer{w: w, json: format == "json", now: time.Now}
}

func (p *printer) line(kind, msg string, fields map[string]any) {
	if p.json {
		obj := map[string]any{"time": p.now().UTC().Format(time.RFC3339Nano), "kind": kind, "message": msg}
		for k, v := range fields {
			obj[k] = v
		}
		b, _ := json.Marshal(obj)
		fmt.Fprintln(p.w, string(b))
		return
	}
	fmt.Fprintf(p.w, "%s %s\n", p.now().Format("15:04:05"), msg)
}

func (p *printer) info(format string, args ...any) { p.line("info", fmt.Sprintf(format, args...), nil) }

func (p *printer) fail(err error) { p.line("failure", "FAILED: "+err.Error(), nil) }

package demoapp

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

// Settings lists exactly the variables serving mode reads, each with a
// one-line meaning.
func TestSettingsAreWhatConfigReads(t *testing.T) {
	var read []string
	configFromEnv(func(k string) string {
		if !slices.Contains(read, k) {
			read = append(read, k)
		}
		return ""
	})
	var listed []string
	for _, s := range Settings {
		listed = append(listed, s.Name)
		if s.Meaning == "" || strings.Contains(s.Meaning, "\n") {
			t.Errorf("%s: the meaning is not one line: %q", s.Name, s.Meaning)
		}
	}
	slices.Sort(read)
	slices.Sort(listed)
	if !slices.Equal(read, listed) {
		t.Errorf("configFromEnv reads %v, Settings lists %v", read, listed)
	}
}

// The help is testdata/usage.txt (UPDATE_GOLDEN=1 rewrites it).
func TestUsageGolden(t *testing.T) {
	var b bytes.Buffer
	Usage(&b)
	const golden = "testdata/usage.txt"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("Usage differs from %s (UPDATE_GOLDEN=1 to accept):\ngot:\n%s\nwant:\n%s", golden, b.String(), want)
	}
	for _, s := range Settings {
		if !strings.Contains(b.String(), "  "+s.Name+" ") {
			t.Errorf("the help lacks %s", s.Name)
		}
	}
}

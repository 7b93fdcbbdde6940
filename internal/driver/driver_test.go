package driver

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestValidate(t *testing.T) {
	hc := &HealthCheck{Command: []string{"CMD", "true"}}
	ok := TaskSpec{TaskARN: "a", Containers: []ContainerSpec{
		{Name: "db", HealthCheck: hc},
		{Name: "app", Essential: true, DependsOn: []Dependency{{"db", ConditionHealthy}}, PortMappings: []PortMapping{{ContainerPort: 80}}},
	}}
	if err := Validate(ok); err != nil {
		t.Fatalf("valid spec: %v", err)
	}
	bad := map[string]TaskSpec{
		"empty ARN":      {Containers: ok.Containers},
		"no containers":  {TaskARN: "a"},
		"duplicate":      {TaskARN: "a", Containers: []ContainerSpec{{Name: "x"}, {Name: "x"}}},
		"unnamed":        {TaskARN: "a", Containers: []ContainerSpec{{}}},
		"unknown dep":    {TaskARN: "a", Containers: []ContainerSpec{{Name: "x", DependsOn: []Dependency{{"y", ConditionStart}}}}},
		"self dep":       {TaskARN: "a", Containers: []ContainerSpec{{Name: "x", DependsOn: []Dependency{{"x", ConditionStart}}}}},
		"bad condition":  {TaskARN: "a", Containers: []ContainerSpec{{Name: "x"}, {Name: "y", DependsOn: []Dependency{{"x", "SOON"}}}}},
		"healthy no hc":  {TaskARN: "a", Containers: []ContainerSpec{{Name: "x"}, {Name: "y", DependsOn: []Dependency{{"x", ConditionHealthy}}}}},
		"bad hc":         {TaskARN: "a", Containers: []ContainerSpec{{Name: "x", HealthCheck: &HealthCheck{Command: []string{"curl", "x"}}}}},
		"bad protocol":   {TaskARN: "a", Containers: []ContainerSpec{{Name: "x", PortMappings: []PortMapping{{ContainerPort: 80, Protocol: "sctp"}}}}},
		"bad port":       {TaskARN: "a", Containers: []ContainerSpec{{Name: "x", PortMappings: []PortMapping{{ContainerPort: 0}}}}},
		"cycle":          {TaskARN: "a", Containers: []ContainerSpec{{Name: "x", DependsOn: []Dependency{{"y", ConditionStart}}}, {Name: "y", DependsOn: []Dependency{{"x", ConditionStart}}}}},
		"shell two args": {TaskARN: "a", Containers: []ContainerSpec{{Name: "x", HealthCheck: &HealthCheck{Command: []string{"CMD-SHELL", "a", "b"}}}}},
	}
	for name, spec := range bad {
		if err := Validate(spec); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestTaskIDAndNames(t *testing.T) {
	if got := TaskID("arn:aws:ecs:us-east-1:1:task/my-cluster/8f2e1c"); got != "8f2e1c" {
		t.Errorf("TaskID = %q", got)
	}
	if got := TaskID("weird id/../x y"); got != "x-y" {
		t.Errorf("TaskID = %q", got)
	}
	if got := SafeName(""); got != "-" {
		t.Errorf("SafeName(\"\") = %q", got)
	}
}

func TestIsDemoImage(t *testing.T) {
	for image, want := range map[string]string{
		"ecsd/demoapp":                "latest",
		"ecsd/demoapp:v2":             "v2",
		"docker.io/ecsd/demoapp:blue": "blue",
		"ecsd/demoapp:v1@sha256:abc":  "v1",
	} {
		tag, ok := IsDemoImage(image)
		if !ok || tag != want {
			t.Errorf("IsDemoImage(%q) = %q, %v", image, tag, ok)
		}
	}
	for _, image := range []string{"nginx", "ecsd/demoapp2:v1", "registry:5000/ecsd/demoapp:v1"} {
		if _, ok := IsDemoImage(image); ok {
			t.Errorf("IsDemoImage(%q) = true", image)
		}
	}
}

func TestHealthCheckDefaults(t *testing.T) {
	h := HealthCheck{}.WithDefaults()
	if h.Interval != DefaultHealthInterval || h.Timeout != DefaultHealthTimeout || h.Retries != DefaultHealthRetries || h.StartPeriod != 0 {
		t.Fatalf("defaults %+v", h)
	}
	if (ContainerSpec{}).EffectiveStopTimeout() != DefaultStopTimeout {
		t.Fatal("stop timeout default")
	}
}

func TestEmitterOrderAndReentrancy(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var e *Emitter
	e = NewEmitter(func(ev Event) {
		mu.Lock()
		got = append(got, ev.Container)
		mu.Unlock()
		if ev.Container == "2" {
			e.Emit(Event{Container: "from-sink"}) // the sink may cause more events
		}
		if ev.Container == "panic" {
			panic("sink bug")
		}
	}, nil)
	for _, c := range []string{"1", "2", "panic", "3"} {
		e.Emit(Event{Container: c})
	}
	if err := e.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Emitted events arrive in order; the sink's own event arrives after
	// the one that caused it (where among the rest depends on when the
	// delivery goroutine ran).
	mu.Lock()
	caused := slices.Index(got, "from-sink")
	rest := slices.DeleteFunc(slices.Clone(got), func(c string) bool { return c == "from-sink" })
	mu.Unlock()
	if s := strings.Join(rest, ","); s != "1,2,panic,3" {
		t.Fatalf("emitted events delivered as %s, want 1,2,panic,3 (all: %v)", s, got)
	}
	if caused < slices.Index(got, "2") {
		t.Fatalf("the sink's event was delivered before the event that caused it: %v", got)
	}
	e.Close()
	e.Emit(Event{Container: "after-close"})
	e.Drain(context.Background())
	if len(got) != 5 {
		t.Fatalf("delivered after Close: %v", got)
	}
}

func TestEmitterConcurrentEmitters(t *testing.T) {
	var mu sync.Mutex
	perSource := map[string][]int{}
	e := NewEmitter(func(ev Event) {
		mu.Lock()
		perSource[ev.TaskARN] = append(perSource[ev.TaskARN], int(*ev.ExitCode))
		mu.Unlock()
	}, nil)
	var wg sync.WaitGroup
	for _, src := range []string{"a", "b", "c", "d"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				code := int32(i)
				e.Emit(Event{TaskARN: src, ExitCode: &code})
			}
		}()
	}
	wg.Wait()
	e.Drain(context.Background())
	for src, seq := range perSource {
		for i, v := range seq {
			if v != i {
				t.Fatalf("source %s out of order at %d: %v", src, i, seq[:i+1])
			}
		}
	}
	e.Close()
}

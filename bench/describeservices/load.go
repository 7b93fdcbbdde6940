package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Fixed request headers. Each request body is signed once (SigV4, as ecsd
// requires) when a load run starts, so the load generator spends no CPU on
// signing; a run must end before the signatures are 15 minutes old.
const (
	amzTarget = "AmazonEC2ContainerServiceV20141113.DescribeServices"
	maxRun    = 14 * time.Minute
)

// signedRequest is a request body with the headers that sign it.
type signedRequest struct {
	body   []byte
	header http.Header
}

// sign signs each body for a POST to url as the SDK's signer does.
func sign(url string, bodies [][]byte) ([]signedRequest, error) {
	now := time.Now()
	creds := aws.Credentials{AccessKeyID: "AKIDBENCHEXAMPLE", SecretAccessKey: "bench-secret"}
	var out []signedRequest
	for _, body := range bodies {
		req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", amzTarget)
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ecs", "us-east-1", now); err != nil {
			return nil, err
		}
		out = append(out, signedRequest{body: body, header: req.Header})
	}
	return out, nil
}

type result struct {
	name             string
	requests, errors int
	elapsed          time.Duration
	p50, p99         time.Duration
	firstErr         string
}

func (r result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// bodies pre-builds one DescribeServices request body per disjoint set of 10
// service names (svc-0000..svc-0009, svc-0010..svc-0019, ...).
func bodies(n int) [][]byte {
	var out [][]byte
	for first := 0; first+10 <= n; first += 10 {
		names := make([]string, 10)
		for i := range names {
			names[i] = serviceName(first + i)
		}
		b, _ := json.Marshal(map[string]any{"cluster": cluster, "services": names})
		out = append(out, b)
	}
	return out
}

// load is a closed-loop load generator: each of `workers` goroutines sends one
// request at a time over its own keep-alive connection, rotating through the
// request bodies. Only requests completing inside [warm-up end, end] count.
func load(url string, n, workers int, warmup, measure time.Duration) (result, error) {
	if warmup+measure > maxRun {
		return result{}, fmt.Errorf("warm-up plus measure is %s; keep it under %s, the age at which the requests' signatures expire", warmup+measure, maxRun)
	}
	reqBodies, err := sign(url, bodies(n))
	if err != nil {
		return result{}, err
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: workers,
			MaxConnsPerHost:     workers,
			DisableCompression:  true,
		},
	}
	if err := verify(client, url, reqBodies); err != nil {
		return result{}, fmt.Errorf("DescribeServices reply check: %w", err)
	}
	begin := time.Now()
	start, end := begin.Add(warmup), begin.Add(warmup+measure)

	type stats struct {
		lat      []time.Duration
		errors   int
		firstErr string
	}
	all := make([]stats, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func(st *stats, k int) {
			defer wg.Done()
			st.lat = make([]time.Duration, 0, 1<<14)
			var buf bytes.Buffer
			for ; ; k++ {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				_, err := describe(client, url, reqBodies[k%len(reqBodies)], &buf)
				t1 := time.Now()
				if t1.Before(start) || t1.After(end) { // count completions inside the window
					continue
				}
				if err != nil {
					if st.errors == 0 {
						st.firstErr = err.Error()
					}
					st.errors++
					continue
				}
				st.lat = append(st.lat, t1.Sub(t0))
			}
		}(&all[w], w*len(reqBodies)/workers)
	}
	wg.Wait()

	r := result{elapsed: measure}
	var lat []time.Duration
	for _, st := range all {
		lat = append(lat, st.lat...)
		r.errors += st.errors
		if r.firstErr == "" {
			r.firstErr = st.firstErr
		}
	}
	r.requests = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		r.p50 = lat[(len(lat)-1)*50/100]
		r.p99 = lat[(len(lat)-1)*99/100]
	}
	return r, nil
}

// describe sends one DescribeServices request and checks the reply: a 200 with
// exactly 10 services and no failures. The check during the load is a cheap byte
// count (a service has one "serviceArn"; only task sets, which the benchmark's
// services do not have, add more): fully decoding every ~10 KB reply would cost
// the load generator, on the same cores as the server, about 40% of its capacity.
// verify does the full check, once per request body, before the load starts.
func describe(client *http.Client, url string, sr signedRequest, buf *bytes.Buffer) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(sr.body))
	if err != nil {
		return nil, err
	}
	req.Header = sr.header // read-only: shared by the workers
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, data)
	}
	if n := bytes.Count(data, []byte(`serviceArn"`)); n != 10 || bytes.Contains(data, []byte("MISSING")) {
		return nil, fmt.Errorf("want 10 services and no failures, got %d serviceArn: %.200s", n, data)
	}
	return data, nil
}

// verify sends every request body once and checks that the reply decodes to
// exactly the 10 services asked for (in any order) and no failures.
func verify(client *http.Client, url string, reqs []signedRequest) error {
	var buf bytes.Buffer
	for _, sr := range reqs {
		body := sr.body
		data, err := describe(client, url, sr, &buf)
		if err != nil {
			return err
		}
		var in struct{ Services []string }
		var out struct {
			Services []struct {
				ServiceName string `json:"serviceName"`
			} `json:"services"`
			Failures []json.RawMessage `json:"failures"`
		}
		json.Unmarshal(body, &in)
		if err := json.Unmarshal(data, &out); err != nil {
			return fmt.Errorf("bad JSON reply: %v", err)
		}
		var got []string
		for _, s := range out.Services {
			got = append(got, s.ServiceName)
		}
		slices.Sort(got)
		if !slices.Equal(got, in.Services) || len(out.Failures) != 0 {
			return fmt.Errorf("asked for %v, got services %v and %d failures", in.Services, got, len(out.Failures))
		}
	}
	return nil
}

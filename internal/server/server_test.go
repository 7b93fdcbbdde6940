package server_test

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ecsd/ecsd/internal/awsproto"
	"github.com/ecsd/ecsd/internal/server"
)

type echoQuery struct{}

func (echoQuery) XMLNamespace() string { return "urn:test" }

type echoOutput struct {
	Region *string
	Name   *string
}

func (echoQuery) HandleQuery(_ context.Context, region, action string, params url.Values) (any, error) {
	switch action {
	case "Echo":
		name := params.Get("Name")
		return &echoOutput{Region: &region, Name: &name}, nil
	case "Fail":
		return nil, awsproto.Errorf("ThingNotFound", "no thing")
	}
	return nil, awsproto.Errorf(awsproto.InvalidAction, "no action %s", action)
}

type echoJSON struct{}

func (echoJSON) Handle(_ context.Context, region, op string, body []byte) ([]byte, error) {
	return []byte(`{"op":"` + op + `"}`), nil
}

func newServer(t *testing.T) *httptest.Server {
	h := server.New("eu-west-1", slog.New(slog.DiscardHandler))
	h.HandleQuery("2020-01-01", echoQuery{})
	h.HandleJSON("Svc", echoJSON{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type errorResponse struct {
	Error struct {
		Type, Code, Message string
	}
	RequestID string `xml:"RequestId"`
}

func post(t *testing.T, srv *httptest.Server, contentType, target, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101/ap-south-1/x/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const form = "application/x-www-form-urlencoded; charset=utf-8"

func TestQueryDispatch(t *testing.T) {
	srv := newServer(t)
	status, h, body := post(t, srv, form, "", "Action=Echo&Version=2020-01-01&Name=a%26b")
	id := h.Get("X-Amzn-RequestId")
	want := `<EchoResponse xmlns="urn:test"><EchoResult><Region>ap-south-1</Region><Name>a&amp;b</Name></EchoResult><ResponseMetadata><RequestId>` + id + `</RequestId></ResponseMetadata></EchoResponse>`
	if status != 200 || body != want || h.Get("Content-Type") != "text/xml" {
		t.Fatalf("got %d %s\n%s\nwant\n%s", status, h.Get("Content-Type"), body, want)
	}

	for _, tc := range []struct {
		name, body, code string
		status           int
	}{
		{"service error", "Action=Fail&Version=2020-01-01", "ThingNotFound", 400},
		{"unknown action", "Action=Nope&Version=2020-01-01", awsproto.InvalidAction, 400},
		{"no action", "Version=2020-01-01", awsproto.MissingAction, 400},
		{"unknown version", "Action=Echo&Version=1999-01-01", awsproto.NoSuchVersion, 400},
		{"no version", "Action=Echo", awsproto.NoSuchVersion, 400},
		{"malformed", "Action=Echo&Version=%zz", awsproto.MalformedQueryString, 400},
		{"not UTF-8", "Action=Echo&Version=2020-01-01&Name=%FF", awsproto.MalformedQueryString, 400},
		{"too large", "Action=Echo&Version=2020-01-01&Name=" + strings.Repeat("a", 9<<20), awsproto.RequestEntityTooLarge, 413},
	} {
		status, h, body := post(t, srv, form, "", tc.body)
		var e errorResponse
		if err := xml.Unmarshal([]byte(body), &e); err != nil {
			t.Errorf("%s: not XML: %s", tc.name, body)
			continue
		}
		if status != tc.status || e.Error.Code != tc.code || e.Error.Type != "Sender" || e.Error.Message == "" || e.RequestID != h.Get("X-Amzn-RequestId") {
			t.Errorf("%s: got %d %+v, want %d %s", tc.name, status, e, tc.status, tc.code)
		}
	}
}

// JSON services are unchanged by the Query dispatch.
func TestJSONStillDispatched(t *testing.T) {
	srv := newServer(t)
	status, _, body := post(t, srv, "application/x-amz-json-1.1", "Svc.Op", "{}")
	if status != 200 || body != `{"op":"Op"}` {
		t.Fatalf("json: %d %s", status, body)
	}
	// A form body with a target is a JSON request (the target wins).
	status, _, body = post(t, srv, form, "Svc.Op", "{}")
	if status != 200 || body != `{"op":"Op"}` {
		t.Fatalf("json with a form content type: %d %s", status, body)
	}
	status, h, body := post(t, srv, "application/x-amz-json-1.1", "", "{}")
	if status != 400 || h.Get("X-Amzn-ErrorType") != awsproto.UnknownOperationException || !strings.Contains(body, "Action=") {
		t.Fatalf("no target: %d %s", status, body)
	}
}

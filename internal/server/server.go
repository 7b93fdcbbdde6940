package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ecsd/ecsd/internal/awsproto"
)

// MaxBodyBytes bounds a request body; AWS rejects larger ones too.
const MaxBodyBytes = 8 << 20

// JSONService answers the operations of one AWS JSON 1.1 service.
type JSONService interface {
	Handle(ctx context.Context, region, operation string, body []byte) ([]byte, error)
}

// QueryService answers the actions of one AWS Query service API version
// (ELBv2 is 2015-12-01). It returns the SDK output value of the action; the
// Handler encodes it as the XML response.
type QueryService interface {
	// XMLNamespace is the xmlns of the service's responses.
	XMLNamespace() string
	HandleQuery(ctx context.Context, region, action string, params url.Values) (any, error)
}

// Handler routes AWS requests to the services registered on it.
type Handler struct {
	DefaultRegion string
	Logger        *slog.Logger
	json          map[string]JSONService  // by X-Amz-Target prefix
	query         map[string]QueryService // by Version
}

// New returns a Handler answering in defaultRegion when a request carries no
// SigV4 credential scope.
func New(defaultRegion string, logger *slog.Logger) *Handler {
	return &Handler{DefaultRegion: defaultRegion, Logger: logger, json: map[string]JSONService{}, query: map[string]QueryService{}}
}

// HandleJSON registers a JSON 1.1 service under its X-Amz-Target prefix.
func (h *Handler) HandleJSON(targetPrefix string, s JSONService) { h.json[targetPrefix] = s }

// HandleQuery registers an AWS Query service under its API version: a
// form-encoded request without X-Amz-Target whose Version parameter is
// version goes to s.
func (h *Handler) HandleQuery(version string, s QueryService) { h.query[version] = s }

// Region is the region a request is for: its SigV4 credential scope, or the
// default region.
func (h *Handler) Region(r *http.Request) string {
	if c, ok := awsproto.ParseAuthorization(r.Header.Get("Authorization")); ok {
		return c.Region
	}
	return h.DefaultRegion
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID()
	w.Header().Set("X-Amzn-RequestId", id)
	target := r.Header.Get("X-Amz-Target")
	region := h.Region(r)
	if target == "" && isForm(r) {
		h.serveQuery(w, r, id, region, start)
		return
	}
	err := h.serve(w, r, target, region)
	if err != nil {
		awsproto.WriteJSONError(w, err)
	}
	if h.Logger.Enabled(r.Context(), slog.LevelDebug) || err != nil {
		level := slog.LevelDebug
		if e := awsproto.AsError(err); err != nil && e.HTTPStatus() >= 500 {
			level = slog.LevelError
		}
		attrs := []any{"target", target, "region", region, "duration", time.Since(start)}
		if err != nil {
			attrs = append(attrs, "error", err)
		}
		h.Logger.Log(r.Context(), level, "request", attrs...)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, target, region string) error {
	if r.Method != http.MethodPost {
		return &awsproto.Error{Type: awsproto.UnknownOperationException, Message: "ecsd answers AWS API requests: POST / with an X-Amz-Target header (JSON 1.1) or a form-encoded Action= body (AWS Query).", Status: http.StatusNotFound}
	}
	prefix, op, ok := strings.Cut(target, ".")
	svc, known := h.json[prefix]
	if !ok || !known {
		return &awsproto.Error{Type: awsproto.UnknownOperationException, Message: "Unknown X-Amz-Target " + quote(target) + ": ecsd answers Amazon ECS (AmazonEC2ContainerServiceV20141113.<Operation>), Application Auto Scaling (AnyScaleFrontendService.<Operation>), and Elastic Load Balancing v2 as AWS Query requests (a form-encoded Action=...&Version=2015-12-01 body without X-Amz-Target)."}
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	out, err := svc.Handle(r.Context(), region, op, body)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Write(out)
	return nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &awsproto.Error{Type: awsproto.RequestEntityTooLarge, Message: "The request body is larger than 8 MiB.", Status: http.StatusRequestEntityTooLarge}
		}
		return nil, awsproto.Errorf(awsproto.SerializationException, "Reading the request body failed: %v", err)
	}
	return body, nil
}

func requestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func quote(s string) string {
	if s == "" {
		return "(none)"
	}
	return `"` + s + `"`
}

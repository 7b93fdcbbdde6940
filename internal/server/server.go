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
// default region for a request without one. A scope whose region is not a
// region name is an error: it would become a stored region.
func (h *Handler) Region(r *http.Request) (string, error) {
	c, ok := awsproto.ParseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return h.DefaultRegion, nil
	}
	if !awsproto.ValidRegion(c.Region) {
		return "", awsproto.RegionError(c.Region)
	}
	return c.Region, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := RequestID(r.Context())
	if id == "" {
		id = newRequestID()
		w.Header().Set("X-Amzn-RequestId", id)
	}
	target := r.Header.Get("X-Amz-Target")
	region, err := h.Region(r)
	if err != nil {
		h.WriteError(w, r, err)
		h.logRequest(r, err, start, "target", target)
		return
	}
	if target == "" && isForm(r) {
		h.serveQuery(w, r, id, region, start)
		return
	}
	err = h.serve(w, r, target, region)
	if err != nil {
		awsproto.WriteJSONError(w, h.public(err, id))
	}
	h.logRequest(r, err, start, "target", target, "region", region)
}

// public is err as the client may see it: an *awsproto.Error as it is,
// anything else (a failure inside ecsd, whose text may name files) as a
// ServerException that gives only the request ID. The log has the whole
// error under that ID.
func (h *Handler) public(err error, id string) error {
	var e *awsproto.Error
	if errors.As(err, &e) {
		return e
	}
	return InternalError(id)
}

// logRequest logs a request at debug level, or at error level (with the
// whole error) when it failed inside ecsd.
func (h *Handler) logRequest(r *http.Request, err error, start time.Time, attrs ...any) {
	if !h.Logger.Enabled(r.Context(), slog.LevelDebug) && err == nil {
		return
	}
	level := slog.LevelDebug
	if err != nil && awsproto.AsError(err).HTTPStatus() >= 500 {
		level = slog.LevelError
	}
	attrs = append(attrs, "request_id", RequestID(r.Context()), "duration", time.Since(start))
	if err != nil {
		attrs = append(attrs, "error", err)
	}
	h.Logger.Log(r.Context(), level, "request", attrs...)
}

// WriteError answers r with err in the shape of r's protocol: an AWS Query
// XML error for a form-encoded request without X-Amz-Target, else a JSON
// 1.1 error. The Guard uses it for the requests it refuses.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	id := w.Header().Get("X-Amzn-RequestId")
	err = h.public(err, id)
	if r.Header.Get("X-Amz-Target") == "" && isForm(r) {
		awsproto.WriteQueryError(w, h.queryNamespace(), id, err)
		return
	}
	awsproto.WriteJSONError(w, err)
}

// queryNamespace is the xmlns of errors to Query requests whose Version is
// not known yet: that of the one Query service, if there is only one.
func (h *Handler) queryNamespace() string {
	if len(h.query) == 1 {
		for _, s := range h.query {
			return s.XMLNamespace()
		}
	}
	return ""
}

// Endpoint is how a Guard protects this Handler: an AWS API, whose
// requests are signed, answering refusals in AWS error shapes.
func (h *Handler) Endpoint() Endpoint {
	return Endpoint{SigV4: true, WriteError: func(w http.ResponseWriter, r *http.Request, e *awsproto.Error) { h.WriteError(w, r, e) }}
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

func newRequestID() string {
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

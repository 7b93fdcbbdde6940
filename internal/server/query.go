package server

import (
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ecsd/ecsd/internal/awsproto"
)

// isForm reports whether the request body is form-encoded, as AWS Query
// requests are.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// serveQuery answers an AWS Query request: the form's Version picks the
// service, its Action the operation; answers and errors are XML.
func (h *Handler) serveQuery(w http.ResponseWriter, r *http.Request, id, region string, start time.Time) {
	var action, version, xmlns string
	out, err := func() (any, error) {
		if r.Method != http.MethodPost {
			return nil, &awsproto.Error{Type: awsproto.InvalidAction, Message: "ecsd answers AWS Query requests as POST / with a form-encoded body.", Status: http.StatusMethodNotAllowed}
		}
		body, err := readBody(w, r)
		if err != nil {
			return nil, err
		}
		params, err := parseForm(body)
		if err != nil {
			return nil, err
		}
		action, version = params.Get("Action"), params.Get("Version")
		svc, ok := h.query[version]
		if !ok {
			return nil, awsproto.Errorf(awsproto.NoSuchVersion, "ecsd does not answer AWS Query API version %s; it answers %s (Elastic Load Balancing v2 is 2015-12-01).", quote(version), strings.Join(slices.Sorted(maps.Keys(h.query)), ", "))
		}
		xmlns = svc.XMLNamespace()
		if action == "" {
			return nil, awsproto.Errorf(awsproto.MissingAction, "The request must contain the parameter Action.")
		}
		return svc.HandleQuery(r.Context(), region, action, params)
	}()
	if err == nil {
		err = awsproto.WriteQueryResponse(w, xmlns, action, id, out)
	}
	if err != nil {
		awsproto.WriteQueryError(w, xmlns, id, h.public(err, id))
	}
	h.logRequest(r, err, start, "action", action, "version", version, "region", region)
}

// parseForm parses a form-encoded body whose names and values must be
// UTF-8 once percent-decoded (url.ParseQuery lets any bytes through).
func parseForm(body []byte) (url.Values, error) {
	params, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, awsproto.Errorf(awsproto.MalformedQueryString, "The request body is not a valid form-encoded query string: %v", err)
	}
	for name, vals := range params {
		if !utf8.ValidString(name) {
			return nil, awsproto.Errorf(awsproto.MalformedQueryString, "A parameter name is not valid UTF-8 once percent-decoded (%q); send text as UTF-8.", name)
		}
		for _, v := range vals {
			if !utf8.ValidString(v) {
				return nil, awsproto.Errorf(awsproto.MalformedQueryString, "Parameter %s is not valid UTF-8 once percent-decoded; send text as UTF-8.", name)
			}
		}
	}
	return params, nil
}

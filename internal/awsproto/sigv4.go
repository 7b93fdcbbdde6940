package awsproto

import (
	"strings"
)

// Credential is what a SigV4 Authorization header says about its caller.
// ecsd reads it to pick the region; it does not verify the signature yet.
type Credential struct {
	AccessKeyID   string
	Date          string // yyyymmdd
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string
}

// ParseAuthorization parses an "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=hex" header. ok is false when the header is
// absent or not SigV4.
func ParseAuthorization(h string) (c Credential, ok bool) {
	const scheme = "AWS4-HMAC-SHA256"
	h = strings.TrimSpace(h)
	if !strings.HasPrefix(h, scheme) {
		return c, false
	}
	for _, part := range strings.Split(h[len(scheme):], ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			continue
		}
		switch k {
		case "Credential":
			scope := strings.Split(v, "/")
			if len(scope) != 5 || scope[4] != "aws4_request" {
				return Credential{}, false
			}
			c.AccessKeyID, c.Date, c.Region, c.Service = scope[0], scope[1], scope[2], scope[3]
		case "SignedHeaders":
			c.SignedHeaders = strings.Split(v, ";")
		case "Signature":
			c.Signature = v
		}
	}
	return c, c.AccessKeyID != "" && c.Region != ""
}

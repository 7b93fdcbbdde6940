package awsproto

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Errors of AWS request authentication, as the JSON 1.1 services name them
// (EncodeQueryError gives the AWS Query names).
const (
	IncompleteSignature   = "IncompleteSignatureException" // the Authorization header lacks a part
	InvalidSignature      = "InvalidSignatureException"    // the signature, its scope or its date is wrong
	UnrecognizedClient    = "UnrecognizedClientException"  // the access key ID is unknown
	AccessDeniedException = "AccessDeniedException"        // the request may not reach the endpoint at all
)

// MaxSkew is how far a signed request's X-Amz-Date may be from ecsd's
// clock, either way: AWS's 15 minutes.
const MaxSkew = 15 * time.Minute

// Credential is what a SigV4 Authorization header says about its caller.
type Credential struct {
	AccessKeyID   string
	Date          string // yyyymmdd
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string
}

const (
	sigV4Scheme    = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	scopeEnd       = "aws4_request"
	contentSHA256  = "X-Amz-Content-Sha256"
	missingMessage = "Missing Authentication Token: ecsd answers only requests signed with AWS Signature Version 4. " +
		"Use an AWS SDK or the aws CLI with credentials set (e.g. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: " +
		"any values, unless ecsd runs with --credentials, then one of those)."
	mismatchMessage = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// ParseAuthorization parses an "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=hex" header. ok is false when the header is
// absent or not SigV4. It checks the form only; VerifySigV4 checks the rest.
func ParseAuthorization(h string) (c Credential, ok bool) {
	c, missing := parseAuthorization(h)
	return c, len(missing) == 0
}

// parseAuthorization parses a SigV4 Authorization header and lists what it
// lacks, in AWS's words.
func parseAuthorization(h string) (c Credential, missing []string) {
	h = strings.TrimSpace(h)
	rest, isV4 := strings.CutPrefix(h, sigV4Scheme+" ")
	if !isV4 {
		rest = ""
	}
	var credential, signed, signature bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			scope := strings.Split(v, "/")
			if len(scope) == 5 && scope[0] != "" && scope[4] == scopeEnd {
				c.AccessKeyID, c.Date, c.Region, c.Service = scope[0], scope[1], scope[2], scope[3]
				credential = true
			}
		case "SignedHeaders":
			if v != "" {
				c.SignedHeaders = strings.Split(v, ";")
				signed = true
			}
		case "Signature":
			c.Signature = v
			signature = v != ""
		}
	}
	if !credential {
		missing = append(missing, "Authorization header requires 'Credential' parameter (ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request).")
	}
	if !signature {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !signed {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	return c, missing
}

// regionPattern is the shape of an AWS region name: us-east-1,
// eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1, eusc-de-east-1.
var regionPattern = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)

// ValidRegion reports whether region has the shape of an AWS region name.
func ValidRegion(region string) bool {
	return len(region) <= 32 && regionPattern.MatchString(region)
}

// RegionError is the error for a credential scope whose region is not a
// region name.
func RegionError(region string) *Error {
	if len(region) > 40 {
		region = region[:40] + "..."
	}
	return &Error{Type: InvalidSignature, Message: fmt.Sprintf("Credential should be scoped to a valid region, not %q. A region is named like us-east-1 or eu-central-2.", region)}
}

// VerifySigV4 checks that r (whose body, already read, is body) carries a
// well-formed AWS Signature Version 4 Authorization header: all its parts,
// a region-shaped scope whose date is the X-Amz-Date's, that date within
// MaxSkew of now, host and x-amz-date among the signed headers, and an
// X-Amz-Content-Sha256 header, if any, that is the body's hash.
//
// With secret set, it also checks the signature: secret returns the secret
// access key of an access key ID (false for an unknown key). With secret
// nil any key is accepted and the signature, which only the secret could
// check, is not.
//
// It returns the request's credential, or an *Error of AWS's type for what
// is wrong (MissingAuthenticationTokenException, IncompleteSignatureException,
// InvalidSignatureException, UnrecognizedClientException).
func VerifySigV4(r *http.Request, body []byte, now time.Time, secret func(accessKeyID string) (string, bool)) (Credential, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if r.URL.Query().Has("X-Amz-Signature") {
			return Credential{}, &Error{Type: IncompleteSignature, Message: "ecsd does not accept presigned URLs; sign the request with an Authorization header."}
		}
		return Credential{}, &Error{Type: MissingAuthenticationToken, Message: missingMessage, Status: http.StatusForbidden}
	}
	c, missing := parseAuthorization(auth)
	if !strings.HasPrefix(strings.TrimSpace(auth), sigV4Scheme+" ") {
		missing = append([]string{"ecsd accepts only AWS Signature Version 4 (Authorization: AWS4-HMAC-SHA256 ...)."}, missing...)
	}
	if len(missing) > 0 {
		return c, Errorf(IncompleteSignature, "%s", strings.Join(missing, " "))
	}
	if !ValidRegion(c.Region) {
		return c, RegionError(c.Region)
	}
	date, err := checkDate(r.Header.Get("X-Amz-Date"), c.Date, now)
	if err != nil {
		return c, err
	}
	for _, h := range []string{"host", "x-amz-date"} {
		if !slices.Contains(c.SignedHeaders, h) {
			return c, Errorf(InvalidSignature, "'%s' must be a 'SignedHeader' in the AWS Authorization.", h)
		}
	}
	header := r.Header.Get(contentSHA256)
	if header == "" && secret == nil {
		return c, nil // nothing left that ecsd can check
	}
	payloadHash := hashHex(body)
	if header != "" && header != payloadHash {
		return c, Errorf(InvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed: ecsd needs the SHA-256 of the request body (not %q).", header)
	}
	if secret == nil {
		return c, nil
	}
	key, known := secret(c.AccessKeyID)
	if !known {
		return c, Errorf(UnrecognizedClient, "The security token included in the request is invalid: ecsd does not know access key ID %q (it accepts the keys of its --credentials).", c.AccessKeyID)
	}
	want, err := signature(r, c, date, key, payloadHash)
	if err != nil {
		return c, Errorf(IncompleteSignature, "The request cannot be signed again for checking: %v", err)
	}
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(c.Signature))) {
		return c, Errorf(InvalidSignature, "%s", mismatchMessage)
	}
	return c, nil
}

// checkDate parses X-Amz-Date and checks it against the scope's date and
// the allowed skew, with AWS's messages.
func checkDate(amzDate, scopeDate string, now time.Time) (time.Time, error) {
	if amzDate == "" {
		return time.Time{}, Errorf(IncompleteSignature, "Authorization header requires existence of a 'X-Amz-Date' header.")
	}
	date, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return time.Time{}, Errorf(IncompleteSignature, "Date must be in ISO-8601 'basic format' (20060102T150405Z). Got %q.", amzDate)
	}
	if day := amzDate[:8]; scopeDate != day {
		return time.Time{}, Errorf(InvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: %q != %q, from %q.", scopeDate, day, amzDate)
	}
	now = now.UTC()
	if date.Before(now.Add(-MaxSkew)) {
		return time.Time{}, Errorf(InvalidSignature, "Signature expired: %s is now earlier than %s (%s - 15 min.)", amzDate, now.Add(-MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if date.After(now.Add(MaxSkew)) {
		return time.Time{}, Errorf(InvalidSignature, "Signature not yet current: %s is still later than %s (%s + 15 min.)", amzDate, now.Add(MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	return date, nil
}

// signature signs a copy of r that carries only the headers the client
// signed with the SDK's own SigV4 signer, and returns the signature.
func signature(r *http.Request, c Credential, date time.Time, secret, payloadHash string) (string, error) {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	cp := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	for _, name := range c.SignedHeaders {
		switch name {
		case "host": // the signer signs r.Host
		case "content-length": // the signer signs ContentLength when it is set
			cp.ContentLength = r.ContentLength
		default:
			if vals := r.Header.Values(name); len(vals) > 0 {
				cp.Header[http.CanonicalHeaderKey(name)] = vals
			}
		}
	}
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: secret}
	err := v4.NewSigner().SignHTTP(context.Background(), creds, cp, payloadHash, c.Service, c.Region, date)
	if err != nil {
		return "", err
	}
	signed, ok := ParseAuthorization(cp.Header.Get("Authorization"))
	if !ok {
		return "", fmt.Errorf("the signer wrote no Authorization header")
	}
	return signed.Signature, nil
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

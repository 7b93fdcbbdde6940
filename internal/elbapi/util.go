package elbapi

import (
	"encoding/base64"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

const (
	defaultPageSize = 400
	maxPageSize     = 400
)

// paginate returns the page of items (sorted by key) after marker, and
// the marker of the next page when there is one. Markers are opaque to
// clients: the key of the last item returned.
func paginate[T any](items []T, key func(T) string, marker *string, pageSize *int32) ([]T, *string, error) {
	size := defaultPageSize
	if pageSize != nil {
		if *pageSize < 1 || *pageSize > maxPageSize {
			return nil, nil, invalid("PageSize %d is out of range: use 1-%d.", *pageSize, maxPageSize)
		}
		size = int(*pageSize)
	}
	start := 0
	if marker != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*marker)
		if err != nil || len(raw) == 0 {
			return nil, nil, invalid("Marker %q is not a marker ecsd returned; pass the NextMarker of the previous page.", *marker)
		}
		after := string(raw)
		start = len(items)
		for i, it := range items {
			if key(it) > after {
				start = i
				break
			}
		}
	}
	end := min(start+size, len(items))
	page := items[start:end]
	if end < len(items) {
		return page, aws.String(base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))), nil
	}
	return page, nil, nil
}

// validName checks a load balancer or target group name: 1-32
// alphanumerics or hyphens, not starting or ending with a hyphen.
func validName(what, name string) error {
	ok := len(name) >= 1 && len(name) <= 32 && name[0] != '-' && name[len(name)-1] != '-'
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			ok = false
		}
	}
	if !ok {
		return invalid("%s name %q is not valid: use 1-32 letters, digits or hyphens, not starting or ending with a hyphen.", what, name)
	}
	return nil
}

// validateTags checks tags given to a create or AddTags call.
func validateTags(tags []types.Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		k := aws.ToString(t.Key)
		if t.Key == nil || len(k) < 1 || len(k) > 128 {
			return invalid("Tag key %q is not valid: use 1-128 characters.", k)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalid("Tag key %q is not valid: the aws: prefix is reserved for AWS.", k)
		}
		if len(aws.ToString(t.Value)) > 256 {
			return invalid("The value of tag %q is longer than 256 characters.", k)
		}
		if seen[k] {
			return errf(duplicateTagKeys, "Tag key %q is given twice.", k)
		}
		seen[k] = true
	}
	if len(tags) > maxTagsPerResource {
		return errf(tooManyTags, "%d tags is too many: a resource has at most %d.", len(tags), maxTagsPerResource)
	}
	return nil
}

// mergeTags applies add on top of tags (same key: new value).
func mergeTags(tags, add []types.Tag) []types.Tag {
	out := slices.Clone(tags)
	for _, t := range add {
		i := slices.IndexFunc(out, func(x types.Tag) bool { return aws.ToString(x.Key) == aws.ToString(t.Key) })
		t := types.Tag{Key: t.Key, Value: aws.String(aws.ToString(t.Value))}
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	return out
}

// orEmpty returns s, or an empty non-nil slice, so that the member is
// present (empty) in the answer.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func inRange(name string, v *int32, lo, hi int32) error {
	if v != nil && (*v < lo || *v > hi) {
		return invalid("%s %d is out of range: use %d-%d.", name, *v, lo, hi)
	}
	return nil
}

func compare(a, b string) int { return strings.Compare(a, b) }

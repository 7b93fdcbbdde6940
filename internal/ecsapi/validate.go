package ecsapi

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// namePattern is ECS's rule for cluster, service, family and container
// names: up to 255 letters, numbers, hyphens and underscores.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

func validName(s string) bool { return namePattern.MatchString(s) }

// maxResults checks a maxResults member (1–100) and applies the default.
func maxResults(v *int32, def int) (int, error) {
	if v == nil {
		return def, nil
	}
	if *v < 1 || *v > 100 {
		return 0, invalidParam("maxResults must be between 1 and 100.")
	}
	return int(*v), nil
}

// page returns the items after the one the token names, at most max of
// them, and the token for the next page. Tokens are opaque to callers: they
// carry the key of the last item returned. If that item is gone, the page
// resumes at the first item whose key sorts after it.
func page[T any](items []T, key func(T) string, token *string, max int) ([]T, *string, error) {
	start := 0
	if t := aws.ToString(token); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil {
			return nil, nil, invalidParam("Invalid nextToken. Pass the nextToken value the previous call returned.")
		}
		last := string(raw)
		start = len(items)
		for i, it := range items {
			if k := key(it); k == last {
				start = i + 1
				break
			} else if k > last && start == len(items) {
				start = i
			}
		}
	}
	end := min(start+max, len(items))
	var next *string
	if end < len(items) {
		next = aws.String(base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1]))))
	}
	return items[start:end], next, nil
}

// validateTags applies ECS's tag rules.
func validateTags(tags []types.Tag) error {
	if len(tags) > 50 {
		return invalidParam("Tags can have at most 50 items.")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		k := aws.ToString(t.Key)
		if k == "" || len(k) > 128 {
			return invalidParam("Tag keys must be between 1 and 128 characters.")
		}
		if len(aws.ToString(t.Value)) > 256 {
			return invalidParam("Tag values can have at most 256 characters.")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalidParam("Tag keys starting with 'aws:' are reserved for AWS use.")
		}
		if seen[k] {
			return invalidParam("Tag key %s appears more than once.", k)
		}
		seen[k] = true
	}
	return nil
}

// mergeTags adds or replaces tags by key.
func mergeTags(have, add []types.Tag) []types.Tag {
	out := slices.Clone(have)
	for _, t := range add {
		i := slices.IndexFunc(out, func(h types.Tag) bool { return aws.ToString(h.Key) == aws.ToString(t.Key) })
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	return out
}

func removeTags(have []types.Tag, keys []string) []types.Tag {
	return slices.DeleteFunc(slices.Clone(have), func(t types.Tag) bool { return slices.Contains(keys, aws.ToString(t.Key)) })
}

// emptyIfNil makes a nil slice an empty one, so the member is sent as []
// as ECS does.
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

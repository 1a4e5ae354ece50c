package setters

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Token is the key of a setter marker; a file without it (quoted, as JSON writes it) holds no
// marker and is not parsed.
const Token = `"$imagepolicy"`

// Fields a marker may set; the empty field sets the whole image reference.
const (
	FieldImage  = ""
	FieldTag    = "tag"
	FieldName   = "name"
	FieldDigest = "digest"
)

// Marker is a parsed setter marker.
type Marker struct {
	Namespace, Name string
	// Field is FieldImage, FieldTag, FieldName or FieldDigest.
	Field string
}

// String is the marker's value, which is also the setter's name in Flux's commit template data:
// NAMESPACE:NAME or NAMESPACE:NAME:FIELD.
func (m Marker) String() string {
	s := m.Namespace + ":" + m.Name
	if m.Field != FieldImage {
		s += ":" + m.Field
	}
	return s
}

// ParseMarker reads a YAML line comment. ok is false for a comment that is no marker (no JSON
// object with the key "$imagepolicy"); err says what is wrong with one that is a marker but does
// not name a policy as NAMESPACE:NAME[:tag|:name|:digest].
func ParseMarker(comment string) (m Marker, ok bool, err error) {
	text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(comment), "#"))
	if !strings.HasPrefix(text, "{") || !strings.Contains(text, Token) {
		return Marker{}, false, nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &fields) != nil {
		return Marker{}, false, nil
	}
	raw, ok := fields["$imagepolicy"]
	if !ok {
		return Marker{}, false, nil
	}
	var value string
	if err := json.Unmarshal(raw, &value); err != nil {
		return Marker{}, true, fmt.Errorf("the value of \"$imagepolicy\" must be a string NAMESPACE:NAME")
	}
	parts := strings.Split(value, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Marker{}, true, fmt.Errorf("%s must be NAMESPACE:NAME, or NAMESPACE:NAME:tag, :name or :digest", quote(value))
	}
	m = Marker{Namespace: parts[0], Name: parts[1]}
	if len(parts) == 3 {
		m.Field = parts[2]
		if m.Field != FieldTag && m.Field != FieldName && m.Field != FieldDigest {
			return Marker{}, true, fmt.Errorf("%s: the part after the policy must be tag, name or digest", quote(value))
		}
	}
	if errs := validation.IsDNS1123Label(m.Namespace); len(errs) > 0 {
		return Marker{}, true, fmt.Errorf("%s: namespace %s is not a namespace name", quote(value), quote(m.Namespace))
	}
	if errs := validation.IsDNS1123Subdomain(m.Name); len(errs) > 0 {
		return Marker{}, true, fmt.Errorf("%s: %s is not an ImagePolicy name", quote(value), quote(m.Name))
	}
	return m, true, nil
}

// quote quotes a value from a file for a message, cut to a length a message can carry.
func quote(s string) string {
	const max = 128
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

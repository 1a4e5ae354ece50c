package setters

import (
	"strings"
	"testing"
)

func FuzzParseMarker(f *testing.F) {
	for _, s := range []string{
		`# {"$imagepolicy": "flux-system:podinfo"}`, `#{"$imagepolicy":"ns:app:tag"}`, `# {"$imagepolicy": "ns:app:digest", "x": 1}`,
		`# {"$imagepolicy": 3}`, `# {"$imagepolicy": "a:b:c:d"}`, `# note`, `# {"$imagepolicy": "NS:App"}`, `# {"$imagepolicy"`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, comment string) {
		m, ok, err := ParseMarker(comment)
		if !ok && err != nil {
			t.Fatalf("not a marker, yet an error: %v", err)
		}
		if ok && err == nil {
			// A marker that parses prints itself back in the form it was read.
			again, ok2, err2 := ParseMarker(`# {"$imagepolicy": "` + m.String() + `"}`)
			if !ok2 || err2 != nil || again != m {
				t.Fatalf("%q parsed as %+v, which reads back as %+v %v %v", comment, m, again, ok2, err2)
			}
			if strings.Count(m.String(), ":") > 2 {
				t.Fatalf("%q: marker %q", comment, m)
			}
		}
	})
}

// FuzzRewrite: any YAML with any marker never panics, and a rewrite either changes nothing or
// yields YAML whose marked values read as the policy's.
func FuzzRewrite(f *testing.F) {
	f.Add("image: x:1 # {\"$imagepolicy\": \"ns:app\"}\n")
	f.Add("a: &x 'x:1' # {\"$imagepolicy\": \"ns:app:tag\"}\nb: *x\n---\n- \"x\" # {\"$imagepolicy\": \"ns:app:name\"}\n")
	f.Fuzz(func(t *testing.T, data string) {
		resolve := func(m Marker) (string, bool, string, bool) {
			switch m.Field {
			case FieldTag:
				return "1.10", false, "", false
			case FieldName:
				return "it's: #1", false, "", false
			}
			return "reg.io/app:2", false, "", false
		}
		out, _, _, err := rewrite([]byte(data), resolve)
		if err != nil || out == nil {
			return
		}
		if _, err := decode(out); err != nil {
			t.Fatalf("rewrote %q into %q, which does not parse: %v", data, out, err)
		}
	})
}

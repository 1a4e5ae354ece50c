package imagepolicy

import (
	"testing"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

func TestSelects(t *testing.T) {
	blue := map[string]string{"team": "blue", "env": "prod"}
	for name, c := range map[string]struct {
		selectors []meta.NamespaceSelector
		want      bool
	}{
		"no selector":                 {nil, false},
		"a selector without labels":   {[]meta.NamespaceSelector{{}}, true},
		"one label of the namespace":  {[]meta.NamespaceSelector{{MatchLabels: map[string]string{"team": "blue"}}}, true},
		"all of a selector's labels":  {[]meta.NamespaceSelector{{MatchLabels: map[string]string{"team": "blue", "env": "dev"}}}, false},
		"another value":               {[]meta.NamespaceSelector{{MatchLabels: map[string]string{"team": "red"}}}, false},
		"any of several selectors":    {[]meta.NamespaceSelector{{MatchLabels: map[string]string{"team": "red"}}, {MatchLabels: map[string]string{"env": "prod"}}}, true},
		"a label the namespace lacks": {[]meta.NamespaceSelector{{MatchLabels: map[string]string{"tier": "gold"}}}, false},
	} {
		if got := selects(&meta.AccessFrom{NamespaceSelectors: c.selectors}, blue); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}

package remote

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseConfigMap(t *testing.T) {
	cm, err := ParseConfigMap("fleet", map[string]string{
		"provider": "azure", "cluster": " /subscriptions/x ", "address": "https://a", "ca.crt": "PEM",
		"audiences": "api://one\n\n  api://two  \n", "serviceAccountName": "deployer",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Cluster != "/subscriptions/x" || cm.Address != "https://a:443" || string(cm.CA) != "PEM" ||
		!slices.Equal(cm.Audiences, []string{"api://one", "api://two"}) || cm.ServiceAccountName != "deployer" {
		t.Errorf("read %+v", cm)
	}
	// An address and a CA are enough without the cluster.
	if _, err := ParseConfigMap("fleet", map[string]string{"provider": "azure", "address": "https://a", "ca.crt": "PEM"}); err != nil {
		t.Error(err)
	}
	for name, c := range map[string]struct {
		data map[string]string
		want string
	}{
		"no provider":      {map[string]string{"cluster": "x"}, "has no 'provider' key"},
		"generic":          {map[string]string{"provider": "generic", "address": "https://a"}, "does not support yet"},
		"unknown provider": {map[string]string{"provider": "azurre", "cluster": "x"}, "the providers are aws, azure, gcp and generic"},
		"no cluster":       {map[string]string{"provider": "azure", "address": "https://a"}, "needs the key 'cluster'"},
		"namespaced SA":    {map[string]string{"provider": "azure", "cluster": "x", "serviceAccountName": "other/sa"}, "without a namespace"},
	} {
		_, err := ParseConfigMap("fleet", c.data)
		var cerr *Error
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &cerr) || !cerr.Terminal() {
			t.Errorf("%s: %v, want a terminal error with %q", name, err, c.want)
		}
	}
}

// FuzzParseConfigMap: any ConfigMap is read or refused with a bounded, valid message that never
// quotes the CA or the audiences.
func FuzzParseConfigMap(f *testing.F) {
	f.Add("azure", "/subscriptions/x", "https://a", "PEM", "api://x", "sa")
	f.Add("", "", "", "", "", "")
	f.Add(strings.Repeat("ü", 300), "c", "", "", "", "a/b")
	f.Fuzz(func(t *testing.T, provider, cluster, address, ca, audiences, sa string) {
		_, err := ParseConfigMap("cm", map[string]string{
			"provider": provider, "cluster": cluster, "address": address, "ca.crt": ca, "audiences": audiences, "serviceAccountName": sa,
		})
		if err == nil {
			return
		}
		msg := err.Error()
		if len(msg) > 1000 || (utf8.ValidString(provider) && !utf8.ValidString(msg)) {
			t.Fatalf("message %q", msg)
		}
		if len(ca) > 8 && strings.Contains(msg, ca) {
			t.Fatalf("message quotes the CA: %q", msg)
		}
	})
}

package access

import (
	"fmt"
	"strings"
	"testing"
)

const ehKey = "c2VjcmV0LWtleS1vZi10aGUtcnVsZS1kby1ub3QtbG9n"

func TestParseEventHubsConnectionString(t *testing.T) {
	good := "Endpoint=sb://Azimuth-Local.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + ehKey + ";EntityPath=flux-events"
	c, err := ParseEventHubsConnectionString(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "azimuth-local.servicebus.windows.net" || c.KeyName != "send" || c.Key != ehKey || c.EntityPath != "flux-events" || c.Raw != good {
		t.Fatalf("parsed wrong: host %q rule %q hub %q", c.Host, c.KeyName, c.EntityPath)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if out := fmt.Sprintf(f, c); strings.Contains(out, ehKey) {
			t.Errorf("%s prints the key: %s", f, out)
		}
	}
	if c, err := ParseEventHubsConnectionString("endpoint=sb://ns.servicebus.windows.net;sharedaccesssignature=SharedAccessSignature sr=x&sig=" + ehKey + ";entitypath=hub"); err != nil || c.SharedAccessSignature == "" {
		t.Fatalf("SAS token form: %v", err)
	}
	for name, s := range map[string]string{
		"empty":       "",
		"no endpoint": "SharedAccessKeyName=send;SharedAccessKey=" + ehKey + ";EntityPath=hub",
		"not sb":      "Endpoint=https://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + ehKey + ";EntityPath=hub",
		"no hub":      "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + ehKey,
		"no key":      "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;EntityPath=hub",
		"both":        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + ehKey + ";SharedAccessSignature=" + ehKey + ";EntityPath=hub",
		"not kv":      "Endpoint=sb://ns.servicebus.windows.net/;" + ehKey + ";EntityPath=hub",
		"bad hub":     "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + ehKey + ";EntityPath=hub/Partitions/0",
	} {
		_, err := ParseEventHubsConnectionString(s)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), ehKey) {
			t.Errorf("%s: the error shows the key: %v", name, err)
		}
	}
}

func FuzzParseEventHubsConnectionString(f *testing.F) {
	f.Add("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + ehKey + ";EntityPath=hub")
	f.Add("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=a&sig=b;EntityPath=hub")
	f.Add(";;=;Endpoint=sb://[::1]:5671/")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseEventHubsConnectionString(s)
		if err != nil {
			// Errors never echo a key.
			for _, part := range strings.Split(s, ";") {
				k, v, _ := strings.Cut(part, "=")
				if strings.HasPrefix(strings.ToLower(strings.TrimSpace(k)), "sharedaccess") && len(v) >= 8 && strings.Contains(err.Error(), v) {
					t.Fatalf("the error shows a key: %v", err)
				}
			}
			return
		}
		if c.Host == "" || c.EntityPath == "" || (c.SharedAccessSignature == "" && (c.KeyName == "" || c.Key == "")) {
			t.Fatalf("accepted an incomplete connection string: host %q hub %q", c.Host, c.EntityPath)
		}
		if len(c.Key) >= 8 && strings.Contains(fmt.Sprint(c), c.Key) {
			t.Fatal("the printed form shows the key")
		}
	})
}

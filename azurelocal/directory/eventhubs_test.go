package directory

import (
	"slices"
	"strings"
	"testing"
)

// withEventHubs adds a namespace with a hub that has its own rule, and one that declares nothing.
func withEventHubs() string {
	ns := `  eventHubsNamespaces:
    - name: flux-ns
      subscription: ` + subID + `
      resourceGroup: rg
      authorizationRules:
        - {name: sender, rights: [Send], primaryKey: key-one}
      eventHubs:
        - name: flux-events
          partitionCount: 4
          authorizationRules:
            - {name: listen, rights: [Listen]}
        - {name: other}
    - {name: plain-ns, subscription: ` + subID + `, resourceGroup: rg}
`
	return strings.Replace(base, "resources:\n", "resources:\n"+ns, 1)
}

func TestEventHubsDirectory(t *testing.T) {
	d, err := Parse([]byte(withEventHubs()))
	if err != nil {
		t.Fatal(err)
	}
	ns, ok := d.EventHubsNamespace("FLUX-NS")
	if !ok || ns.Kind != KindEventHubsNamespace || !strings.HasSuffix(ns.ID(), "/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/flux-ns") {
		t.Fatalf("EventHubsNamespace = %+v, %v", ns, ok)
	}
	if len(ns.AuthorizationRules) != 1 || ns.AuthorizationRules[0].PrimaryKey != "key-one" ||
		ns.AuthorizationRules[0].SecondaryKey != DerivedEventHubsKey("flux-ns", "", "sender", "secondary") {
		t.Errorf("namespace rules = %+v", ns.AuthorizationRules)
	}
	h, ok := ns.Hub("Flux-Events")
	if !ok || h.PartitionCount != 4 || len(h.AuthorizationRules) != 1 || h.AuthorizationRules[0].PrimaryKey != DerivedEventHubsKey("flux-ns", "flux-events", "listen", "primary") {
		t.Errorf("hub = %+v, %v", h, ok)
	}
	if other, _ := ns.Hub("other"); other.PartitionCount != 1 {
		t.Errorf("default partition count = %d, want 1", other.PartitionCount)
	}
	if got := ns.HubID("flux-events"); got != ns.ID()+"/eventhubs/flux-events" {
		t.Errorf("HubID = %s", got)
	}
	ns.EventHubs[0].AuthorizationRules[0].Rights[0] = "changed"
	if again, _ := d.EventHubsNamespace("flux-ns"); again.EventHubs[0].AuthorizationRules[0].Rights[0] != RightListen {
		t.Error("EventHubsNamespace returned shared slices")
	}
	plain, _ := d.EventHubsNamespace("plain-ns")
	if len(plain.AuthorizationRules) != 1 || plain.AuthorizationRules[0].Name != RootManageSharedAccessKey ||
		!slices.Equal(plain.AuthorizationRules[0].Rights, []string{RightListen, RightSend, RightManage}) {
		t.Errorf("default rules = %+v", plain.AuthorizationRules)
	}
	if len(d.Resources(KindEventHubsNamespace)) != 2 || len(d.EventHubsNamespaces()) != 2 {
		t.Errorf("resources = %v", d.Resources(KindEventHubsNamespace))
	}
	// The spec survives a YAML round trip with its kinds.
	out, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if ns2, _ := again.EventHubsNamespace("flux-ns"); ns2.Kind != KindEventHubsNamespace || len(ns2.EventHubs) != 2 {
		t.Errorf("after a round trip: %+v", ns2)
	}
}

func TestDefaultEventHubs(t *testing.T) {
	ns, ok := Default().EventHubsNamespace("azimuth-local")
	if !ok {
		t.Fatal("the default directory has no azimuth-local namespace")
	}
	if _, ok := ns.Hub("flux-events"); !ok {
		t.Errorf("the default namespace has no flux-events hub: %+v", ns.EventHubs)
	}
}

func TestEventHubsValidation(t *testing.T) {
	good := withEventHubs()
	for _, tt := range []struct {
		name, old, new, wantErr string
	}{
		{"short namespace name", "name: flux-ns", "name: f", "must be 6 to 50 letters"},
		{"namespace name twice", "name: plain-ns", "name: flux-ns", "namespace names are global"},
		{"bad hub name", "name: other", "name: -other", "a name is 1 to 256 letters"},
		{"hub twice", "name: other", "name: flux-events", "eventHubs[1] 'flux-events': the name is used twice"},
		{"too many partitions", "partitionCount: 4", "partitionCount: 33", "partitionCount 33 is not between 1 and 32"},
		{"unknown right", "rights: [Send]", "rights: [Write]", "right 'Write' is not Listen, Send or Manage"},
		{"manage alone", "rights: [Send]", "rights: [Manage]", "Manage needs Listen and Send"},
		{"no rights", "rights: [Listen]", "rights: []", "rights are empty"},
		{"bad rule name", "name: sender", "name: 'a b'", "a rule name is 1 to 256 characters"},
		{"rule twice", "{name: listen, rights: [Listen]}", "{name: listen, rights: [Listen]}\n            - {name: LISTEN, rights: [Send]}", "the name is used twice"},
		{"unknown subscription", "subscription: " + subID + "\n      resourceGroup: rg\n      authorizationRules", "subscription: 00000000-0000-0000-0000-000000000000\n      resourceGroup: rg\n      authorizationRules", "is not declared in subscriptions"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("the test directory has no %q", tt.old)
			}
			_, err := Parse([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidEventHubsNames(t *testing.T) {
	for s, want := range map[string]bool{"flux-ns": true, "a23456": true, "1abcde": false, "abcde-": false, "abcde": false, strings.Repeat("a", 51): false} {
		if got := ValidEventHubsNamespaceName(s); got != want {
			t.Errorf("ValidEventHubsNamespaceName(%q) = %v", s, got)
		}
	}
	for s, want := range map[string]bool{"h": true, "flux.events_1-x": true, "_h": false, "h-": false, "": false, "a/b": false} {
		if got := ValidEventHubName(s); got != want {
			t.Errorf("ValidEventHubName(%q) = %v", s, got)
		}
	}
}

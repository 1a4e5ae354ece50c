package api_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// provider and alert are a Provider and an Alert with every field Azimuth implements, as Flux's
// documentation writes them.
const (
	provider = `
spec:
  type: azuredevops
  address: https://dev.azure.com/contoso/platform/_git/fleet
  channel: general
  timeout: 30s
  serviceAccountName: notifier
  secretRef:
    name: ado-token
  certSecretRef:
    name: ado-ca
  proxySecretRef:
    name: proxy
  suspend: false
  commitStatusExpr: "(event.involvedObject.kind + '/' + event.involvedObject.name).lowerAscii()"
`
	alert = `
spec:
  providerRef:
    name: ado
  eventSeverity: info
  eventSources:
    - kind: Kustomization
      name: '*'
      namespace: apps
      matchLabels:
        team: platform
    - kind: GitRepository
      name: fleet
      apiVersion: source.toolkit.fluxcd.io/v1
  inclusionList: [".*succeeded.*"]
  exclusionList: ["^Dependencies"]
  eventMetadata:
    summary: production (westeurope)
  summary: production
  suspend: false
`
)

// newerThanV1beta1 are the fields of the manifests above that Flux's v1beta1 does not have.
var newerThanV1beta1 = []string{"serviceAccountName", "proxySecretRef", "commitStatusExpr", "inclusionList", "eventMetadata"}

// TestNotificationSchemas: a Provider and an Alert with every field are accepted, and the values
// Azimuth does not implement or that are out of bounds are refused at the field.
func TestNotificationSchemas(t *testing.T) {
	long := strings.Repeat("a", 40<<10)
	tests := []struct {
		name, file, manifest string
		set                  func(spec map[string]any)
		refuse               string
	}{
		{"every provider field", "notification.toolkit.fluxcd.io_providers.yaml", provider, func(map[string]any) {}, ""},
		{"slack", "notification.toolkit.fluxcd.io_providers.yaml", provider, func(s map[string]any) { s["type"] = "slack" }, "spec.type"},
		{"azureeventhub", "notification.toolkit.fluxcd.io_providers.yaml", provider, func(s map[string]any) { s["type"] = "azureeventhub"; s["channel"] = "contoso-events" }, ""},
		{"long address", "notification.toolkit.fluxcd.io_providers.yaml", provider, func(s map[string]any) { s["address"] = long }, "spec.address"},
		{"timeout in hours", "notification.toolkit.fluxcd.io_providers.yaml", provider, func(s map[string]any) { s["timeout"] = "1h" }, "spec.timeout"},
		{"username", "notification.toolkit.fluxcd.io_providers.yaml", provider, func(s map[string]any) { s["username"] = "flux" }, "spec.username"},
		{"every alert field", "notification.toolkit.fluxcd.io_alerts.yaml", alert, func(map[string]any) {}, ""},
		{"warning severity", "notification.toolkit.fluxcd.io_alerts.yaml", alert, func(s map[string]any) { s["eventSeverity"] = "warning" }, "spec.eventSeverity"},
		{"unknown kind", "notification.toolkit.fluxcd.io_alerts.yaml", alert, func(s map[string]any) {
			s["eventSources"].([]any)[0].(map[string]any)["kind"] = "Deployment"
		}, "spec.eventSources[0].kind"},
		{"long regex", "notification.toolkit.fluxcd.io_alerts.yaml", alert, func(s map[string]any) { s["exclusionList"] = []any{long} }, "spec.exclusionList[0]"},
	}
	for _, tt := range tests {
		for version, schema := range schemas(t, loadCRD(t, tt.file)) {
			t.Run(tt.name+"/"+version, func(t *testing.T) {
				var obj map[string]any
				if err := yaml.Unmarshal([]byte(tt.manifest), &obj); err != nil {
					t.Fatal(err)
				}
				if version == "v1beta1" {
					for _, field := range newerThanV1beta1 {
						delete(obj["spec"].(map[string]any), field)
					}
				}
				tt.set(obj["spec"].(map[string]any))
				errs := validate("spec", dig(t, schema, "properties", "spec").(map[string]any), obj["spec"])
				if tt.refuse == "" {
					if len(errs) > 0 {
						t.Errorf("refused: %v", errs)
					}
					return
				}
				if len(errs) != 1 || !strings.HasPrefix(errs[0], tt.refuse+":") {
					t.Errorf("errors %.300q, want %s refused", errs, tt.refuse)
				}
			})
		}
	}
}

// TestNotificationRules: commitStatusExpr is refused on the types without commit statuses (in
// the versions that have the field: v1beta1 has not).
func TestNotificationRules(t *testing.T) {
	const rule = "self.type == 'azuredevops' || !has(self.commitStatusExpr)"
	for version, schema := range schemas(t, loadCRD(t, "notification.toolkit.fluxcd.io_providers.yaml")) {
		if version == "v1beta1" {
			if _, ok := dig(t, schema, "properties", "spec", "properties").(map[string]any)["commitStatusExpr"]; ok {
				t.Error("v1beta1 declares commitStatusExpr, which Flux's v1beta1 has not")
			}
			continue
		}
		rules, _ := dig(t, schema, "properties", "spec", "x-kubernetes-validations").([]any)
		found := false
		for _, r := range rules {
			found = found || r.(map[string]any)["rule"] == rule
		}
		if !found {
			t.Errorf("%s: spec has no rule %q; it has %v", version, rule, rules)
		}
	}
}

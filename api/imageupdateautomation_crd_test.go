package api_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// imageUpdateAutomation has every field Azimuth implements, as Flux's documentation writes them.
const imageUpdateAutomation = `
spec:
  interval: 30m
  sourceRef:
    kind: GitRepository
    name: fleet
    namespace: flux-system
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        email: fluxcdbot@users.noreply.github.com
        name: fluxcdbot
      signingKey:
        secretRef:
          name: signing-key
        type: gpg
      messageTemplate: |
        Automated image update by {{ .AutomationObject }}
        {{ range .Changed.Changes }}- {{ .OldValue }} -> {{ .NewValue }}
        {{ end }}
      messageTemplateValues:
        env: prod
    push:
      branch: image-updates
      refspec: refs/heads/image-updates:refs/heads/review
      options:
        merge_request.create: ""
  update:
    path: ./clusters/prod
    strategy: Setters
  policySelector:
    matchLabels:
      app: podinfo
    matchExpressions:
      - key: tier
        operator: In
        values: [frontend]
  suspend: false
`

// TestImageUpdateAutomationSchema: a manifest with every field is accepted at every version; a
// forcing refspec, an unknown strategy or signing type, and oversized values are refused.
func TestImageUpdateAutomationSchema(t *testing.T) {
	const file = "image.toolkit.fluxcd.io_imageupdateautomations.yaml"
	long := strings.Repeat("a", 40<<10)
	tests := []struct {
		name   string
		set    func(spec map[string]any)
		refuse string
	}{
		{"every field", func(map[string]any) {}, ""},
		{"force refspec", func(s map[string]any) { push(s)["refspec"] = "+HEAD:refs/heads/main" }, "spec.git.push.refspec"},
		{"delete refspec", func(s map[string]any) { push(s)["refspec"] = ":refs/heads/main" }, "spec.git.push.refspec"},
		{"long branch", func(s map[string]any) { push(s)["branch"] = long }, "spec.git.push.branch"},
		{"long template", func(s map[string]any) { commit(s)["messageTemplate"] = long }, "spec.git.commit.messageTemplate"},
		{"ssh signing", func(s map[string]any) { commit(s)["signingKey"].(map[string]any)["type"] = "ssh" }, "spec.git.commit.signingKey.type"},
		{"other strategy", func(s map[string]any) { s["update"].(map[string]any)["strategy"] = "Regex" }, "spec.update.strategy"},
		{"other source kind", func(s map[string]any) { s["sourceRef"].(map[string]any)["kind"] = "Bucket" }, "spec.sourceRef.kind"},
		{"bad operator", func(s map[string]any) {
			s["policySelector"].(map[string]any)["matchExpressions"].([]any)[0].(map[string]any)["operator"] = "Near"
		}, "spec.policySelector.matchExpressions[0].operator"},
		{"no author email", func(s map[string]any) { delete(commit(s)["author"].(map[string]any), "email") }, "spec.git.commit.author.email"},
	}
	for version, schema := range schemas(t, loadCRD(t, file)) {
		for _, tt := range tests {
			t.Run(tt.name+"/"+version, func(t *testing.T) {
				var obj map[string]any
				if err := yaml.Unmarshal([]byte(imageUpdateAutomation), &obj); err != nil {
					t.Fatal(err)
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
		// The values of maps are bounded too, and their keys by a rule.
		spec := dig(t, schema, "properties", "spec").(map[string]any)
		for _, path := range [][]string{
			{"properties", "git", "properties", "commit", "properties", "messageTemplateValues"},
			{"properties", "git", "properties", "push", "properties", "options"},
			{"properties", "policySelector", "properties", "matchLabels"},
		} {
			m := dig(t, spec, path...).(map[string]any)
			if dig(t, m, "additionalProperties", "maxLength") == nil || m["maxProperties"] == nil || m["x-kubernetes-validations"] == nil {
				t.Errorf("%s: %s is not bounded: %v", version, strings.Join(path, "."), m)
			}
		}
	}
}

func commit(spec map[string]any) map[string]any {
	return spec["git"].(map[string]any)["commit"].(map[string]any)
}

func push(spec map[string]any) map[string]any {
	return spec["git"].(map[string]any)["push"].(map[string]any)
}

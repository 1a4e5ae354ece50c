package imageupdateautomation

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/internal/setters"
)

// TestMessageSprig: templates may call sprig's hermetic text functions, as in Flux, and range
// over .Changed.Objects with a key and a value.
func TestMessageSprig(t *testing.T) {
	var changed setters.Result
	deploy := setters.ObjectIdentifier{ResourceIdentifier: yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, NameMeta: yaml.NameMeta{Name: "podinfo", Namespace: "apps"}}}
	changed.AddChange("deploy.yaml", deploy, setters.Change{OldValue: "ghcr.io/stefanprodan/podinfo:6.0.0", NewValue: "ghcr.io/stefanprodan/podinfo:6.0.1", Setter: "flux-system:podinfo"})
	data := TemplateData{AutomationObject: types.NamespacedName{Namespace: "flux-system", Name: "podinfo"}, Changed: changed, Values: map[string]string{"env": "prod"}}

	for _, tc := range []struct{ template, want string }{
		{"{{ .AutomationObject.Name | upper }}", "PODINFO"},
		// .AutomationObject is a namespace/name pair, not a string: toString renders it as text/template prints it.
		{"{{ .AutomationObject | toString | upper }}", "FLUX-SYSTEM/PODINFO"},
		{"{{ .Values.env | title }} {{ .Values.missing | default \"none\" }}", "Prod none"},
		{"[ci skip] {{ range $k, $v := .Changed.Objects -}}\n" +
			"{{ $k.Kind | lower }}/{{ $k.Name }}:{{ range $v }} {{ .NewValue | splitList \":\" | last | trimPrefix \"v\" }}{{ end }}\n" +
			"{{ end }}",
			"[ci skip] deployment/podinfo: 6.0.1\n"},
		{"{{ list \"b\" \"a\" | sortAlpha | join \",\" }} {{ \"podinfo\" | sha256sum | trunc 7 }}", "a,b 04d1b7e"},
	} {
		tmpl, err := parseTemplate(tc.template)
		if err != nil {
			t.Fatalf("%q: %v", tc.template, err)
		}
		got, err := renderMessage(tmpl, data)
		if err != nil || got != tc.want {
			t.Errorf("%q rendered %q, %v; want %q", tc.template, got, err, tc.want)
		}
	}

	// sprig's non-hermetic functions are not offered, as in Flux: the template does not parse.
	for _, text := range []string{`{{ env "HOME" }}`, `{{ now }}`, `{{ randAlpha 4 }}`} {
		if _, err := parseTemplate(text); reason(err) != imagev1.GitOperationFailedReason || !stalls(err) {
			t.Errorf("%s: %v", text, err)
		}
	}
}

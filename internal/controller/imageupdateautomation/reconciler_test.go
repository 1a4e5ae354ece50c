package imageupdateautomation

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/setters"
)

// TestMessage: the templates of Flux's documentation render with the same data shape.
func TestMessage(t *testing.T) {
	var changed setters.Result
	deploy := setters.ObjectIdentifier{ResourceIdentifier: yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, NameMeta: yaml.NameMeta{Name: "podinfo", Namespace: "apps"}}}
	changed.AddChange("deploy.yaml", deploy, setters.Change{OldValue: "podinfo:6.0.0", NewValue: "podinfo:6.0.1", Setter: "flux-system:podinfo"})
	changed.AddChange("kustomization.yaml", setters.ObjectIdentifier{}, setters.Change{OldValue: "6.0.0", NewValue: "6.0.1", Setter: "flux-system:podinfo:tag"})
	data := TemplateData{AutomationObject: types.NamespacedName{Namespace: "flux-system", Name: "podinfo"}, Changed: changed, Values: map[string]string{"env": "prod"}}
	for _, tc := range []struct{ template, want string }{
		{"", "Update from image update automation"},
		{"Automated image update\n\nAutomation name: {{ .AutomationObject }}\n\nFiles:\n{{ range $filename, $_ := .Changed.FileChanges -}}\n- {{ $filename }}\n{{ end -}}",
			"Automated image update\n\nAutomation name: flux-system/podinfo\n\nFiles:\n- deploy.yaml\n- kustomization.yaml\n"},
		{"{{ range .Changed.Changes }}{{ .OldValue }} -> {{ .NewValue }} ({{ .Setter }});{{ end }}",
			"podinfo:6.0.0 -> podinfo:6.0.1 (flux-system:podinfo);6.0.0 -> 6.0.1 (flux-system:podinfo:tag);"},
		{"{{ range $resource, $changes := .Changed.Objects }}{{ if $resource.Name }}{{ $resource.Kind }} {{ $resource.Namespace }}/{{ $resource.Name }}: {{ len $changes }}{{ end }}{{ end }}",
			"Deployment apps/podinfo: 1"},
		{"[{{ .Values.env }}] {{ .Values.missing }}", "[prod] <no value>"}, // as in Flux
	} {
		tmpl, err := parseTemplate(tc.template)
		if err != nil {
			t.Fatal(err)
		}
		got, err := renderMessage(tmpl, data)
		if err != nil || got != tc.want {
			t.Errorf("%q rendered %q, %v; want %q", tc.template, got, err, tc.want)
		}
	}

	if _, err := parseTemplate("{{ .Changed"); reason(err) != imagev1.GitOperationFailedReason || !stalls(err) {
		t.Errorf("a template that does not parse: %v", err)
	}
	for tmpl, field := range map[string]string{"{{ .Updated.Images }}": "'.Updated'", "{{ .Changed.ImageResult }}": "'.Changed.ImageResult'"} {
		parsed, _ := parseTemplate(tmpl)
		_, err := renderMessage(parsed, data)
		if reason(err) != imagev1.RemovedTemplateFieldReason || !stalls(err) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v", tmpl, err)
		}
	}
	parsed, _ := parseTemplate("{{ index .Values 1 }}")
	if _, err := renderMessage(parsed, data); reason(err) != imagev1.GitOperationFailedReason {
		t.Errorf("a template that does not render: %v", err)
	}
}

func reason(err error) string {
	var e *status.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func stalls(err error) bool {
	var e *status.Error
	return errors.As(err, &e) && e.Stalled
}

// TestPolicyView: selected policies with a latest image are observed; a policy without one, or
// failed for its current spec, is not ready; the selector leaves others out.
func TestPolicyView(t *testing.T) {
	ref := &imagev1.ImageRef{Name: "reg/app", Tag: "1.0.0"}
	policy := func(name string, labels map[string]string, latest *imagev1.ImageRef, ready metav1.ConditionStatus, generation int64) imagev1.ImagePolicy {
		p := imagev1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Generation: 2}, Status: imagev1.ImagePolicyStatus{LatestRef: latest}}
		if ready != "" {
			p.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: ready, Reason: "R", Message: "why", ObservedGeneration: generation}}
		}
		return p
	}
	obj := &imagev1.ImageUpdateAutomation{Spec: imagev1.ImageUpdateAutomationSpec{PolicySelector: &imagev1.LabelSelector{MatchLabels: map[string]imagev1.LabelValue{"team": "a"}}}}
	sel, err := selector(obj)
	if err != nil {
		t.Fatal(err)
	}
	a := map[string]string{"team": "a"}
	view, observed := policyView([]imagev1.ImagePolicy{
		policy("ready", a, ref, metav1.ConditionTrue, 2),
		policy("no-latest", a, nil, "", 0),
		policy("failed-now", a, ref, metav1.ConditionFalse, 2),
		policy("failed-before", a, ref, metav1.ConditionFalse, 1),
		policy("other-team", map[string]string{"team": "b"}, ref, metav1.ConditionTrue, 2),
	}, sel)
	got := map[string]string{}
	for _, p := range view {
		got[p.Name] = p.NotReady
		if p.Unselected != (p.Name == "other-team") {
			t.Errorf("%s: unselected = %v", p.Name, p.Unselected)
		}
	}
	if got["ready"] != "" || got["failed-before"] != "" || !strings.Contains(got["no-latest"], "no latest image") || !strings.Contains(got["failed-now"], "Ready=False (R: why)") {
		t.Errorf("not ready: %v", got)
	}
	if len(observed) != 3 || observed["ready"] != *ref { // the selected policies with a latest image
		t.Errorf("observed: %v", observed)
	}
	if !sameObserved(observed, observed) || sameObserved(observed, imagev1.ObservedPolicies{"ready": *ref}) {
		t.Error("sameObserved")
	}
	obj.Spec.PolicySelector.MatchLabels = map[string]imagev1.LabelValue{"not a key": "x"}
	if _, err := selector(obj); reason(err) != imagev1.InvalidPolicySelectorReason || !stalls(err) {
		t.Errorf("an invalid selector: %v", err)
	}
}

// TestBranches: the checkout and push branches, as Flux chooses them.
func TestBranches(t *testing.T) {
	for _, tc := range []struct {
		name       string
		checkout   *sourcev1.GitRepositoryRef
		sourceRef  *sourcev1.GitRepositoryRef
		push       string
		branch     string
		switched   bool
		stalledFor string
	}{
		{"checkout branch", &sourcev1.GitRepositoryRef{Branch: "main"}, nil, "", "main", false, ""},
		{"the GitRepository's ref", nil, &sourcev1.GitRepositoryRef{Branch: "dev"}, "", "dev", false, ""},
		{"another push branch", &sourcev1.GitRepositoryRef{Branch: "main"}, nil, "auto", "auto", true, ""},
		{"the default ref and master", nil, nil, "master", "master", false, ""},
		{"a tag and a push branch", &sourcev1.GitRepositoryRef{Tag: "v1"}, nil, "main", "main", true, ""},
		{"a tag alone", &sourcev1.GitRepositoryRef{Tag: "v1"}, nil, "", "", false, imagev1.InvalidSourceConfigReason},
		{"nothing", nil, nil, "", "", false, imagev1.InvalidSourceConfigReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &imagev1.ImageUpdateAutomation{Spec: imagev1.ImageUpdateAutomationSpec{GitSpec: &imagev1.GitSpec{}}}
			if tc.checkout != nil {
				obj.Spec.GitSpec.Checkout = &imagev1.GitCheckoutSpec{Reference: *tc.checkout}
			}
			if tc.push != "" {
				obj.Spec.GitSpec.Push = &imagev1.PushSpec{Branch: tc.push}
			}
			ru := &run{obj: obj, source: &sourcev1.GitRepository{Spec: sourcev1.GitRepositorySpec{Reference: tc.sourceRef}}}
			err := ru.branches()
			if tc.stalledFor != "" {
				if reason(err) != tc.stalledFor || !stalls(err) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || ru.branch != tc.branch || ru.switched != tc.switched {
				t.Fatalf("branch %q switched %v err %v", ru.branch, ru.switched, err)
			}
		})
	}
}

// TestUnresolved: a missing or not-ready policy is DependencyNotReady, a marker to correct
// UpdateFailed; both list the markers, and at most five.
func TestUnresolved(t *testing.T) {
	list := []setters.Unresolved{{File: "a.yaml", Line: 1, Marker: "ns:x", Problem: "bad"}}
	if err := unresolvedError(list); reason(err) != imagev1.UpdateFailedReason || !strings.Contains(err.Error(), "a.yaml:1: marker \"ns:x\": bad") {
		t.Errorf("%v", err)
	}
	for range 6 {
		list = append(list, setters.Unresolved{File: "b.yaml", Line: 2, Marker: "ns:y", Problem: "missing", Dependency: true})
	}
	if err := unresolvedError(list); reason(err) != meta.DependencyNotReadyReason || !strings.Contains(err.Error(), "7 marker(s)") || !strings.Contains(err.Error(), "and 2 more") {
		t.Errorf("%v", err)
	}
}

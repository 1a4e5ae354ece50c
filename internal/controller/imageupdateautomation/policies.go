package imageupdateautomation

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/internal/clip"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/setters"
)

// selector is spec.policySelector as a labels.Selector: everything when empty. A selector that
// does not parse stalls the automation.
func selector(obj *imagev1.ImageUpdateAutomation) (labels.Selector, error) {
	if obj.Spec.PolicySelector == nil {
		return labels.Everything(), nil
	}
	s, err := metav1.LabelSelectorAsSelector(obj.Spec.PolicySelector.Metav1())
	if err != nil {
		return nil, status.Stall(imagev1.InvalidPolicySelectorReason, fmt.Errorf("spec.policySelector: %w", err))
	}
	return s, nil
}

// policyView is what the automation makes of its namespace's ImagePolicies: what the setters
// may use, and status.observedPolicies (the selected policies with a latest image, as Flux
// records them).
func policyView(policies []imagev1.ImagePolicy, sel labels.Selector) ([]setters.Policy, imagev1.ObservedPolicies) {
	out := make([]setters.Policy, 0, len(policies))
	observed := imagev1.ObservedPolicies{}
	for i := range policies {
		p := &policies[i]
		sp := setters.Policy{Name: p.Name, Unselected: !sel.Matches(labels.Set(p.Labels))}
		if ref := p.Status.LatestRef; ref != nil {
			sp.Latest = setters.Image{Name: ref.Name, Tag: ref.Tag, Digest: ref.Digest}
			if !sp.Unselected {
				observed[p.Name] = *ref
			}
		}
		sp.NotReady = notReady(p)
		out = append(out, sp)
	}
	return out, observed
}

// notReady says why a policy's latest image may not be used, or "" when it may: it has none,
// or the policy failed for its current spec.
func notReady(p *imagev1.ImagePolicy) string {
	ready := status.Ready(p)
	switch {
	case p.Status.LatestRef == nil && ready != nil && ready.Status == metav1.ConditionFalse:
		return fmt.Sprintf("it has no latest image yet (Ready=False, %s: %s)", ready.Reason, clip.String(ready.Message, 512))
	case p.Status.LatestRef == nil:
		return "it has no latest image yet"
	case ready != nil && ready.Status == metav1.ConditionFalse && ready.ObservedGeneration == p.Generation:
		return fmt.Sprintf("Ready=False (%s: %s)", ready.Reason, clip.String(ready.Message, 512))
	}
	return ""
}

// sameObserved tells whether the policies' latest images are those of the last run.
func sameObserved(a, b imagev1.ObservedPolicies) bool {
	if len(a) != len(b) {
		return false
	}
	for name, ref := range a {
		if other, ok := b[name]; !ok || other != ref {
			return false
		}
	}
	return true
}

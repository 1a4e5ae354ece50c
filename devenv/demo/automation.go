package demo

import (
	"fmt"
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

// The image automation sample: team-platform's ImageUpdateAutomation sets the image of
// AutomationFile, in the Azure DevOps repository, to the latest tag of ImageRepository that its
// ImagePolicy picks, and pushes the commit to main as the controller's identity (flux-controller,
// a Contributor of the project). A tag pushed to the local ACR while the demo runs moves it again
// within a minute (the ImageRepository's interval).
const (
	// AutomationTenant is the namespace of the ImageUpdateAutomation.
	AutomationTenant = "team-platform"
	// AutomationName names the ImageUpdateAutomation, as the GitRepository and the ImagePolicy
	// it uses are named in its tenant.
	AutomationName = "podinfo"
	// AutomationPath is the automation's spec.update.path; AutomationFile the file it changes.
	AutomationPath = "image-automation"
	AutomationFile = AutomationPath + "/podinfo.yaml"
	// AutomationAuthor is the commits' author.
	AutomationAuthor = "Azimuth image automation"
)

// gitFiles are the files committed to the Azure DevOps repository: the sample manifests, and the
// file the automation keeps at the latest image, at the oldest tag to begin with.
func (s *System) gitFiles() map[string]string {
	files := manifests(s.names.registryHost(), latestManifests, s.sopsSecret)
	maps.Copy(files, map[string]string{AutomationFile: automationManifest(s.names.registryHost(), ImageTags[0])})
	return files
}

// automationManifest is AutomationFile with the image at tag, and the marker of the tenant's
// ImagePolicy.
func automationManifest(registry, tag string) string {
	return `# Kept at the latest samples/podinfo by the ImageUpdateAutomation ` + AutomationTenant + `/` + AutomationName + `.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo-automated
spec:
  selector:
    matchLabels: {app: podinfo-automated}
  template:
    metadata:
      labels: {app: podinfo-automated}
    spec:
      containers:
        - name: podinfo
          image: ` + registry + "/" + ImageRepository + ":" + tag + ` # {"$imagepolicy": "` + AutomationTenant + `:podinfo"}
`
}

// automationSamples are t's ImageUpdateAutomation, for the automation tenant when the directory
// has an Azure DevOps repository.
func (s *System) automationSamples(t tenant, id Identity) []sample {
	if t.namespace != AutomationTenant || !t.git || !t.images || s.names.ado.name == "" {
		return nil
	}
	obj := &imagev1.ImageUpdateAutomation{
		ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: AutomationName},
		Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "fleet"},
			Interval:  metav1.Duration{Duration: sampleInterval},
			GitSpec: &imagev1.GitSpec{
				Checkout: &imagev1.GitCheckoutSpec{Reference: sourcev1.GitRepositoryRef{Branch: "main"}},
				Commit: imagev1.CommitSpec{
					Author: imagev1.CommitUser{Name: AutomationAuthor, Email: "image-automation@azimuth.invalid"},
					MessageTemplate: "Move podinfo to the latest image ({{ .AutomationObject }})\n\n" +
						"{{ range .Changed.Changes }}- {{ .OldValue }} -> {{ .NewValue }}\n{{ end }}",
				},
				Push: &imagev1.PushSpec{Branch: "main"},
			},
			Update: &imagev1.UpdateStrategy{Strategy: imagev1.UpdateStrategySetters, Path: AutomationPath},
		},
	}
	return []sample{{obj: obj, identity: id}}
}

// automationProblem says what is wrong with the automation when it is Ready: it must have pushed
// the latest image.
func automationProblem(o *imagev1.ImageUpdateAutomation) string {
	if o.Status.LastPushCommit == "" {
		return fmt.Sprintf("want a commit that moves %s to %s", ImageRepository, latestImage)
	}
	return ""
}

// automationUsage says how to see the automation move the image.
func (s *System) automationUsage() string {
	if s.names.ado.name == "" {
		return ""
	}
	return fmt.Sprintf("  crane tag %s/%s:%s 6.8.0   # %s/%s commits it to %s within a minute\n",
		s.names.registryHost(), ImageRepository, latestImage, AutomationTenant, AutomationName, AutomationFile)
}

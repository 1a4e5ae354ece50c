package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// checkAutomation: the automation committed the latest image to the Azure DevOps repository as
// its author, and a tag pushed to the local ACR while the demo runs is committed in turn.
func checkAutomation(ctx context.Context, t *testing.T, sys *System, table Table) {
	t.Helper()
	const object = "ImageUpdateAutomation " + AutomationTenant + "/" + AutomationName
	found := false
	for _, r := range table {
		if r.Object() == object {
			found = true
			if id := r.Identity.String(); id != "controller WI flux-controller (213d8012…)" {
				t.Errorf("%s acts as %q", object, id)
			}
		}
	}
	if !found {
		t.Errorf("the table has no row %s", object)
	}
	r := sys.names.ado
	bare, err := sys.Env.Azure.DevOps().RepoPath(r.org, r.project, r.name)
	if err != nil {
		t.Fatal(err)
	}
	repository := sys.names.registryHost() + "/" + ImageRepository
	if got := testenv.Git(t, bare, "show", "main:"+AutomationFile); !strings.Contains(got, "image: "+repository+":"+latestImage+" # {") {
		t.Errorf("%s on main:\n%s", AutomationFile, got)
	}
	if got := testenv.Git(t, bare, "log", "-1", "--format=%an|%s", "main"); got != AutomationAuthor+"|Move podinfo to the latest image ("+AutomationTenant+"/"+AutomationName+")" {
		t.Errorf("main's last commit: %s", got)
	}

	const newTag = "6.8.0"
	pusher, err := sys.Env.Pusher(ctx, sys.names.tenantID, sys.names.pushID, sys.names.pushSecret)
	if err != nil {
		t.Fatal(err)
	}
	img, err := image(newTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := pusher.Push(repository+":"+newTag, img); err != nil {
		t.Fatal(err)
	}
	// Rescan now rather than at the next interval, as `flux reconcile image repository` does.
	repo := &imagev1.ImageRepository{}
	if err := sys.Env.Client.Get(ctx, client.ObjectKey{Namespace: AutomationTenant, Name: "podinfo"}, repo); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(repo.DeepCopy())
	repo.Annotations = map[string]string{meta.ReconcileRequestAnnotation: time.Now().Format(time.RFC3339Nano)}
	if err := sys.Env.Client.Patch(ctx, repo, patch); err != nil {
		t.Fatal(err)
	}
	for {
		if got := testenv.Git(t, bare, "show", "main:"+AutomationFile); strings.Contains(got, ":"+newTag+" # {") {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the automation did not commit %s", newTag)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

package bucket_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	localblob "github.com/azimuth-gitops/azimuth/azurelocal/blob"
	"github.com/azimuth-gitops/azimuth/azurelocal/gateway"
)

const waitTimeout = 2 * time.Minute

var manifests = map[string]string{
	"deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
	"deploy/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\n",
}

// TestIdentities: each kind of object-level credential reads the container, and the artifact
// holds its blobs at the revision Flux computes from their names and ETags.
func TestIdentities(t *testing.T) {
	fx := get(t)
	tests := []struct {
		name string
		// setup creates what the Bucket needs in ns and returns its secretRef and service account.
		setup func(t *testing.T, ns, container string) (secretRef, sa string)
	}{
		{"client secret", func(t *testing.T, ns, _ string) (string, string) {
			return fx.secret(t, ns, map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": secret}), ""
		}},
		{"client certificate", func(t *testing.T, ns, _ string) (string, string) {
			return fx.secret(t, ns, map[string]string{"tenantId": tenantID, "clientId": certApp, "clientCertificate": string(fx.cert.PEM()), "clientCertificateSendChain": "true"}), ""
		}},
		{"managed identity by client ID", func(t *testing.T, ns, _ string) (string, string) {
			return fx.secret(t, ns, map[string]string{"clientId": secretMI}), ""
		}},
		{"account key", func(t *testing.T, ns, _ string) (string, string) {
			return fx.secret(t, ns, map[string]string{"accountKey": key}), ""
		}},
		{"SAS", func(t *testing.T, ns, container string) (string, string) {
			return fx.secret(t, ns, map[string]string{"sasKey": "?" + fx.sas(t, container, time.Now().Add(time.Hour))}), ""
		}},
		{"object-level workload identity", func(t *testing.T, ns, _ string) (string, string) {
			fx.serviceAccount(t, ns, "fleet-reader", wiObject)
			return "", "fleet-reader"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := fx.namespace(t)
			container := fx.container(t, account, manifests)
			secretRef, sa := tt.setup(t, ns, container)
			obj := bucket(ns, "fleet", account, container, func(s *sourcev1.BucketSpec) {
				if secretRef != "" {
					s.SecretRef = &meta.LocalObjectReference{Name: secretRef}
				}
				s.ServiceAccountName = sa
			})
			fx.create(t, obj)
			fx.waitFor(t, obj, "Ready", ready(obj))
			fx.expectArtifact(t, obj, manifests, fx.revision(t, account, container, ""))
			expectCondition(t, obj, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, meta.SucceededReason)
			if c := condition(obj, meta.ReadyCondition); !strings.HasPrefix(c.Message, "stored artifact: revision 'sha256:") {
				t.Errorf("Ready says %q", c.Message)
			}
			fx.waitEvent(t, obj, corev1.EventTypeNormal, sourcev1.NewArtifactReason, fmt.Sprintf("stored artifact with 2 fetched files from '%s' bucket", container))
		})
	}
}

// TestControllerIdentities: without a secret or a service account, the controller's own
// identity reads the container: its workload identity from its environment, else the node's
// managed identity.
func TestControllerIdentities(t *testing.T) {
	fx := get(t)
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"controller workload identity", map[string]string{
			"AZURE_CLIENT_ID": wiControl, "AZURE_TENANT_ID": tenantID, "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/",
			"AZURE_FEDERATED_TOKEN_FILE": filepath.Join(fx.env.Dir, "azure-token"),
		}},
		{"node managed identity", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx.setEnv(t, tt.env)
			ns := fx.namespace(t)
			container := fx.container(t, account, manifests)
			mark := fx.requests.Len()
			obj := bucket(ns, "fleet", account, container, nil)
			fx.create(t, obj)
			fx.waitFor(t, obj, "Ready", ready(obj))
			principal := strings.Replace(tt.env["AZURE_CLIENT_ID"], "b0c7c", "b0c7d", 1)
			if principal == "" {
				principal = systemMIOID
			}
			if rs := fx.requests.Since(mark, func(r localblob.Record) bool { return r.Container == container && r.Principal != principal }); len(rs) > 0 {
				t.Errorf("requests to the container as another principal than %s: %+v", principal, rs)
			}
			fx.expectArtifact(t, obj, manifests, fx.revision(t, account, container, ""))
		})
	}
}

// TestPrefixAndIgnore: spec.prefix selects blobs, the container's root .sourceignore and
// spec.ignore leave some out; the artifact keeps the blobs' full names, as Flux's does.
func TestPrefixAndIgnore(t *testing.T) {
	fx := get(t)
	t.Parallel()
	ns := fx.namespace(t)
	container := fx.container(t, account, map[string]string{
		".sourceignore":        "*.md\n",
		"deploy/app.yaml":      manifests["deploy/app.yaml"],
		"deploy/README.md":     "# not deployed\n",
		"deploy/test/x.yaml":   "kind: Test\n",
		"deploy/values.enc":    "encrypted",
		"other/unrelated.yaml": "kind: Other\n",
	})
	ignore := "*.enc\n/deploy/test/\n"
	obj := bucket(ns, "fleet", account, container, func(s *sourcev1.BucketSpec) {
		s.SecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"accountKey": key})}
		s.Prefix, s.Ignore = "deploy/", &ignore
	})
	fx.create(t, obj)
	fx.waitFor(t, obj, "Ready", ready(obj))
	want := map[string]string{"deploy/app.yaml": manifests["deploy/app.yaml"]}
	fx.expectArtifact(t, obj, want, revisionOf(fx.listETags(t, account, container, "deploy/"), want))
	if obj.Status.ObservedIgnore == nil || *obj.Status.ObservedIgnore != ignore {
		t.Errorf("status.observedIgnore = %v", obj.Status.ObservedIgnore)
	}
}

// TestPathStyle: a path-style endpoint (https://HOST:PORT/ACCOUNT), as Azurite, Azure Stack Hub
// and a private endpoint's address serve, reads the container with the account's key; Flux
// takes the account from the host and cannot.
func TestPathStyle(t *testing.T) {
	fx := get(t)
	t.Parallel()
	ns := fx.namespace(t)
	container := fx.container(t, account, manifests)
	obj := bucket(ns, "path-style", account, container, func(s *sourcev1.BucketSpec) {
		s.Endpoint = fx.azurite + "/" + account
		s.SecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"accountKey": key})}
	})
	fx.create(t, obj)
	fx.waitFor(t, obj, "Ready", ready(obj))
	fx.expectArtifact(t, obj, manifests, revisionOf(fx.listETags(t, account, container, ""), manifests))
}

// TestUntrustedEndpoint: an endpoint whose certificate no trusted CA signs fails, and the
// message says where its CA goes.
func TestUntrustedEndpoint(t *testing.T) {
	fx := get(t)
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ns := fx.namespace(t)
	obj := bucket(ns, "untrusted", account, "manifests", func(s *sourcev1.BucketSpec) {
		s.Endpoint = srv.URL + "/" + account
		s.SecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"accountKey": key})}
	})
	fx.create(t, obj)
	fx.waitFor(t, obj, "FetchFailed", is(obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.BucketOperationFailedReason))
	if msg := condition(obj, meta.ReadyCondition).Message; !strings.Contains(msg, "add that CA to 'ca.crt'") {
		t.Errorf("Ready's message does not say where the endpoint's CA goes:\n%s", msg)
	}
}

// TestETagReuse: a reconcile that finds the same blobs downloads none (and no .sourceignore,
// which the listing shows absent); one that finds a blob changed downloads that blob alone, and
// stores a new artifact with the others copied from the previous one.
func TestETagReuse(t *testing.T) {
	fx := get(t)
	t.Parallel()
	ns := fx.namespace(t)
	files := maps.Clone(manifests)
	for i := range 10 {
		files[fmt.Sprintf("deploy/many/cm-%02d.yaml", i)] = fmt.Sprintf("kind: ConfigMap\nmetadata:\n  name: cm-%02d\n", i)
	}
	container := fx.container(t, account, files)
	obj := bucket(ns, "fleet", account, container, func(s *sourcev1.BucketSpec) {
		s.SecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": secret})}
	})
	fx.create(t, obj)
	fx.waitFor(t, obj, "Ready", ready(obj))
	first := obj.Status.Artifact.DeepCopy()
	downloads := func(mark int) []string {
		var names []string
		for _, r := range fx.requests.Since(mark, func(r localblob.Record) bool {
			return r.Container == container && r.Operation == "GetBlob"
		}) {
			names = append(names, r.Blob)
		}
		slices.Sort(names)
		return names
	}

	mark := fx.requests.Len()
	fx.reconcileAndWait(t, obj)
	if d := downloads(mark); len(d) != 0 {
		t.Errorf("a reconcile with nothing changed downloaded %v", d)
	}
	if obj.Status.Artifact.Revision != first.Revision || obj.Status.Artifact.Path != first.Path {
		t.Errorf("the artifact changed: %+v, was %+v", obj.Status.Artifact, first)
	}

	files["deploy/app.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-v2\n"
	fx.upload(t, account, container, map[string]string{"deploy/app.yaml": files["deploy/app.yaml"]})
	mark = fx.requests.Len()
	fx.reconcileAndWait(t, obj)
	if d := downloads(mark); !slices.Equal(d, []string{"deploy/app.yaml"}) {
		t.Errorf("a reconcile with one blob changed downloaded %v", d)
	}
	fx.expectArtifact(t, obj, files, fx.revision(t, account, container, ""))
	if obj.Status.Artifact.Revision == first.Revision {
		t.Error("the revision did not change with a blob")
	}
	fx.waitEvent(t, obj, corev1.EventTypeNormal, sourcev1.NewArtifactReason, "stored artifact with 12 fetched files")
}

// TestRefusals: what users get wrong is said with what to change.
func TestRefusals(t *testing.T) {
	fx := get(t)
	tests := []struct {
		name      string
		container func(t *testing.T) string
		spec      func(t *testing.T, ns, container string, s *sourcev1.BucketSpec)
		stalled   bool
		reason    string
		says      []string
	}{
		{"missing container", func(*testing.T) string { return "no-such-container" },
			func(t *testing.T, ns, _ string, s *sourcev1.BucketSpec) {
				s.SecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": secret})}
			}, false, sourcev1.BucketOperationFailedReason,
			[]string{"container 'no-such-container' was not found in storage account '" + account + "'", "az storage container create"}},
		{"missing role", nil, func(t *testing.T, ns, _ string, s *sourcev1.BucketSpec) {
			s.SecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"tenantId": tenantID, "clientId": noRoleApp, "clientSecret": secret})}
		}, false, sourcev1.BucketOperationFailedReason, []string{
			`"Storage Blob Data Reader"`, noRoleApp,
			`az role assignment create --assignee ` + noRoleApp + ` --role "Storage Blob Data Reader" --scope $(az storage account show --name ` + account + ` --query id -o tsv)`,
		}},
		{"expired SAS", nil, func(t *testing.T, ns, container string, s *sourcev1.BucketSpec) {
			s.SecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"sasKey": fx.sas(t, container, time.Now().Add(-time.Hour))})}
		}, false, sourcev1.BucketOperationFailedReason, []string{"the SAS has expired", "it expired at", "sasKey"}},
		{"not a storage endpoint", nil, func(_ *testing.T, _, _ string, s *sourcev1.BucketSpec) {
			s.Endpoint = "https://minio.example.com"
		}, true, sourcev1.URLInvalidReason, []string{"spec.endpoint 'https://minio.example.com' is not an Azure Blob Storage endpoint"}},
		{"generic provider", nil, func(_ *testing.T, _, _ string, s *sourcev1.BucketSpec) {
			s.Provider = sourcev1.GenericBucketProvider
		}, true, sourcev1.InvalidProviderConfigurationReason, []string{"S3-compatible", "set spec.provider to 'azure'"}},
		{"missing secret", nil, func(_ *testing.T, _, _ string, s *sourcev1.BucketSpec) {
			s.SecretRef = &meta.LocalObjectReference{Name: "nowhere"}
		}, false, sourcev1.AuthenticationFailedReason, []string{"secret 'nowhere' not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := fx.namespace(t)
			container := "unused"
			if tt.container != nil {
				container = tt.container(t)
			} else {
				container = fx.container(t, account, manifests)
			}
			obj := bucket(ns, "fleet", account, container, func(s *sourcev1.BucketSpec) { tt.spec(t, ns, container, s) })
			fx.create(t, obj)
			if tt.stalled {
				fx.waitFor(t, obj, "Stalled "+tt.reason, stalled(obj, tt.reason))
			} else {
				fx.waitFor(t, obj, "FetchFailed "+tt.reason, is(obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, tt.reason))
				expectCondition(t, obj, meta.ReadyCondition, metav1.ConditionFalse, tt.reason)
			}
			msg := condition(obj, meta.ReadyCondition).Message
			for _, s := range tt.says {
				if !strings.Contains(msg, s) {
					t.Errorf("Ready's message does not say %q:\n%s", s, msg)
				}
			}
			for _, leak := range []string{key, secret, "sig="} {
				if strings.Contains(msg, leak) && !strings.Contains(msg, "sig=REDACTED") {
					t.Errorf("Ready's message shows a secret:\n%s", msg)
				}
			}
		})
	}
}

// TestSchemaRules: the API server applies Flux's CEL rules.
func TestSchemaRules(t *testing.T) {
	fx := get(t)
	t.Parallel()
	ns := fx.namespace(t)
	both := bucket(ns, "both", account, "podinfo", func(s *sourcev1.BucketSpec) {
		s.SecretRef, s.ServiceAccountName = &meta.LocalObjectReference{Name: "x"}, "y"
	})
	if err := fx.kube.Create(t.Context(), both); err == nil || !strings.Contains(err.Error(), "cannot set both .spec.secretRef and .spec.serviceAccountName") {
		t.Errorf("secretRef and serviceAccountName: %v", err)
	}
	generic := bucket(ns, "generic", account, "podinfo", func(s *sourcev1.BucketSpec) {
		s.Provider, s.ServiceAccountName = "generic", "y"
	})
	if err := fx.kube.Create(t.Context(), generic); err == nil || !strings.Contains(err.Error(), "ServiceAccountName is not supported for the 'generic' Bucket provider") {
		t.Errorf("generic with serviceAccountName: %v", err)
	}
	aws := bucket(ns, "aws", account, "podinfo", func(s *sourcev1.BucketSpec) { s.Provider = "aws" })
	if err := fx.kube.Create(t.Context(), aws); !apierrors.IsInvalid(err) {
		t.Errorf("provider aws: %v", err)
	}
}

// TestFaults: the service answering 503 with Retry-After, then resetting a connection, is retried
// within the reconcile, as azcore retries.
func TestFaults(t *testing.T) {
	fx := get(t)
	t.Parallel()
	ns := fx.namespace(t)
	container := fx.container(t, flaky, manifests)
	host := flaky + localblob.Suffix
	if err := fx.azure.Inject(host, gateway.Fault{Status: http.StatusServiceUnavailable, RetryAfter: time.Second, Times: 2}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.azure.Clear(host) })
	obj := bucket(ns, "fleet", flaky, container, func(s *sourcev1.BucketSpec) {
		s.SecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": secret})}
	})
	fx.create(t, obj)
	fx.waitFor(t, obj, "Ready", ready(obj))
	fx.expectArtifact(t, obj, manifests, fx.revision(t, flaky, container, ""))

	if err := fx.azure.Inject(host, gateway.Fault{Reset: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	fx.upload(t, flaky, container, map[string]string{"deploy/new.yaml": "kind: New\n"})
	fx.reconcileAndWait(t, obj)
	if _, ok := fx.artifactFiles(t, obj.Status.Artifact)["deploy/new.yaml"]; !ok {
		t.Error("the artifact after a reset lacks the new blob")
	}
}

// TestProxy: with spec.proxySecretRef the blobs, and the identity's tokens, travel through the
// proxy: the local Azure's works, an address where no proxy listens fails.
func TestProxy(t *testing.T) {
	fx := get(t)
	for _, tt := range []struct {
		name, address string
		works         bool
	}{
		{"local proxy", fx.azure.ProxyURL(), true},
		{"no proxy there", "http://127.0.0.1:1", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := fx.namespace(t)
			container := fx.container(t, account, manifests)
			obj := bucket(ns, "fleet", account, container, func(s *sourcev1.BucketSpec) {
				s.SecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": secret})}
				s.ProxySecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"address": tt.address})}
			})
			fx.create(t, obj)
			if tt.works {
				fx.waitFor(t, obj, "Ready", ready(obj))
				fx.expectArtifact(t, obj, manifests, fx.revision(t, account, container, ""))
				return
			}
			fx.waitFor(t, obj, "FetchFailed", is(obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.BucketOperationFailedReason))
			if msg := condition(obj, meta.ReadyCondition).Message; !strings.Contains(msg, "proxy") && !strings.Contains(msg, "127.0.0.1:1") {
				t.Errorf("Ready's message does not name the proxy:\n%s", msg)
			}
		})
	}
}

// TestDelete: deleting a Bucket removes its artifacts, then its finalizer.
func TestDelete(t *testing.T) {
	fx := get(t)
	t.Parallel()
	ns := fx.namespace(t)
	container := fx.container(t, account, manifests)
	obj := bucket(ns, "fleet", account, container, func(s *sourcev1.BucketSpec) {
		s.SecretRef = &meta.LocalObjectReference{Name: fx.secret(t, ns, map[string]string{"accountKey": key})}
	})
	fx.create(t, obj)
	fx.waitFor(t, obj, "Ready", ready(obj))
	dir := filepath.Join(fx.storage, "bucket", ns, "fleet")
	if _, err := os.Stat(filepath.Join(fx.storage, filepath.FromSlash(obj.Status.Artifact.Path))); err != nil {
		t.Fatal(err)
	}
	if err := fx.kube.Delete(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		err := fx.kube.Get(t.Context(), client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Bucket is still there: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the artifacts are still there: %v", err)
	}
}

// TestV1beta2: a Bucket written for Flux 2.4 and earlier, at v1beta2, is served as v1.
func TestV1beta2(t *testing.T) {
	fx := get(t)
	t.Parallel()
	ns := fx.namespace(t)
	container := fx.container(t, account, manifests)
	name := fx.secret(t, ns, map[string]string{"accountKey": key})
	manifest := fmt.Sprintf(`
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: Bucket
metadata: {name: fleet, namespace: %s}
spec:
  interval: 1h
  provider: azure
  bucketName: %s
  endpoint: https://%s.blob.core.windows.net
  secretRef: {name: %s}
`, ns, container, account, name)
	var u map[string]any
	if err := yaml.Unmarshal([]byte(manifest), &u); err != nil {
		t.Fatal(err)
	}
	if err := fx.kube.Create(t.Context(), unstructuredOf(u)); err != nil {
		t.Fatal(err)
	}
	obj := &sourcev1.Bucket{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"}}
	fx.waitFor(t, obj, "Ready", ready(obj))
	if obj.Spec.Timeout == nil || obj.Spec.Timeout.Duration != 60*time.Second {
		t.Errorf("spec.timeout = %v, want the default 60s", obj.Spec.Timeout)
	}
}

package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// cluster is the package's control plane and a local Azure serving the default directory that
// trusts its service-account issuer.
type cluster struct {
	env   *testenv.Env
	azure *azurelocal.Azure
	kube  client.Client
}

// sharedCluster holds the one local Azure of this test binary, started by the first test that
// needs it, as testenv holds its control plane.
var sharedCluster azuretest.Lazy[*cluster]

func localCluster(t *testing.T) *cluster {
	t.Helper()
	return sharedCluster.Get(t, func() (*cluster, error) {
		env := testenv.Get(t)
		a, err := azuretest.StartAzure("", &azurelocal.Options{StateDir: filepath.Join(env.Dir, "local-azure"), IssuerCAs: [][]byte{env.CAPEM}})
		if err != nil {
			return nil, err
		}
		kube, err := client.New(env.Config, client.Options{})
		return &cluster{env: env, azure: a.Azure, kube: kube}, err
	})
}

func (c *cluster) namespace(t *testing.T) string {
	t.Helper()
	return testenv.Namespace(t, c.kube, "token-")
}

func (c *cluster) create(t *testing.T, obj client.Object) {
	t.Helper()
	testenv.Create(t, c.kube, obj)
}

// azureFlags are the flags that send `azimuth token` to the local Azure.
func (c *cluster) azureFlags() []string {
	args := []string{"--ca-file", filepath.Join(c.azure.StateDir(), pki.CAFile)}
	for _, rule := range c.azure.ConnectTo() {
		args = append(args, "--connect-to", rule)
	}
	return args
}

// kubeconfigIn writes a kubeconfig for the control plane whose context's namespace is ns.
func (c *cluster) kubeconfigIn(t *testing.T, ns string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(c.env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Contexts[cfg.CurrentContext].Namespace = ns
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTokenForServiceAccount(t *testing.T) {
	c := localCluster(t)
	ns := c.namespace(t)
	mi, ok := c.azure.Directory().Principal("flux-controller")
	if !ok {
		t.Fatal("the default directory has no flux-controller identity")
	}
	c.create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "source", Annotations: map[string]string{
		identity.ClientIDAnnotation: mi.ClientID, identity.TenantIDAnnotation: mi.TenantID,
	}}})
	err := c.azure.Directory().AddFederatedCredential(mi.Name, directory.FederatedCredential{
		Name: ns, Issuer: c.env.IssuerURL, Subject: "system:serviceaccount:" + ns + ":source",
	})
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"token", "--kubeconfig", c.env.Kubeconfig, "--namespace", ns, "--service-account", "source", "--scope", "acr"}, c.azureFlags()...)

	_, _, err = run(t.Context(), args...)
	if err == nil || !strings.Contains(err.Error(), "--feature-gates=ObjectLevelWorkloadIdentity=true") {
		t.Fatalf("without the feature gate: err = %v, want the flag that enables it", err)
	}

	out, _, err := run(t.Context(), append(args, "--feature-gates=ObjectLevelWorkloadIdentity=true")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Identity:    workload identity (client ID " + mi.ClientID, "from service account " + ns + "/source",
		"Credential:  ClientAssertionCredential", "Cloud:       AzurePublic",
		"Scope:       https://containerregistry.azure.net/.default",
		"aud    https://containerregistry.azure.net", "iss    https://sts.windows.net/" + mi.TenantID + "/",
		"oid    " + mi.PrincipalID, "tid    " + mi.TenantID, "appid  " + mi.ClientID, "exp    20",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "eyJ") {
		t.Errorf("the output holds a token:\n%s", out)
	}
}

func TestTokenForSecret(t *testing.T) {
	c := localCluster(t)
	ns := c.namespace(t)
	app := defaultSecretApp(t)
	c.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "azure"}, StringData: map[string]string{
		"tenantId": app.Tenant, "clientId": app.ClientID, "clientSecret": app.ClientSecrets[0].Value,
	}})
	c.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sops-azure"}, StringData: map[string]string{
		identity.SOPSKey: `{"appId": "` + app.ClientID + `", "tenant": "` + app.Tenant + `", "password": "` + app.ClientSecrets[0].Value + `"}`,
	}})
	// The namespace comes from the kubeconfig's context, and the connect-to map from the
	// environment.
	t.Setenv(connectToEnv, strings.Join(c.azure.ConnectTo(), "\n"))
	base := []string{"token", "--kubeconfig", c.kubeconfigIn(t, ns), "--ca-file", filepath.Join(c.azure.StateDir(), pki.CAFile)}

	for _, tc := range []struct {
		name string
		args []string
		aud  string
	}{
		{"Bucket secret", []string{"--secret", "azure", "--scope", "https://storage.azure.com/.default"}, "https://storage.azure.com"},
		{"decryption secret", []string{"--secret", "sops-azure", "--decryption", "--scope", "keyvault"}, "https://vault.azure.net"},
		{"AKS API server", []string{"--secret", "azure", "--scope", "aks"}, "6dae42f8-4368-4678-94ff-3960e28e3630"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := run(t.Context(), slices.Concat(base, tc.args, []string{"--raw"})...)
			if err != nil {
				t.Fatal(err)
			}
			token := strings.TrimSuffix(out, "\n")
			if strings.ContainsAny(token, " \n") {
				t.Fatalf("--raw printed more than the token:\n%s", out)
			}
			claims, err := c.azure.Entra().Verifier().Verify(token, tc.aud)
			if err != nil {
				t.Fatal(err)
			}
			if claims.AppID != app.ClientID {
				t.Errorf("token for %s, want %s", claims.AppID, app.ClientID)
			}

			out, _, err = run(t.Context(), slices.Concat(base, tc.args)...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "Credential:  ClientSecretCredential") || !strings.Contains(out, "from secret "+ns+"/") ||
				!strings.Contains(out, "aud    "+tc.aud) || strings.Contains(out, token) || strings.Contains(out, app.ClientSecrets[0].Value) {
				t.Errorf("without --raw, the output is not the identity and claims alone:\n%s", out)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	c := localCluster(t)
	ns := c.namespace(t)
	c.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wrong"}, StringData: map[string]string{
		"tenantId": "2e811126-9388-40f9-a8e4-23ac7e094717", "clientId": "7e477dda-4b8a-4ab6-9bc6-71e64b817cd3", "clientSecret": "not-the-s3cret",
	}})
	base := append([]string{"token", "--kubeconfig", c.env.Kubeconfig, "-n", ns, "--scope", "acr"}, c.azureFlags()...)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong client secret", []string{"--secret", "wrong"}, "AADSTS7000215"},
		{"missing secret", []string{"--secret", "absent"}, "secret 'absent' not found in namespace '" + ns + "'"},
		{"service account and secret", []string{"--secret", "wrong", "--service-account", "source"}, "none of the others can be"},
		{"unknown feature gate", []string{"--feature-gates=ObjectLevelWorkloadIdentity=true,Foo=true"}, `unknown feature gate "Foo"`},
		{"default decryption service account without the gate", []string{"--default-decryption-service-account=sops"}, "--feature-gates=ObjectLevelWorkloadIdentity=true"},
		{"missing default service account", []string{"--feature-gates=ObjectLevelWorkloadIdentity=true", "--default-service-account=tenant"}, "the default service account does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t.Context(), slices.Concat(base, tc.args)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to hold %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "not-the-s3cret") {
				t.Errorf("the error holds the secret: %v", err)
			}
		})
	}
	// Without the local CA: a certificate no retry can make trusted fails at once, with its
	// cause and what to do about it.
	app := defaultSecretApp(t)
	c.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "right"}, StringData: map[string]string{
		"tenantId": app.Tenant, "clientId": app.ClientID, "clientSecret": app.ClientSecrets[0].Value,
	}})
	noCA := []string{"token", "--kubeconfig", c.env.Kubeconfig, "-n", ns, "--scope", "acr", "--secret", "right"}
	for _, rule := range c.azure.ConnectTo() {
		noCA = append(noCA, "--connect-to", rule)
	}
	_, _, err := run(t.Context(), noCA...)
	for _, want := range []string{"x509: certificate signed by unknown authority", "--ca-file or SSL_CERT_FILE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("without the CA: err = %v, want it to hold %q", err, want)
		}
	}
	if _, _, err := run(t.Context(), "token", "--secret", "x"); err == nil || !strings.Contains(err.Error(), `"scope"`) {
		t.Errorf("without --scope: err = %v", err)
	}
}

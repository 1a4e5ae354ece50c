package kustomization

import (
	"net"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

const secretToken = "s3cr3t-t0ken-value"

// kubeconfig is a one-context kubeconfig of a cluster at server, as user, edited by edit.
func kubeconfig(t testing.TB, server string, caData []byte, auth *clientcmdapi.AuthInfo, edit func(*clientcmdapi.Config)) []byte {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["remote"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caData}
	cfg.AuthInfos["deployer"] = auth
	cfg.Contexts["remote"] = &clientcmdapi.Context{Cluster: "remote", AuthInfo: "deployer"}
	cfg.CurrentContext = "remote"
	if edit != nil {
		edit(cfg)
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// aliasBomb expands to 9^9 strings: read whole, it would take the controller's memory.
const aliasBomb = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

// A tenant's kubeconfig is read with the controller's privileges: what would run a program,
// read the controller's files or skip the remote cluster's certificate is refused, with a
// message that names the field and never a credential.
func TestRemoteConfigRefuses(t *testing.T) {
	token := &clientcmdapi.AuthInfo{Token: secretToken}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"exec plugin", kubeconfig(t, "https://remote:6443", []byte("ca"), &clientcmdapi.AuthInfo{Token: secretToken, Exec: &clientcmdapi.ExecConfig{Command: "/bin/sh", APIVersion: "client.authentication.k8s.io/v1"}}, nil), "exec plugin"},
		{"auth provider", kubeconfig(t, "https://remote:6443", []byte("ca"), &clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{Name: "oidc", Config: map[string]string{"id-token": secretToken}}}, nil), "auth provider"},
		{"token file", kubeconfig(t, "https://remote:6443", []byte("ca"), &clientcmdapi.AuthInfo{TokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token"}, nil), "tokenFile"},
		{"client certificate file", kubeconfig(t, "https://remote:6443", []byte("ca"), &clientcmdapi.AuthInfo{ClientCertificate: "/etc/cert.pem", ClientKey: "/etc/key.pem"}, nil), "client-certificate-data"},
		{"CA file", kubeconfig(t, "https://remote:6443", nil, token, func(c *clientcmdapi.Config) { c.Clusters["remote"].CertificateAuthority = "/etc/ca.pem" }), "certificate-authority-data"},
		{"insecure TLS", kubeconfig(t, "https://remote:6443", nil, token, func(c *clientcmdapi.Config) { c.Clusters["remote"].InsecureSkipTLSVerify = true }), "insecure-skip-tls-verify"},
		{"no current context", kubeconfig(t, "https://remote:6443", []byte("ca"), token, func(c *clientcmdapi.Config) {
			c.CurrentContext = ""
			c.Contexts["other"] = c.Contexts["remote"]
		}), "current-context"},
		{"context of an unknown cluster", kubeconfig(t, "https://remote:6443", []byte("ca"), token, func(c *clientcmdapi.Config) { c.Contexts["remote"].Cluster = "gone" }), "does not define"},
		{"no server", kubeconfig(t, "", []byte("ca"), token, nil), "not usable"},
		{"not a kubeconfig", []byte("token: " + secretToken + "\n\t- ["), "cannot be read"},
		{"an alias bomb", []byte(aliasBomb), "excessive aliasing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := remoteConfig("remote-kubeconfig", tc.data)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "secret 'remote-kubeconfig'") {
				t.Errorf("error %q lacks %q or the secret's name", msg, tc.want)
			}
			if strings.Contains(msg, secretToken) {
				t.Errorf("error %q holds the token", msg)
			}
		})
	}
	// The one context of a kubeconfig without current-context is the one used.
	data := kubeconfig(t, "https://remote:6443", []byte("ca"), token, func(c *clientcmdapi.Config) { c.CurrentContext = "" })
	if cfg, err := remoteConfig("s", data); err != nil || cfg.Host != "https://remote:6443" || cfg.BearerToken != secretToken {
		t.Errorf("remoteConfig of the only context: %v", err)
	}
}

// The kubeconfig is under the key named, else 'value', else 'value.yaml', as Flux reads it.
func TestKubeconfigKeys(t *testing.T) {
	for _, tc := range []struct {
		key  string
		data map[string][]byte
		want string // the value read, or a part of the error
	}{
		{"", map[string][]byte{"value": []byte("a"), "value.yaml": []byte("b")}, "a"},
		{"", map[string][]byte{"value.yaml": []byte("b")}, "b"},
		{"config", map[string][]byte{"config": []byte("c"), "value": []byte("a")}, "c"},
		{"config", map[string][]byte{"value": []byte("a")}, "has no key 'config'"},
		{"", map[string][]byte{"kubeconfig": []byte("k")}, "neither a 'value' nor a 'value.yaml' key"},
	} {
		raw, err := kubeconfigData(&meta.SecretKeyReference{Name: "kc", Key: tc.key}, tc.data)
		got := string(raw)
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("key %q of %v: got %q, want %q", tc.key, tc.data, got, tc.want)
		}
	}
}

// Remote applies with the kubeconfig's user, or impersonates the Kustomization's service
// account there, and a refusal says which and where to grant the permission.
func TestRemoteClientActsAsTheKubeconfigUser(t *testing.T) {
	env := testenv.Get(t)
	admin, err := client.New(env.Config, client.Options{Scheme: scheme(t)})
	if err != nil {
		t.Fatal(err)
	}
	ns := testenv.Namespace(t, admin, "remote-")
	token, err := env.ServiceAccountToken(t.Context(), ns, "outsider")
	if err != nil {
		t.Fatal(err)
	}
	adminKubeconfig, err := os.ReadFile(env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	clients := NewClients(env.Config, scheme(t), nil, "")
	ref := &meta.SecretKeyReference{Name: "remote"}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "remote"}}

	// The kubeconfig's own user, a service account without a role: refused, and told where.
	outsider := map[string][]byte{"value": kubeconfig(t, env.Config.Host, env.Config.CAData, &clientcmdapi.AuthInfo{Token: token}, nil)}
	c, user, err := clients.Remote(ns, ref, outsider, "")
	if err != nil || user != "" {
		t.Fatalf("Remote: %q, %v, want the kubeconfig's own user", user, err)
	}
	err = c.Create(t.Context(), cm.DeepCopy())
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "system:serviceaccount:"+ns+":outsider") {
		t.Fatalf("create as the kubeconfig's user: %v, want forbidden for the outsider", err)
	}
	if msg := explain(err, actor{kubeconfig: ref.Name}).Error(); !strings.Contains(msg, "the user of the kubeconfig in secret 'remote'") || strings.Contains(msg, token) {
		t.Errorf("explained: %s", msg)
	}

	// An administrator's kubeconfig with spec.serviceAccountName impersonates that account there.
	c, user, err = clients.Remote(ns, ref, map[string][]byte{"value": adminKubeconfig}, "deployer")
	if err != nil || user != "system:serviceaccount:"+ns+":deployer" {
		t.Fatalf("Remote: %q, %v", user, err)
	}
	err = c.Create(t.Context(), cm.DeepCopy())
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), user) {
		t.Fatalf("create impersonating: %v, want forbidden for %s", err, user)
	}
	if msg := explain(err, actor{user: user, kubeconfig: ref.Name}).Error(); !strings.Contains(msg, "in the cluster of the kubeconfig in secret 'remote'") {
		t.Errorf("explained: %s", msg)
	}

	// --default-service-account applies in the remote cluster too, as in Flux (lockdown).
	locked := NewClients(env.Config, scheme(t), nil, "tenant")
	if _, user, err := locked.Remote(ns, ref, map[string][]byte{"value": adminKubeconfig}, ""); err != nil || user != "system:serviceaccount:"+ns+":tenant" {
		t.Errorf("Remote under --default-service-account: %q, %v", user, err)
	}

	// The administrator itself may, and the client is kept for the same kubeconfig and user.
	c, _, err = clients.Remote(ns, ref, map[string][]byte{"value": adminKubeconfig}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(t.Context(), cm.DeepCopy()); err != nil {
		t.Fatalf("create as the administrator: %v", err)
	}
	// The controller's rate limits, not client-go's 5 requests a second.
	cfg, err := clients.restConfig(ref.Name, adminKubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QPS != env.Config.QPS || cfg.Burst != env.Config.Burst || cfg.QPS <= 5 {
		t.Errorf("remote QPS %v burst %v, want the controller's %v and %v", cfg.QPS, cfg.Burst, env.Config.QPS, env.Config.Burst)
	}
	again, _, _ := clients.Remote(ns, ref, map[string][]byte{"value": adminKubeconfig}, "")
	if again != c {
		t.Error("a second client for the same kubeconfig and user")
	}
}

// FuzzRemoteConfig: whatever a tenant puts in the secret gives a config or an error, never a
// crash, and no error repeats a token or a password the kubeconfig holds.
func FuzzRemoteConfig(f *testing.F) {
	f.Add(kubeconfig(f, "https://remote:6443", []byte("ca"), &clientcmdapi.AuthInfo{Token: secretToken}, nil))
	f.Add(kubeconfig(f, "https://remote:6443", nil, &clientcmdapi.AuthInfo{Username: "u", Password: secretToken}, func(c *clientcmdapi.Config) { c.Clusters["remote"].InsecureSkipTLSVerify = true }))
	f.Add([]byte("apiVersion: v1\nkind: Config\ncontexts: [{name: a, context: {cluster: a}}]\ncurrent-context: a\n"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := remoteConfig("s", data)
		if err == nil {
			return
		}
		kc, lerr := clientcmd.Load(data)
		if lerr != nil {
			return
		}
		names := string(data[:0])
		for n, c := range kc.Contexts {
			names += n + "\x00" + c.Cluster + "\x00" + c.AuthInfo + "\x00"
		}
		for _, a := range kc.AuthInfos {
			for _, secret := range []string{a.Token, a.Password} {
				// A credential also used as a name is echoed as that name: not a leak to test.
				if len(secret) >= 8 && !strings.Contains(names, secret) && strings.Contains(err.Error(), secret) {
					t.Errorf("error holds a credential: %v", err)
				}
			}
		}
	})
}

// A remote cluster that does not answer, or whose certificate the kubeconfig does not trust,
// fails with what to check in which secret, not only a dial or x509 error.
func TestRemoteFaults(t *testing.T) {
	env := testenv.Get(t)
	clients := NewClients(env.Config, scheme(t), nil, "")
	ref := &meta.SecretKeyReference{Name: "remote"}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "remote"}}
	closed := func() string { // a loopback port nothing listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "https://" + l.Addr().String()
	}()
	for _, tc := range []struct {
		name, server string
		ca           []byte
		want         string
	}{
		{"nothing listens", closed, env.Config.CAData, "cannot be reached: check its server address"},
		{"another CA", env.Config.Host, otherCA(t), "certificate does not match the kubeconfig in secret 'remote'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := map[string][]byte{"value": kubeconfig(t, tc.server, tc.ca, &clientcmdapi.AuthInfo{Token: secretToken}, nil)}
			c, _, err := clients.Remote("default", ref, data, "")
			if err != nil {
				t.Fatal(err)
			}
			err = c.Create(t.Context(), cm.DeepCopy())
			if err == nil {
				t.Fatal("created")
			}
			msg := explain(err, actor{kubeconfig: ref.Name}).Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, secretToken) {
				t.Errorf("explained: %s", msg)
			}
		})
	}
}

// otherCA is the PEM of a CA that signed nothing the test API server serves.
func otherCA(t *testing.T) []byte {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return ca.CertPEM
}

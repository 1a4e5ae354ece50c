package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// cluster returns a client of the package's control plane and a fresh namespace in it.
func cluster(t *testing.T) (client.Client, string) {
	t.Helper()
	env := testenv.Get(t)
	c, err := client.New(env.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "identity-"}}
	if err := c.Create(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	return c, ns.Name
}

func create(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
}

func annotatedSA(ns, name string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		Annotations: map[string]string{ClientIDAnnotation: clientID, TenantIDAnnotation: tenant}}}
}

func noEnv(string) (string, bool) { return "", false }

func TestResolveServiceAccountRequestsAnExchangeToken(t *testing.T) {
	c, ns := cluster(t)
	create(t, c, annotatedSA(ns, "source"))
	r, err := NewResolver(c, &Options{ObjectLevelWorkloadIdentity: true, LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	id, err := r.Resolve(t.Context(), Request{Namespace: ns, ServiceAccountName: "source"})
	if err != nil {
		t.Fatal(err)
	}
	if id.Kind != WorkloadIdentity || id.ClientID != clientID || id.TenantID != tenant || id.Namespace != ns {
		t.Fatalf("identity = %v", id)
	}
	token, err := id.Assertion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatal(err)
	}
	sub, _ := claims.GetSubject()
	aud, _ := claims.GetAudience()
	if sub != "system:serviceaccount:"+ns+":source" || len(aud) != 1 || aud[0] != ExchangeAudience {
		t.Fatalf("token sub = %q, aud = %v", sub, aud)
	}
}

func TestResolveRules(t *testing.T) {
	c, ns := cluster(t)
	other := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "other-"}}
	create(t, c, other)
	create(t, c,
		annotatedSA(ns, "source"),
		annotatedSA(ns, "locked-default"),
		annotatedSA(other.Name, "elsewhere"),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bare"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-tenant", Annotations: map[string]string{ClientIDAnnotation: clientID}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}, StringData: map[string]string{"tenantId": tenant, "clientId": clientID, "clientSecret": secretV}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sops"}, StringData: map[string]string{SOPSKey: "clientId: " + clientID}},
	)
	on := &Options{ObjectLevelWorkloadIdentity: true, LookupEnv: noEnv}
	lockdown := &Options{ObjectLevelWorkloadIdentity: true, DefaultServiceAccount: "locked-default", DefaultDecryptionServiceAccount: "missing", LookupEnv: noEnv}
	off := &Options{LookupEnv: noEnv}
	kubeconfigDefault := &Options{ObjectLevelWorkloadIdentity: true, DefaultServiceAccount: "locked-default", DefaultKubeConfigServiceAccount: "source", LookupEnv: noEnv}

	tests := []struct {
		name     string
		opts     *Options
		req      Request
		wantKind Kind
		wantSA   string
		wantErr  string
	}{
		{name: "gate off", opts: off, req: Request{Namespace: ns, ServiceAccountName: "source"},
			wantErr: "enable the ObjectLevelWorkloadIdentity feature gate in the controller: --feature-gates=ObjectLevelWorkloadIdentity=true"},
		{name: "gate off, decryption", opts: off, req: Request{Namespace: ns, ServiceAccountName: "source", Decryption: true}, wantErr: "spec.decryption.serviceAccountName"},
		{name: "gate off, nothing named: controller", opts: off, req: Request{Namespace: ns}, wantKind: NodeManagedIdentity},
		{name: "named account", opts: on, req: Request{Namespace: ns, ServiceAccountName: "source"}, wantKind: WorkloadIdentity, wantSA: "source"},
		{name: "lockdown uses the default", opts: lockdown, req: Request{Namespace: ns}, wantKind: WorkloadIdentity, wantSA: "locked-default"},
		{name: "lockdown, named account wins", opts: lockdown, req: Request{Namespace: ns, ServiceAccountName: "source"}, wantKind: WorkloadIdentity, wantSA: "source"},
		{name: "lockdown, default missing", opts: lockdown, req: Request{Namespace: ns, Decryption: true}, wantErr: "locked down"},
		{name: "account of another namespace is not found here", opts: on, req: Request{Namespace: ns, ServiceAccountName: "elsewhere"}, wantErr: "service account 'elsewhere' not found in namespace '" + ns + "'"},
		{name: "namespaced name refused", opts: on, req: Request{Namespace: ns, ServiceAccountName: other.Name + "/elsewhere"}, wantErr: "object's own namespace"},
		{name: "no annotations", opts: on, req: Request{Namespace: ns, ServiceAccountName: "bare"}, wantErr: ClientIDAnnotation + " and " + TenantIDAnnotation},
		{name: "no tenant annotation", opts: on, req: Request{Namespace: ns, ServiceAccountName: "no-tenant"}, wantErr: "lacks the annotation " + TenantIDAnnotation},
		{name: "secret wins over account", opts: on, req: Request{Namespace: ns, SecretName: "app", ServiceAccountName: "source"}, wantKind: ClientSecret},
		{name: "sops secret", opts: on, req: Request{Namespace: ns, SecretName: "sops", Decryption: true}, wantKind: ManagedIdentity},
		{name: "missing secret", opts: on, req: Request{Namespace: ns, SecretName: "nope"}, wantErr: "secret 'nope' not found in namespace"},
		// A kubeconfig ConfigMap's identity: its serviceAccountName, else
		// --default-kubeconfig-service-account, else --default-service-account.
		{name: "kubeconfig default", opts: kubeconfigDefault, req: Request{Namespace: ns, KubeConfig: true}, wantKind: WorkloadIdentity, wantSA: "source"},
		{name: "kubeconfig named account wins", opts: kubeconfigDefault, req: Request{Namespace: ns, KubeConfig: true, ServiceAccountName: "locked-default"}, wantKind: WorkloadIdentity, wantSA: "locked-default"},
		{name: "kubeconfig falls back to the lockdown", opts: lockdown, req: Request{Namespace: ns, KubeConfig: true}, wantKind: WorkloadIdentity, wantSA: "locked-default"},
		{name: "other objects ignore the kubeconfig default", opts: kubeconfigDefault, req: Request{Namespace: ns}, wantKind: WorkloadIdentity, wantSA: "locked-default"},
		{name: "gate off, kubeconfig", opts: off, req: Request{Namespace: ns, KubeConfig: true, ServiceAccountName: "source"}, wantErr: "the serviceAccountName of spec.kubeConfig.configMapRef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewResolver(c, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			id, err := r.Resolve(t.Context(), tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Kind != tt.wantKind || id.ServiceAccount != tt.wantSA {
				t.Fatalf("identity = %v (kind %v, account %q), want kind %v, account %q", id, id.Kind, id.ServiceAccount, tt.wantKind, tt.wantSA)
			}
		})
	}
}

func TestFeatureGateErrorIsTerminal(t *testing.T) {
	r, _ := NewResolver(nil, &Options{LookupEnv: noEnv})
	_, err := r.Resolve(context.Background(), Request{Namespace: "ns", ServiceAccountName: "sa"})
	var gate *FeatureGateError
	if !errors.As(err, &gate) || !gate.Terminal() {
		t.Fatalf("err = %v, want a terminal *FeatureGateError", err)
	}
}

func TestNewResolverRefusesADecryptionDefaultWithoutTheGate(t *testing.T) {
	for _, o := range []*Options{{DefaultDecryptionServiceAccount: "b"}, {DefaultKubeConfigServiceAccount: "k"}} {
		if _, err := NewResolver(nil, o); !errors.Is(err, ErrInconsistentConfiguration) {
			t.Errorf("NewResolver(%+v) = %v, want ErrInconsistentConfiguration", o, err)
		}
	}
}

// A kubeconfig ConfigMap's audiences are those of the service account's token; the default is
// Entra ID's exchange audience.
func TestKubeConfigAudiences(t *testing.T) {
	c, ns := cluster(t)
	create(t, c, annotatedSA(ns, "source"))
	r, err := NewResolver(c, &Options{ObjectLevelWorkloadIdentity: true, LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	for _, aud := range [][]string{nil, {"api://fleet-east"}} {
		id, err := r.Resolve(t.Context(), Request{Namespace: ns, ServiceAccountName: "source", KubeConfig: true, Audiences: aud})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := id.Assertion(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
			t.Fatal(err)
		}
		got, _ := claims.GetAudience()
		want := aud
		if want == nil {
			want = []string{ExchangeAudience}
		}
		if !slices.Equal([]string(got), want) {
			t.Errorf("audiences %v: the token's are %v", aud, got)
		}
	}
}

// Without the gate, --default-service-account is the Kustomizations' impersonation lockdown
// only, as kustomize-controller's flag is: identities ignore it and use the controller's own.
func TestDefaultServiceAccountWithoutTheGateLeavesIdentitiesAlone(t *testing.T) {
	r, err := NewResolver(nil, &Options{DefaultServiceAccount: "tenant", LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	id, err := r.Resolve(context.Background(), Request{Namespace: "ns"})
	if err != nil || id.Kind != NodeManagedIdentity {
		t.Fatalf("Resolve = %v, %v; want the controller's node identity", id, err)
	}
}

func TestControllerIdentityFromEnvironment(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantKind Kind
		wantErr  string
	}{
		{name: "client secret", env: map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": clientID, "AZURE_CLIENT_SECRET": secretV, "AZURE_FEDERATED_TOKEN_FILE": "/t"}, wantKind: ClientSecret},
		{name: "certificate", env: map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": clientID, "AZURE_CLIENT_CERTIFICATE_PATH": "/c.pem", "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN": "true"}, wantKind: ClientCertificate},
		{name: "workload identity (AKS webhook)", env: map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": clientID, "AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token", "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/"}, wantKind: ControllerWorkloadIdentity},
		{name: "workload identity without tenant", env: map[string]string{"AZURE_CLIENT_ID": clientID, "AZURE_FEDERATED_TOKEN_FILE": "/t"}, wantErr: "AZURE_TENANT_ID and AZURE_CLIENT_ID must be set"},
		{name: "node, user-assigned", env: map[string]string{"AZURE_CLIENT_ID": clientID}, wantKind: NodeManagedIdentity},
		{name: "node, system-assigned", env: map[string]string{}, wantKind: NodeManagedIdentity},
		{name: "bad authority", env: map[string]string{"AZURE_AUTHORITY_HOST": "login.microsoftonline.com"}, wantErr: "AZURE_AUTHORITY_HOST must be an https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			r, _ := NewResolver(nil, &Options{LookupEnv: lookup})
			id, err := r.Resolve(t.Context(), Request{Namespace: "ns"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || id.Kind != tt.wantKind || id.Level != ControllerLevel {
				t.Fatalf("Resolve = %v (kind %v), %v; want kind %v at controller level", id, id.Kind, err, tt.wantKind)
			}
			assertNoLeak(t, id.String())
		})
	}
}

func TestMissingAnnotationsSaysWhatToSet(t *testing.T) {
	for _, tt := range []struct {
		noClient, noTenant bool
		want               string
	}{
		{true, true, "service account 'ns/app' lacks the annotations azure.workload.identity/client-id and azure.workload.identity/tenant-id: set them to the client ID and the tenant ID of the managed identity or application it acts as"},
		{true, false, "service account 'ns/app' lacks the annotation azure.workload.identity/client-id: set it to the client ID of the managed identity or application it acts as"},
		{false, true, "service account 'ns/app' lacks the annotation azure.workload.identity/tenant-id: set it to the tenant ID of the managed identity or application it acts as"},
	} {
		if err := missingAnnotations("ns", "app", tt.noClient, tt.noTenant); err == nil || err.Error() != tt.want {
			t.Errorf("got %v\nwant %s", err, tt.want)
		}
	}
	if err := missingAnnotations("ns", "app", false, false); err != nil {
		t.Errorf("nothing missing: %v", err)
	}
}

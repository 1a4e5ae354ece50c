package azurelocal_test

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

const (
	tenantID  = "2e811126-9388-40f9-a8e4-23ac7e094717"
	subID     = "9500bbc1-08e9-41a1-a586-73f24f82e037"
	secretApp = "7e477dda-4b8a-4ab6-9bc6-71e64b817cd3"
	certApp   = "882490b3-f041-438e-882e-d0b337dbb4da"
	certOID   = "a49b25b5-7f74-44f9-95d8-414d037683ba"
	sniApp    = "84f5e3bb-b7a3-4cae-a628-ee7df644eb94"
	p12App    = "94ce99f1-bcd9-44e3-bfa7-9456b532f506"
	fedApp    = "d8724f8e-18d7-4ae9-b787-0de3d2cb3f2f"
	miClient  = "213d8012-7eed-4f6d-a0db-54570c6d6f89"
	miOID     = "4249e19b-811e-4ad5-800e-2ec239154393"
	kubelet   = "4817e33f-6b74-4c56-b006-d543ddff26f0"
	sysClient = "5c623168-5a88-42ab-9624-1c47085d9955"
	sysOID    = "47e72644-5b71-4d43-b59f-d13c95fafb93"
	subject   = "system:serviceaccount:flux-system:source-controller"
)

// credentialFixture is a running local Azure with one client of every kind.
type credentialFixture struct {
	azure    *azurelocal.Azure
	opts     azcore.ClientOptions
	issuer   *azuretest.Issuer
	cert     azuretest.KeyPair // registered on cert-app
	sniOther azuretest.KeyPair // not registered; same subject and issuer as sni-app's certificate
	sniCA    azuretest.KeyPair // the CA that issued both, which a chain must lead to
	stranger azuretest.KeyPair // not registered anywhere
}

func newCredentialFixture(t *testing.T) *credentialFixture {
	t.Helper()
	f := &credentialFixture{issuer: azuretest.NewIssuer()}
	t.Cleanup(f.issuer.Close)
	f.cert = azuretest.NewKeyPair("cert-app", nil)
	ca := azuretest.NewKeyPair("test-ca", nil)
	f.sniCA = ca
	sniRegistered := azuretest.NewKeyPair("sni-app.azimuth.test", &ca)
	f.sniOther = azuretest.NewKeyPair("sni-app.azimuth.test", &ca)
	f.stranger = azuretest.NewKeyPair("sni-app.azimuth.test", &ca)
	p12Certs, _ := loadPKCS12(t)
	directoryYAML := `
tenants: [{id: ` + tenantID + `}]
subscriptions: [{id: ` + subID + `}]
applications:
  - {name: secret-app, clientId: ` + secretApp + `, principalId: 7fe9af53-4867-4663-8d8f-2658b2f2e315, clientSecrets: [{value: s3cret}]}
  - name: cert-app
    clientId: ` + certApp + `
    principalId: ` + certOID + `
    certificates: [{pem: "` + azuretest.OneLine(f.cert.CertPEM()) + `"}]
  - name: sni-app
    clientId: ` + sniApp + `
    principalId: 7e1a5c0d-9b1d-4a2e-8b1d-00000000a2e0
    allowSubjectNameIssuer: true
    certificates: [{pem: "` + azuretest.OneLine(sniRegistered.CertPEM()) + `"}]
  - name: p12-app
    clientId: ` + p12App + `
    principalId: 0b0b0b0b-0000-4000-8000-000000000001
    certificates: [{pem: "` + azuretest.OneLine(azuretest.CertPEM(p12Certs[0])) + `"}]
  - name: fed-app
    clientId: ` + fedApp + `
    principalId: 0b0b0b0b-0000-4000-8000-000000000002
    federatedCredentials: [{name: ci, issuer: "` + f.issuer.URL() + `", subject: "repo:azimuth/app:ref:refs/heads/main"}]
managedIdentities:
  - name: flux-controller
    subscription: ` + subID + `
    resourceGroup: flux
    clientId: ` + miClient + `
    principalId: ` + miOID + `
    federatedCredentials: [{name: local, issuer: "` + f.issuer.URL() + `", subject: "` + subject + `"}]
  - {name: kubelet, subscription: ` + subID + `, resourceGroup: flux, clientId: ` + kubelet + `, principalId: 0b0b0b0b-0000-4000-8000-000000000003}
node:
  name: vm0
  systemAssigned: {clientId: ` + sysClient + `, principalId: ` + sysOID + `}
  identities: [kubelet, flux-controller]
`
	f.azure = azuretest.Start(t, directoryYAML, &azurelocal.Options{IssuerCAs: [][]byte{f.issuer.CAPEM()}})
	f.opts = clientOptions(t, f.azure)
	return f
}

// getToken asks cred for scope and verifies the token's audience and principal.
func (f *credentialFixture) getToken(t *testing.T, cred azcore.TokenCredential, scope, wantAud, wantOID string) {
	t.Helper()
	claims := azuretest.Token(t, f.azure, cred, scope, wantAud)
	if claims.ObjectID != wantOID || claims.TenantID != tenantID {
		t.Errorf("claims %+v, want oid %s", claims, wantOID)
	}
	if claims.Issuer != "https://sts.windows.net/"+tenantID+"/" {
		t.Errorf("iss = %s", claims.Issuer)
	}
	// Entra back-dates nbf by five minutes and issues one-hour tokens.
	if got := claims.ExpiresAt.Sub(claims.NotBefore); got != time.Hour+5*time.Minute {
		t.Errorf("exp - nbf = %v, want 1h5m", got)
	}
}

// TestCredentials runs the real azidentity credentials, with their default public-cloud settings,
// against the local Azure through the connect-to map and the local CA.
func TestCredentials(t *testing.T) {
	f := newCredentialFixture(t)
	certOpts := func(chain bool) *azidentity.ClientCertificateCredentialOptions {
		return &azidentity.ClientCertificateCredentialOptions{ClientOptions: f.opts, SendCertificateChain: chain}
	}
	tests := []struct {
		name string
		cred func(t *testing.T) (azcore.TokenCredential, error)
		// scope is asked for; on success the token must have audience aud and object ID oid.
		scope, aud, oid string
		// wantErr, when set, is a text the error must contain instead.
		wantErr string
	}{
		{"ClientSecretCredential", func(*testing.T) (azcore.TokenCredential, error) {
			return azidentity.NewClientSecretCredential(tenantID, secretApp, "s3cret", &azidentity.ClientSecretCredentialOptions{ClientOptions: f.opts})
		}, "https://containerregistry.azure.net/.default", "https://containerregistry.azure.net", "7fe9af53-4867-4663-8d8f-2658b2f2e315", ""},
		{"ClientSecretCredential, wrong secret", func(*testing.T) (azcore.TokenCredential, error) {
			return azidentity.NewClientSecretCredential(tenantID, secretApp, "wrong", &azidentity.ClientSecretCredentialOptions{ClientOptions: f.opts})
		}, "https://vault.azure.net/.default", "", "", "AADSTS7000215"},
		{"ClientCertificateCredential (PS256)", func(*testing.T) (azcore.TokenCredential, error) {
			return azidentity.NewClientCertificateCredential(tenantID, certApp, []*x509.Certificate{f.cert.Cert}, f.cert.Key, certOpts(false))
		}, "https://storage.azure.com/.default", "https://storage.azure.com", certOID, ""},
		{"SendCertificateChain, registered certificate", func(*testing.T) (azcore.TokenCredential, error) {
			return azidentity.NewClientCertificateCredential(tenantID, certApp, []*x509.Certificate{f.cert.Cert}, f.cert.Key, certOpts(true))
		}, "https://vault.azure.net/.default", "https://vault.azure.net", certOID, ""},
		{"SendCertificateChain, subject name and issuer", func(*testing.T) (azcore.TokenCredential, error) {
			// The chain leads to the CA that issued the registered certificate, as Entra ID requires.
			return azidentity.NewClientCertificateCredential(tenantID, sniApp, []*x509.Certificate{f.sniOther.Cert, f.sniCA.Cert}, f.sniOther.Key, certOpts(true))
		}, "https://management.azure.com/.default", "https://management.azure.com", "7e1a5c0d-9b1d-4a2e-8b1d-00000000a2e0", ""},
		{"SendCertificateChain, app without subject name and issuer", func(*testing.T) (azcore.TokenCredential, error) {
			return azidentity.NewClientCertificateCredential(tenantID, certApp, []*x509.Certificate{f.stranger.Cert}, f.stranger.Key, certOpts(true))
		}, "https://management.azure.com/.default", "", "", "AADSTS700027"},
		{"subject name and issuer app, chain not sent", func(*testing.T) (azcore.TokenCredential, error) {
			return azidentity.NewClientCertificateCredential(tenantID, sniApp, []*x509.Certificate{f.sniOther.Cert}, f.sniOther.Key, certOpts(false))
		}, "https://management.azure.com/.default", "", "", "AADSTS700027"},
		{"ClientCertificateCredential, PKCS#12 with a password", func(t *testing.T) (azcore.TokenCredential, error) {
			certs, key := loadPKCS12(t)
			return azidentity.NewClientCertificateCredential(tenantID, p12App, certs, key, certOpts(false))
		}, "https://eventhubs.azure.net//.default", "https://eventhubs.azure.net/", "0b0b0b0b-0000-4000-8000-000000000001", ""},
		{"ClientAssertionCredential", func(t *testing.T) (azcore.TokenCredential, error) {
			assertion := func(context.Context) (string, error) {
				return f.issuer.Token("repo:azimuth/app:ref:refs/heads/main", directory.DefaultFederatedAudience), nil
			}
			return azidentity.NewClientAssertionCredential(tenantID, fedApp, assertion, &azidentity.ClientAssertionCredentialOptions{ClientOptions: f.opts})
		}, "499b84ac-1321-427f-aa17-267ca6975798/.default", "499b84ac-1321-427f-aa17-267ca6975798", "0b0b0b0b-0000-4000-8000-000000000002", ""},
		{"WorkloadIdentityCredential", func(t *testing.T) (azcore.TokenCredential, error) {
			return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
				ClientID: miClient, TenantID: tenantID, TokenFilePath: f.issuer.TokenFile(t, subject, directory.DefaultFederatedAudience), ClientOptions: f.opts,
			})
		}, "https://containerregistry.azure.net/.default", "https://containerregistry.azure.net", miOID, ""},
		// MSAL caches managed identity tokens per process, by resource and identity: each case
		// uses a resource no other test asks IMDS for.
		{"ManagedIdentityCredential, system-assigned", func(*testing.T) (azcore.TokenCredential, error) {
			return azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: f.opts})
		}, "https://vault.azure.net/.default", "https://vault.azure.net", sysOID, ""},
		{"ManagedIdentityCredential, user-assigned by client ID", func(*testing.T) (azcore.TokenCredential, error) {
			return azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(miClient), ClientOptions: f.opts})
		}, "https://storage.azure.com/.default", "https://storage.azure.com", miOID, ""},
		{"ManagedIdentityCredential, identity not on the node", func(*testing.T) (azcore.TokenCredential, error) {
			return azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(secretApp), ClientOptions: f.opts})
		}, "https://management.azure.com/.default", "", "", "Identity not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := tt.cred(t)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr == "" {
				f.getToken(t, cred, tt.scope, tt.aud, tt.oid)
				return
			}
			_, err = cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{tt.scope}})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// TestWorkloadIdentityWithKubernetes exchanges a real kube-apiserver service-account token, as a
// pod's projected token, for an Entra token.
func TestWorkloadIdentityWithKubernetes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Kubernetes control plane")
	}
	env := testenv.Get(t)
	a := azuretest.Start(t, "", nil)
	if err := a.Entra().TrustIssuerCA(env.CAPEM); err != nil {
		t.Fatal(err)
	}
	mi, ok := a.Directory().Principal("flux-controller")
	if !ok {
		t.Fatal("the default directory lost flux-controller")
	}
	err := a.Directory().AddFederatedCredential(mi.Name, directory.FederatedCredential{
		Name: "testenv", Issuer: env.IssuerURL, Subject: "system:serviceaccount:flux-system:source-controller",
	})
	if err != nil {
		t.Fatal(err)
	}
	token, err := env.ServiceAccountToken(t.Context(), "flux-system", "source-controller", directory.DefaultFederatedAudience)
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientID: mi.ClientID, TenantID: mi.TenantID, TokenFilePath: tokenFile, ClientOptions: clientOptions(t, a),
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := a.Entra().Verifier().Verify(tok.Token, "https://vault.azure.net")
	if err != nil {
		t.Fatal(err)
	}
	if claims.ObjectID != mi.PrincipalID || claims.ResourceID != mi.ResourceID {
		t.Errorf("claims %+v", claims)
	}
}

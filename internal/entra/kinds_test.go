package entra

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// tokenCase is an identity, resolved the way a reconciler resolves it, that must get a token for
// scope whose claims name the expected principal.
type tokenCase struct {
	name string
	// setup creates what the identity needs in ns and returns the request to resolve and the
	// controller's environment.
	setup  func(t *testing.T, la *localAzure, ns string) (identity.Request, map[string]string)
	gate   bool // enable ObjectLevelWorkloadIdentity
	kind   identity.Kind
	method string
	cloud  string
	scope  string
	aud    string
	// appID and oid are the expected appid and oid claims; tenant defaults to tenantID.
	appID, oid, tenant string
}

// bucketSecret returns a setup that creates a Bucket secret with data.
func bucketSecret(data map[string]string) func(*testing.T, *localAzure, string) (identity.Request, map[string]string) {
	return func(t *testing.T, la *localAzure, ns string) (identity.Request, map[string]string) {
		la.secret(t, ns, "azure", bytesOf(data))
		return identity.Request{Namespace: ns, SecretName: "azure"}, nil
	}
}

// sopsSecret returns a setup that creates a decryption secret whose sops.azure-kv entry is entry.
func sopsSecret(entry string) func(*testing.T, *localAzure, string) (identity.Request, map[string]string) {
	return func(t *testing.T, la *localAzure, ns string) (identity.Request, map[string]string) {
		la.secret(t, ns, "sops-azure", map[string][]byte{identity.SOPSKey: []byte(entry)})
		return identity.Request{Namespace: ns, SecretName: "sops-azure", Decryption: true}, nil
	}
}

// controllerEnv returns a setup for the controller's own identity, from env.
func controllerEnv(env func(t *testing.T, la *localAzure, ns string) map[string]string) func(*testing.T, *localAzure, string) (identity.Request, map[string]string) {
	return func(t *testing.T, la *localAzure, ns string) (identity.Request, map[string]string) {
		return identity.Request{Namespace: ns}, env(t, la, ns)
	}
}

func bytesOf(data map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(data))
	for k, v := range data {
		out[k] = []byte(v)
	}
	return out
}

// writeFile writes data to a new file of the test and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// jsonString quotes s for a JSON or YAML document.
func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// TestEveryIdentityKindGetsAToken resolves each kind of identity and each secret format with a
// real control plane, builds its credential and gets a token from the local Entra ID or IMDS.
func TestEveryIdentityKindGetsAToken(t *testing.T) {
	la := local(t)
	const (
		acr     = "https://containerregistry.azure.net"
		storage = "https://storage.azure.com"
		vault   = "https://vault.azure.net"
		hubs    = "https://eventhubs.azure.net/"
		devops  = "499b84ac-1321-427f-aa17-267ca6975798"
	)
	cases := []tokenCase{
		{
			name: "object-level workload identity",
			setup: func(t *testing.T, la *localAzure, ns string) (identity.Request, map[string]string) {
				la.serviceAccount(t, ns, "source", wiObject)
				la.federate(t, wiObject, ns, "source")
				return identity.Request{Namespace: ns, ServiceAccountName: "source"}, nil
			},
			gate: true, kind: identity.WorkloadIdentity, method: "ClientAssertionCredential",
			scope: ContainerRegistryScope, aud: acr, appID: wiObject, oid: wiObjectOID,
		},
		{
			name: "object-level workload identity by default service account (lockdown)",
			setup: func(t *testing.T, la *localAzure, ns string) (identity.Request, map[string]string) {
				la.serviceAccount(t, ns, "tenant-default", wiObject)
				la.federate(t, wiObject, ns, "tenant-default")
				return identity.Request{Namespace: ns}, nil
			},
			gate: true, kind: identity.WorkloadIdentity, method: "ClientAssertionCredential",
			scope: StorageScope, aud: storage, appID: wiObject, oid: wiObjectOID,
		},
		{
			name:  "Bucket client secret",
			setup: bucketSecret(map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": appSecret}),
			kind:  identity.ClientSecret, method: "ClientSecretCredential",
			scope: StorageScope, aud: storage, appID: secretApp, oid: secretAppOID,
		},
		{
			name:  "Bucket client certificate, PEM",
			setup: bucketSecret(map[string]string{"tenantId": tenantID, "clientId": certApp, "clientCertificate": string(la.certPEM)}),
			kind:  identity.ClientCertificate, method: "ClientCertificateCredential",
			scope: StorageScope, aud: storage, appID: certApp, oid: certAppOID,
		},
		{
			name: "Bucket client certificate, PEM, sending the chain",
			setup: bucketSecret(map[string]string{"tenantId": tenantID, "clientId": certApp, "clientCertificate": string(la.certPEM),
				"clientCertificateSendChain": "true"}),
			kind: identity.ClientCertificate, method: "ClientCertificateCredential",
			scope: keyVaultScope, aud: vault, appID: certApp, oid: certAppOID,
		},
		{
			name: "Bucket client certificate, PKCS#12 (AES) with a password",
			setup: bucketSecret(map[string]string{"tenantId": tenantID, "clientId": certApp, "clientCertificate": string(la.p12AES),
				"clientCertificatePassword": certPassword}),
			kind: identity.ClientCertificate, method: "ClientCertificateCredential",
			scope: StorageScope, aud: storage, appID: certApp, oid: certAppOID,
		},
		{
			name: "Bucket client certificate, PKCS#12 (legacy 3DES) with a password",
			setup: bucketSecret(map[string]string{"tenantId": tenantID, "clientId": certApp, "clientCertificate": string(la.p12DES),
				"clientCertificatePassword": certPassword}),
			kind: identity.ClientCertificate, method: "ClientCertificateCredential",
			scope: StorageScope, aud: storage, appID: certApp, oid: certAppOID,
		},
		{
			name:  "Bucket managed identity by client ID",
			setup: bucketSecret(map[string]string{"clientId": secretMI}),
			kind:  identity.ManagedIdentity, method: "ManagedIdentityCredential",
			scope: StorageScope, aud: storage, appID: secretMI, oid: secretMIOID,
		},
		{
			name: "Bucket client secret in US Government (authorityHost)",
			setup: bucketSecret(map[string]string{"tenantId": govTenantID, "clientId": govApp, "clientSecret": govSecret,
				"authorityHost": "https://login.microsoftonline.us/"}),
			kind: identity.ClientSecret, method: "ClientSecretCredential", cloud: AzureGovernment.Name,
			scope: StorageScope, aud: storage, appID: govApp, oid: govAppOID, tenant: govTenantID,
		},
		{
			name:  "sops.azure-kv YAML, client secret",
			setup: sopsSecret("tenantId: " + tenantID + "\nclientId: " + secretApp + "\nclientSecret: " + appSecret + "\n"),
			kind:  identity.ClientSecret, method: "ClientSecretCredential",
			scope: keyVaultScope, aud: vault, appID: secretApp, oid: secretAppOID,
		},
		{
			name: "sops.azure-kv JSON, client certificate sending the chain",
			setup: sopsSecret(`{"tenantId": "` + tenantID + `", "clientId": "` + certApp + `", "clientCertificate": ` + jsonString(string(la.certPEM)) +
				`, "clientCertificateSendChain": true}`),
			kind: identity.ClientCertificate, method: "ClientCertificateCredential",
			scope: keyVaultScope, aud: vault, appID: certApp, oid: certAppOID,
		},
		{
			name:  "sops.azure-kv az CLI output (appId, tenant, password)",
			setup: sopsSecret(`{"appId": "` + secretApp + `", "displayName": "flux", "password": "` + appSecret + `", "tenant": "` + tenantID + `"}`),
			kind:  identity.ClientSecret, method: "ClientSecretCredential",
			scope: keyVaultScope, aud: vault, appID: secretApp, oid: secretAppOID,
		},
		{
			name:  "sops.azure-kv managed identity by client ID",
			setup: sopsSecret("clientId: " + secretMI + "\n"),
			kind:  identity.ManagedIdentity, method: "ManagedIdentityCredential",
			scope: keyVaultScope, aud: vault, appID: secretMI, oid: secretMIOID,
		},
		{
			name: "controller workload identity (token file)",
			setup: controllerEnv(func(t *testing.T, la *localAzure, ns string) map[string]string {
				la.federate(t, wiController, ns, "controller")
				token, err := la.env.ServiceAccountToken(t.Context(), ns, "controller", identity.ExchangeAudience)
				if err != nil {
					t.Fatal(err)
				}
				return map[string]string{"AZURE_TENANT_ID": tenantID, "AZURE_CLIENT_ID": wiController,
					"AZURE_FEDERATED_TOKEN_FILE": writeFile(t, "token", []byte(token))}
			}),
			kind: identity.ControllerWorkloadIdentity, method: "WorkloadIdentityCredential",
			scope: DevOpsScope, aud: devops, appID: wiController, oid: wiControllerOID,
		},
		{
			name: "controller client secret",
			setup: controllerEnv(func(*testing.T, *localAzure, string) map[string]string {
				return map[string]string{"AZURE_TENANT_ID": tenantID, "AZURE_CLIENT_ID": secretApp, "AZURE_CLIENT_SECRET": appSecret}
			}),
			kind: identity.ClientSecret, method: "ClientSecretCredential",
			scope: EventHubsScope, aud: hubs, appID: secretApp, oid: secretAppOID,
		},
		{
			name: "controller client certificate, PKCS#12 (AES) file with a password",
			setup: controllerEnv(func(t *testing.T, la *localAzure, _ string) map[string]string {
				return map[string]string{"AZURE_TENANT_ID": tenantID, "AZURE_CLIENT_ID": certApp,
					"AZURE_CLIENT_CERTIFICATE_PATH": writeFile(t, "app.pfx", la.p12AES), "AZURE_CLIENT_CERTIFICATE_PASSWORD": certPassword}
			}),
			kind: identity.ClientCertificate, method: "ClientCertificateCredential",
			scope: EventHubsScope, aud: hubs, appID: certApp, oid: certAppOID,
		},
		{
			name:  "node managed identity, system-assigned",
			setup: controllerEnv(func(*testing.T, *localAzure, string) map[string]string { return nil }),
			kind:  identity.NodeManagedIdentity, method: "ManagedIdentityCredential",
			scope: ContainerRegistryScope, aud: acr, appID: systemMI, oid: systemOID,
		},
		{
			name: "node managed identity, user-assigned by AZURE_CLIENT_ID",
			setup: controllerEnv(func(*testing.T, *localAzure, string) map[string]string {
				return map[string]string{"AZURE_CLIENT_ID": nodeMI}
			}),
			kind: identity.NodeManagedIdentity, method: "ManagedIdentityCredential",
			scope: ContainerRegistryScope, aud: acr, appID: nodeMI, oid: nodeMIOID,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := la.namespace(t)
			req, env := tc.setup(t, la, ns)
			opts := identity.Options{ObjectLevelWorkloadIdentity: tc.gate}
			if tc.gate && req.ServiceAccountName == "" && req.SecretName == "" {
				opts.DefaultServiceAccount = "tenant-default"
			}
			id := la.resolve(t, la.resolver(t, opts, env), req)
			if id.Kind != tc.kind {
				t.Fatalf("resolved %s, want a %s identity", id, tc.kind)
			}
			cred, err := la.provider(nil).Credential(id, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantCloud := tc.cloud
			if wantCloud == "" {
				wantCloud = AzurePublic.Name
			}
			if cred.Method() != tc.method || cred.Cloud().Name != wantCloud {
				t.Errorf("credential %s in %s, want %s in %s", cred.Method(), cred.Cloud().Name, tc.method, wantCloud)
			}
			mark := la.mark()
			claims := azuretest.Token(t, la.azure.Azure, cred, tc.scope, tc.aud)
			wantTenant := tc.tenant
			if wantTenant == "" {
				wantTenant = tenantID
			}
			if claims.AppID != tc.appID || claims.ObjectID != tc.oid || claims.TenantID != wantTenant {
				t.Errorf("token for appid %s, oid %s, tid %s; want %s, %s, %s", claims.AppID, claims.ObjectID, claims.TenantID, tc.appID, tc.oid, wantTenant)
			}
			if n := la.requests(mark, tc.appID); n != 1 {
				t.Errorf("%d token requests reached the local Azure, want 1", n)
			}
		})
	}
}

package setup

import (
	"fmt"
	"strings"
)

// Cluster is where the controller runs, which decides how it gets its identity.
type Cluster string

// The clusters.
const (
	// AKS: the workload identity webhook injects the environment and the token, from the
	// service account's annotations and the pod's label.
	AKS Cluster = "aks"
	// Other: any other cluster; the patch sets the environment and projects the token itself.
	Other Cluster = "other"
	// AppCertificate: an application's certificate, mounted from a secret.
	AppCertificate Cluster = "app-certificate"
)

// Authority hosts by cloud, for AZURE_AUTHORITY_HOST.
var AuthorityHosts = map[string]string{
	"public": "https://login.microsoftonline.com/",
	"usgov":  "https://login.microsoftonline.us/",
	"china":  "https://login.chinacloudapi.cn/",
}

// ControllerSpec is the controller-level identity of Azimuth's own Deployment.
type ControllerSpec struct {
	Cluster Cluster
	// ClientID and TenantID are the identity's.
	ClientID, TenantID string
	// Cloud is a key of AuthorityHosts. Default: public.
	Cloud string
	// Resources is the path of Azimuth's manifests from the overlay. Default: ../config.
	Resources string
	// FeatureGate adds --feature-gates=ObjectLevelWorkloadIdentity=true to the controller's
	// arguments, for objects' spec.serviceAccountName. Default: off, as config/ has it unless its
	// workload-identity component is added.
	FeatureGate bool
	// CertificateSecret is the secret holding cert-and-key (and key-password), for
	// AppCertificate. Default: azimuth-app-certificate.
	CertificateSecret string
	// CertificatePassword reads AZURE_CLIENT_CERTIFICATE_PASSWORD from the secret's key-password.
	CertificatePassword bool
	// SendCertificateChain sets AZURE_CLIENT_SEND_CERTIFICATE_CHAIN, for subject name/issuer
	// authentication.
	SendCertificateChain bool
}

// The names in Azimuth's config/manager/manager.yaml the patches target.
const (
	ControllerName      = "azimuth-controller"
	ControllerNamespace = "flux-system"
	ControllerContainer = "manager"
	// TokenPath is where the projected token is mounted on clusters other than AKS.
	TokenPath = "/var/run/service-account/azure-token"
	// CertificatePath is where the application certificate is mounted.
	CertificatePath = "/var/run/app-cert/cert-and-key"
)

// Controller writes a kustomization.yaml that patches Azimuth's manifests so that the
// controller acts as the identity.
func Controller(c ControllerSpec) (string, error) {
	if c.Cloud == "" {
		c.Cloud = "public"
	}
	authority, ok := AuthorityHosts[c.Cloud]
	if !ok {
		return "", fmt.Errorf("unknown cloud %q: use public, usgov or china", c.Cloud)
	}
	if c.Resources == "" {
		c.Resources = "../config"
	}
	if c.CertificateSecret == "" {
		c.CertificateSecret = "azimuth-app-certificate"
	}
	if !guid.MatchString(c.ClientID) || !guid.MatchString(c.TenantID) {
		return "", fmt.Errorf("the controller's identity needs its client ID and tenant ID (GUIDs)")
	}
	var patches []string
	if c.FeatureGate {
		patches = append(patches, fmt.Sprintf(`  # Object-level workload identity: objects' spec.serviceAccountName.
  - target:
      kind: Deployment
      name: %s
    patch: |
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --feature-gates=ObjectLevelWorkloadIdentity=true
`, ControllerName))
	}
	switch c.Cluster {
	case AKS:
		patches = append(patches, fmt.Sprintf(`  # The controller's service account acts as the identity; AKS's webhook injects its token.
  - target:
      kind: ServiceAccount
      name: %[1]s
    patch: |
      apiVersion: v1
      kind: ServiceAccount
      metadata:
        name: %[1]s
        annotations:
          %[2]s: %[3]s
          %[4]s: %[5]s
  - target:
      kind: Deployment
      name: %[1]s
    patch: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: %[1]s
      spec:
        template:
          metadata:
            labels:
              azure.workload.identity/use: "true"
`, ControllerName, ClientIDAnnotation, c.ClientID, TenantIDAnnotation, c.TenantID))
	case Other:
		patches = append(patches, fmt.Sprintf(`  # The controller's environment and a token of its service account for Entra ID.
  - target:
      kind: Deployment
      name: %[1]s
    patch: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: %[1]s
      spec:
        template:
          spec:
            containers:
              - name: %[2]s
                env:
                  - {name: AZURE_TENANT_ID, value: %[3]s}
                  - {name: AZURE_CLIENT_ID, value: %[4]s}
                  - {name: AZURE_AUTHORITY_HOST, value: %[5]s}
                  - {name: AZURE_FEDERATED_TOKEN_FILE, value: %[6]s}
                volumeMounts:
                  - {name: azure-token, mountPath: /var/run/service-account, readOnly: true}
            volumes:
              - name: azure-token
                projected:
                  sources:
                    - serviceAccountToken:
                        audience: %[7]s
                        expirationSeconds: 3600
                        path: azure-token
`, ControllerName, ControllerContainer, c.TenantID, c.ClientID, authority, TokenPath, ExchangeAudience))
	case AppCertificate:
		var extra strings.Builder
		if c.CertificatePassword {
			fmt.Fprintf(&extra, "                  - name: AZURE_CLIENT_CERTIFICATE_PASSWORD\n                    valueFrom: {secretKeyRef: {name: %s, key: key-password}}\n", c.CertificateSecret)
		}
		if c.SendCertificateChain {
			extra.WriteString("                  - {name: AZURE_CLIENT_SEND_CERTIFICATE_CHAIN, value: \"true\"}\n")
		}
		patches = append(patches, fmt.Sprintf(`  # The application's certificate and key, from the secret %[6]s in %[7]s (key cert-and-key).
  - target:
      kind: Deployment
      name: %[1]s
    patch: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: %[1]s
      spec:
        template:
          spec:
            containers:
              - name: %[2]s
                env:
                  - {name: AZURE_TENANT_ID, value: %[3]s}
                  - {name: AZURE_CLIENT_ID, value: %[4]s}
                  - {name: AZURE_AUTHORITY_HOST, value: %[5]s}
                  - {name: AZURE_CLIENT_CERTIFICATE_PATH, value: %[8]s}
%[9]s                volumeMounts:
                  - {name: app-cert, mountPath: %[8]s, subPath: cert-and-key, readOnly: true}
            volumes:
              - name: app-cert
                secret:
                  secretName: %[6]s
`, ControllerName, ControllerContainer, c.TenantID, c.ClientID, authority, c.CertificateSecret, ControllerNamespace, CertificatePath, extra.String()))
	default:
		return "", fmt.Errorf("unknown cluster %q: use aks, other or app-certificate", c.Cluster)
	}
	return fmt.Sprintf(`# Azimuth's controller with a controller-level identity (%s): azimuth setup controller.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - %s
patches:
%s`, c.Cluster, c.Resources, strings.Join(patches, "")), nil
}

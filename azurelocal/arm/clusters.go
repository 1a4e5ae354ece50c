package arm

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// What ARM writes of a managed cluster: its type as AKS spells it in answers, and the Kubernetes
// version of the API server the local Azure expects (hack/tools builds kube-apiserver 1.34).
const (
	typeCluster              = string(directory.KindManagedCluster)
	typeClusterAnswer        = "Microsoft.ContainerService/ManagedClusters"
	clusterKubernetesVersion = "1.34"
	clusterCurrentVersion    = "1.34.3"
)

// aksClientAppID is the Azure Kubernetes Service AAD Client application, which kubelogin signs in
// as for an AKS-managed Entra ID cluster, the same in every tenant (the server application is
// entra.AKSServerAppID).
const aksClientAppID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"

// Formats of a user kubeconfig (listClusterUserCredential's format).
const (
	formatExec  = "exec"
	formatAzure = "azure"
)

// containerService serves Microsoft.ContainerService: a managed cluster of the directory (read)
// and its user credentials.
func (s *Server) containerService(req *request) *armError {
	sc, rest := req.target.Scope, req.target.Rest
	if sc.Level() != LevelResourceGroup || len(rest) < 2 || len(rest) > 3 || !eq(rest[0], "managedClusters") {
		return errNotEmulated(req.r.Method, req.r.URL.Path)
	}
	id := Scope{Subscription: sc.Subscription, ResourceGroup: sc.ResourceGroup, Namespace: "Microsoft.ContainerService",
		Types: []string{"managedClusters"}, Names: []string{rest[1]}}
	switch {
	case len(rest) == 2 && req.r.Method == http.MethodGet:
		return s.getCluster(req, id)
	case len(rest) == 2:
		return errNotEmulated(req.r.Method, req.r.URL.Path+" (clusters come from the directory file)")
	case eq(rest[2], "listClusterUserCredential") && req.r.Method == http.MethodPost:
		return s.listUserCredential(req, id)
	case eq(rest[2], "listClusterUserCredential"):
		return errMethod(req.r.Method)
	}
	return errNotEmulated(req.r.Method, req.r.URL.Path)
}

// cluster finds the managed cluster at id, with ARM's checks in its order: the right to act at
// the cluster (an action's refusal names the cluster, not the action's path), then the resource
// group, then the cluster.
func (s *Server) cluster(req *request, id Scope, action string) (directory.ManagedCluster, *armError) {
	if aerr := s.authorize(req.caller, action, id, id.String()); aerr != nil {
		return directory.ManagedCluster{}, aerr
	}
	if aerr := s.exists(id); aerr != nil {
		return directory.ManagedCluster{}, aerr
	}
	c, ok := s.dir.ManagedCluster(id.Names[0])
	if !ok || !eq(c.ID(), id.String()) {
		return directory.ManagedCluster{}, errResourceNotFound(typeCluster, id.Names[0], id.ResourceGroup)
	}
	return c, nil
}

// clusterBody is a managed cluster on the wire (api-version 2025-02-01), with what a client
// reads of it.
type clusterBody struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags"`
	SKU        clusterSKU        `json:"sku"`
	Properties clusterProperties `json:"properties"`
}

type clusterSKU struct {
	Name string `json:"name"`
	Tier string `json:"tier"`
}

type clusterProperties struct {
	ProvisioningState        string      `json:"provisioningState"`
	PowerState               powerState  `json:"powerState"`
	KubernetesVersion        string      `json:"kubernetesVersion"`
	CurrentKubernetesVersion string      `json:"currentKubernetesVersion"`
	DNSPrefix                string      `json:"dnsPrefix"`
	FQDN                     string      `json:"fqdn"`
	AzurePortalFQDN          string      `json:"azurePortalFQDN"`
	NodeResourceGroup        string      `json:"nodeResourceGroup"`
	EnableRBAC               bool        `json:"enableRBAC"`
	DisableLocalAccounts     bool        `json:"disableLocalAccounts"`
	AADProfile               *aadProfile `json:"aadProfile,omitempty"`
}

type powerState struct {
	Code string `json:"code"`
}

type aadProfile struct {
	Managed         bool   `json:"managed"`
	EnableAzureRBAC bool   `json:"enableAzureRBAC"`
	TenantID        string `json:"tenantID"`
}

// hashSuffix is the "-" and 8 hex digits AKS appends to a DNS prefix in the host's first label.
var hashSuffix = regexp.MustCompile(`-[0-9a-f]{8}$`)

// renderCluster writes c as AKS answers: the ID with "resourcegroups" and the type with
// "ManagedClusters", as AKS spells them; an aadProfile for an Entra ID cluster only, whose local
// accounts are disabled (the emulator serves no admin credential).
func (s *Server) renderCluster(c directory.ManagedCluster) clusterBody {
	host := c.Host()
	label, rest, _ := strings.Cut(host, ".")
	portal := label + ".portal"
	if rest != "" {
		portal += "." + rest
	}
	p := clusterProperties{
		ProvisioningState: "Succeeded", PowerState: powerState{Code: "Running"},
		KubernetesVersion: clusterKubernetesVersion, CurrentKubernetesVersion: clusterCurrentVersion,
		DNSPrefix: hashSuffix.ReplaceAllString(label, ""), FQDN: host, AzurePortalFQDN: portal,
		NodeResourceGroup: "MC_" + c.ResourceGroup + "_" + c.Name + "_" + c.Location,
		EnableRBAC:        true, DisableLocalAccounts: !c.LocalAccountsOnly,
	}
	if !c.LocalAccountsOnly {
		tenant, _ := s.dir.SubscriptionTenant(c.Subscription)
		p.AADProfile = &aadProfile{Managed: true, TenantID: tenant}
	}
	id := "/subscriptions/" + c.Subscription + "/resourcegroups/" + c.ResourceGroup + "/providers/" + typeCluster + "/" + c.Name
	return clusterBody{
		ID: id, Name: c.Name, Type: typeClusterAnswer, Location: c.Location, Tags: map[string]string{},
		SKU: clusterSKU{Name: "Base", Tier: "Free"}, Properties: p,
	}
}

func (s *Server) getCluster(req *request, id Scope) *armError {
	c, aerr := s.cluster(req, id, rbac.ActionManagedClusterRead)
	if aerr != nil {
		return aerr
	}
	writeJSON(req.w, req.r, http.StatusOK, s.renderCluster(c))
	return nil
}

// credentialFormat reads listClusterUserCredential's query: format (exec when absent, as for
// clusters of Kubernetes 1.24 and later; azure for the legacy auth provider) and server-fqdn
// (public, the only kind of FQDN these clusters have, or absent).
func credentialFormat(q url.Values) (string, *armError) {
	format := strings.ToLower(q.Get("format"))
	switch format {
	case "":
		format = formatExec
	case formatExec, formatAzure:
	default:
		return "", errBadRequest("The value '%s' of the format parameter is invalid. The supported values are '%s', '%s'.",
			q.Get("format"), formatAzure, formatExec)
	}
	if f := q.Get("server-fqdn"); f != "" && !eq(f, "public") {
		return "", errBadRequest("The value '%s' of the server-fqdn parameter is not supported: the local Azure's clusters have a public FQDN only ('public').", f)
	}
	return format, nil
}

// listUserCredential answers POST .../managedClusters/NAME/listClusterUserCredential: one
// kubeconfig, clusterUser, for the cluster's API server.
func (s *Server) listUserCredential(req *request, id Scope) *armError {
	c, aerr := s.cluster(req, id, rbac.ActionManagedClusterUserCredential)
	if aerr != nil {
		return aerr
	}
	format, aerr := credentialFormat(req.r.URL.Query())
	if aerr != nil {
		return aerr
	}
	tenant, _ := s.dir.SubscriptionTenant(c.Subscription)
	config, err := userKubeconfig(c, tenant, format)
	if err != nil {
		return errInternal(err)
	}
	writeJSON(req.w, req.r, http.StatusOK, credentialResults{Kubeconfigs: []credentialResult{{Name: "clusterUser", Value: config}}})
	return nil
}

type credentialResults struct {
	Kubeconfigs []credentialResult `json:"kubeconfigs"`
}

// credentialResult holds a kubeconfig, which encoding/json writes in base64 as AKS does.
type credentialResult struct {
	Name  string `json:"name"`
	Value []byte `json:"value"`
}

// A kubeconfig (clientcmd's v1 Config), with what AKS writes in a user kubeconfig.
type kubeconfig struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	Clusters       []namedCluster `json:"clusters"`
	Contexts       []namedContext `json:"contexts"`
	CurrentContext string         `json:"current-context"`
	Preferences    struct{}       `json:"preferences"`
	Users          []namedUser    `json:"users"`
}

type namedCluster struct {
	Name    string      `json:"name"`
	Cluster kubeCluster `json:"cluster"`
}

type kubeCluster struct {
	Server                   string `json:"server"`
	CertificateAuthorityData string `json:"certificate-authority-data,omitempty"`
}

type namedContext struct {
	Name    string      `json:"name"`
	Context kubeContext `json:"context"`
}

type kubeContext struct {
	Cluster string `json:"cluster"`
	User    string `json:"user"`
}

type namedUser struct {
	Name string   `json:"name"`
	User kubeUser `json:"user"`
}

type kubeUser struct {
	Token        string        `json:"token,omitempty"`
	Exec         *execConfig   `json:"exec,omitempty"`
	AuthProvider *authProvider `json:"auth-provider,omitempty"`
}

type execConfig struct {
	APIVersion         string   `json:"apiVersion"`
	Command            string   `json:"command"`
	Args               []string `json:"args"`
	Env                []string `json:"env"`
	InstallHint        string   `json:"installHint"`
	InteractiveMode    string   `json:"interactiveMode"`
	ProvideClusterInfo bool     `json:"provideClusterInfo"`
}

type authProvider struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
}

const kubeloginHint = `
kubelogin is not installed which is required to connect to AAD enabled cluster.

To learn more, please go to https://aka.ms/aks/kubelogin
`

// userKubeconfig writes the clusterUser kubeconfig of c: its server and CA, and a user that
// signs in with kubelogin (exec) or the legacy azure auth provider for an Entra ID cluster, or
// holds a local account's token (a random one, which authenticates nowhere).
func userKubeconfig(c directory.ManagedCluster, tenant, format string) ([]byte, error) {
	user := "clusterUser_" + c.ResourceGroup + "_" + c.Name
	var u kubeUser
	switch {
	case c.LocalAccountsOnly:
		b := make([]byte, 32)
		rand.Read(b)
		u.Token = hex.EncodeToString(b)
	case format == formatAzure:
		u.AuthProvider = &authProvider{Name: "azure", Config: map[string]string{
			"apiserver-id": entra.AKSServerAppID, "client-id": aksClientAppID, "config-mode": "1",
			"environment": "AzurePublicCloud", "tenant-id": tenant,
		}}
	default:
		u.Exec = &execConfig{
			APIVersion: "client.authentication.k8s.io/v1beta1", Command: "kubelogin",
			Args: []string{"get-token", "--environment", "AzurePublicCloud", "--server-id", entra.AKSServerAppID,
				"--client-id", aksClientAppID, "--tenant-id", tenant, "--login", "devicecode"},
			InstallHint: kubeloginHint, InteractiveMode: "IfAvailable",
		}
	}
	cluster := kubeCluster{Server: "https://" + c.Host() + ":443"}
	if c.CertificateAuthority != "" {
		cluster.CertificateAuthorityData = base64.StdEncoding.EncodeToString([]byte(c.CertificateAuthority))
	}
	return yaml.Marshal(kubeconfig{
		APIVersion: "v1", Kind: "Config",
		Clusters:       []namedCluster{{Name: c.Name, Cluster: cluster}},
		Contexts:       []namedContext{{Name: c.Name, Context: kubeContext{Cluster: c.Name, User: user}}},
		CurrentContext: c.Name,
		Users:          []namedUser{{Name: user, User: u}},
	})
}

package aks

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// ServerApplication is the Microsoft Entra application of every AKS API server: the audience of
// the tokens a cluster with Entra ID integration accepts.
const ServerApplication = "6dae42f8-4368-4678-94ff-3960e28e3630"

// ServerScope is the scope of a token for an AKS API server, in every cloud.
const ServerScope = ServerApplication + "/.default"

// Built-in role that lists a cluster's user kubeconfigs (and reads the cluster).
const (
	RoleClusterUser   = "Azure Kubernetes Service Cluster User Role"
	RoleClusterUserID = "4abbcc35-e782-43d8-92c5-2d3f1bd2253f"
)

// clusterIDPattern is the form Flux accepts, case-insensitively: a subscription ID of 36
// characters, a resource group and a name of 1 to 200 characters without a slash.
var clusterIDPattern = regexp.MustCompile(`(?i)^/subscriptions/([^/]{36})/resourceGroups/([^/]{1,200})/providers/Microsoft\.ContainerService/managedClusters/([^/]{1,200})$`)

// ClusterID is an AKS cluster's Azure resource ID.
type ClusterID struct {
	Subscription, ResourceGroup, Name string
}

// ParseClusterID reads a cluster's resource ID, as the ConfigMap's 'cluster' key holds it.
func ParseClusterID(s string) (ClusterID, error) {
	m := clusterIDPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return ClusterID{}, fmt.Errorf("invalid AKS cluster ID '%s': it must have the form "+
			"/subscriptions/<subscription ID>/resourceGroups/<group>/providers/Microsoft.ContainerService/managedClusters/<name>, "+
			"as az aks show --resource-group <group> --name <name> --query id --output tsv prints it", clipValue(s))
	}
	return ClusterID{Subscription: m[1], ResourceGroup: m[2], Name: m[3]}, nil
}

// String is the resource ID.
func (c ClusterID) String() string {
	return "/subscriptions/" + c.Subscription + "/resourceGroups/" + c.ResourceGroup +
		"/providers/Microsoft.ContainerService/managedClusters/" + c.Name
}

// clipValue bounds a user's value quoted in a message.
func clipValue(s string) string { return clip.String(s, 300) }

package setupcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The shapes below are ASO v2's, as its generated sources spell their JSON (see doc.go). Each
// struct lists every field the API version has, so that a field ASO does not know fails the
// strict decode, as the API server's structural schema would reject it.

// knownResourceReference is genruntime.KnownResourceReference: an owner of a known kind.
type knownResourceReference struct {
	Name  string `json:"name,omitempty"`
	ARMID string `json:"armId,omitempty"`
}

// arbitraryOwnerReference is genruntime.ArbitraryOwnerReference: an owner of any kind, or any ARM ID.
type arbitraryOwnerReference struct {
	Name  string `json:"name,omitempty"`
	Group string `json:"group,omitempty"`
	Kind  string `json:"kind,omitempty"`
	ARMID string `json:"armId,omitempty"`
}

// resourceReference is genruntime.ResourceReference.
type resourceReference struct {
	Group string `json:"group,omitempty"`
	Kind  string `json:"kind,omitempty"`
	Name  string `json:"name,omitempty"`
	ARMID string `json:"armId,omitempty"`
}

// configMapReference is genruntime.ConfigMapReference.
type configMapReference struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// destinationExpression is core.DestinationExpression.
type destinationExpression struct {
	Name  string `json:"name"`
	Key   string `json:"key,omitempty"`
	Value string `json:"value"`
}

// operatorSpec is the operatorSpec every resource of these API versions has.
type operatorSpec struct {
	ConfigMapExpressions []destinationExpression `json:"configMapExpressions,omitempty"`
	SecretExpressions    []destinationExpression `json:"secretExpressions,omitempty"`
}

// objectMeta is the part of metav1.ObjectMeta a manifest to apply may carry.
type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// federatedIdentityCredential is managedidentity.azure.com/v1api20230131 FederatedIdentityCredential.
type federatedIdentityCredential struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		Audiences         []string                `json:"audiences,omitempty"`
		AzureName         string                  `json:"azureName,omitempty"`
		Issuer            *string                 `json:"issuer,omitempty"`
		IssuerFromConfig  *configMapReference     `json:"issuerFromConfig,omitempty"`
		OperatorSpec      *operatorSpec           `json:"operatorSpec,omitempty"`
		Owner             *knownResourceReference `json:"owner,omitempty"`
		Subject           *string                 `json:"subject,omitempty"`
		SubjectFromConfig *configMapReference     `json:"subjectFromConfig,omitempty"`
	} `json:"spec"`
}

// roleAssignment is authorization.azure.com/v1api20220401 RoleAssignment.
type roleAssignment struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		AzureName                                 string                   `json:"azureName,omitempty"`
		Condition                                 *string                  `json:"condition,omitempty"`
		ConditionVersion                          *string                  `json:"conditionVersion,omitempty"`
		DelegatedManagedIdentityResourceReference *resourceReference       `json:"delegatedManagedIdentityResourceReference,omitempty"`
		Description                               *string                  `json:"description,omitempty"`
		OperatorSpec                              *operatorSpec            `json:"operatorSpec,omitempty"`
		Owner                                     *arbitraryOwnerReference `json:"owner,omitempty"`
		PrincipalID                               *string                  `json:"principalId,omitempty"`
		PrincipalIDFromConfig                     *configMapReference      `json:"principalIdFromConfig,omitempty"`
		PrincipalType                             *string                  `json:"principalType,omitempty"`
		RoleDefinitionReference                   *resourceReference       `json:"roleDefinitionReference,omitempty"`
	} `json:"spec"`
}

// userAssignedIdentity is managedidentity.azure.com/v1api20230131 UserAssignedIdentity.
type userAssignedIdentity struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		AzureName    string                  `json:"azureName,omitempty"`
		Location     *string                 `json:"location,omitempty"`
		OperatorSpec *json.RawMessage        `json:"operatorSpec,omitempty"`
		Owner        *knownResourceReference `json:"owner,omitempty"`
		Tags         map[string]string       `json:"tags,omitempty"`
	} `json:"spec"`
}

// The served API versions the goldens must use: the newest stable ASO serves for each kind.
const (
	managedIdentityVersion = "managedidentity.azure.com/v1api20230131"
	authorizationVersion   = "authorization.azure.com/v1api20220401"
)

var (
	// armIDPattern is the kubebuilder pattern of genruntime's armId fields.
	armIDPattern = regexp.MustCompile(`(?i)(^(/subscriptions/([^/]+)(/resourcegroups/([^/]+))?)?/providers/([^/]+)/([^/]+/[^/]+)(/([^/]+/[^/]+))*$|^/subscriptions/([^/]+)(/resourcegroups/([^/]+))?$)`)
	// ficNamePattern is FederatedIdentityCredential's azureName pattern (metadata.name when unset).
	ficNamePattern = regexp.MustCompile(`^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$`)
	// dnsSubdomain is what metadata.name may be.
	dnsSubdomain   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	principalTypes = []string{"Device", "ForeignGroup", "Group", "ServicePrincipal", "User"}
)

// maxDocument bounds one file: the goldens are a few kilobytes.
const maxDocument = 1 << 20

// CheckASO decodes every YAML document of src strictly into its kind's shape and checks what
// ASO's CRD requires. It returns the kinds found, in order.
func CheckASO(src []byte) ([]string, error) {
	if len(src) > maxDocument {
		return nil, fmt.Errorf("%d bytes: larger than %d", len(src), maxDocument)
	}
	var kinds []string
	for i, doc := range splitYAML(src) {
		kind, err := checkDocument(doc)
		if err != nil {
			return kinds, fmt.Errorf("document %d: %w", i+1, err)
		}
		kinds = append(kinds, kind)
	}
	if len(kinds) == 0 {
		return nil, errors.New("no document")
	}
	return kinds, nil
}

// splitYAML splits a YAML stream at its "---" lines, dropping documents of comments only.
func splitYAML(src []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(src), -1) {
		meaningful := false
		for _, line := range strings.Split(d, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				meaningful = true
				break
			}
		}
		if meaningful {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func strict(j []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}

func checkDocument(doc []byte) (string, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return "", err
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(j, &head); err != nil {
		return "", err
	}
	switch head.APIVersion + " " + head.Kind {
	case managedIdentityVersion + " FederatedIdentityCredential":
		var f federatedIdentityCredential
		if err := strict(j, &f); err != nil {
			return head.Kind, err
		}
		return head.Kind, f.check()
	case authorizationVersion + " RoleAssignment":
		var r roleAssignment
		if err := strict(j, &r); err != nil {
			return head.Kind, err
		}
		return head.Kind, r.check()
	case managedIdentityVersion + " UserAssignedIdentity":
		var u userAssignedIdentity
		if err := strict(j, &u); err != nil {
			return head.Kind, err
		}
		return head.Kind, checkMeta(u.Metadata, true)
	case "v1 ServiceAccount":
		var sa corev1.ServiceAccount
		if err := strict(j, &sa); err != nil {
			return head.Kind, err
		}
		if !dnsSubdomain.MatchString(sa.Name) || !dnsSubdomain.MatchString(sa.Namespace) {
			return head.Kind, fmt.Errorf("service account %q in %q: not Kubernetes names", sa.Name, sa.Namespace)
		}
		return head.Kind, nil
	}
	return head.Kind, fmt.Errorf("%s %s is not a kind and API version ASO serves (or a ServiceAccount): want %s FederatedIdentityCredential or UserAssignedIdentity, %s RoleAssignment",
		head.APIVersion, head.Kind, managedIdentityVersion, authorizationVersion)
}

func checkMeta(m objectMeta, namespaced bool) error {
	if !dnsSubdomain.MatchString(m.Name) || len(m.Name) > 253 {
		return fmt.Errorf("metadata.name %q is not a Kubernetes name", m.Name)
	}
	if namespaced && m.Namespace == "" {
		return errors.New("metadata.namespace is empty: ASO resources are namespaced")
	}
	return nil
}

func (f *federatedIdentityCredential) check() error {
	if err := checkMeta(f.Metadata, true); err != nil {
		return err
	}
	s := f.Spec
	name := s.AzureName
	if name == "" {
		name = f.Metadata.Name
	}
	if !ficNamePattern.MatchString(name) {
		return fmt.Errorf("the credential's Azure name %q does not match %s", name, ficNamePattern)
	}
	if len(s.Audiences) == 0 {
		return errors.New("spec.audiences is required")
	}
	if s.Owner == nil || (s.Owner.Name == "") == (s.Owner.ARMID == "") {
		return errors.New("spec.owner needs one of name and armId")
	}
	if s.Owner.ARMID != "" && (!armIDPattern.MatchString(s.Owner.ARMID) ||
		!strings.Contains(strings.ToLower(s.Owner.ARMID), "/providers/microsoft.managedidentity/userassignedidentities/")) {
		return fmt.Errorf("spec.owner.armId %q is not a user-assigned identity's ID", s.Owner.ARMID)
	}
	if (s.Issuer == nil) == (s.IssuerFromConfig == nil) {
		return errors.New("spec needs exactly one of issuer and issuerFromConfig")
	}
	if (s.Subject == nil) == (s.SubjectFromConfig == nil) {
		return errors.New("spec needs exactly one of subject and subjectFromConfig")
	}
	return nil
}

func (r *roleAssignment) check() error {
	if err := checkMeta(r.Metadata, true); err != nil {
		return err
	}
	s := r.Spec
	if s.Owner == nil || (s.Owner.ARMID == "" && (s.Owner.Name == "" || s.Owner.Group == "" || s.Owner.Kind == "")) {
		return errors.New("spec.owner needs armId, or name, group and kind")
	}
	if s.Owner.ARMID != "" && !armIDPattern.MatchString(s.Owner.ARMID) {
		return fmt.Errorf("spec.owner.armId %q does not match ASO's ARM ID pattern", s.Owner.ARMID)
	}
	if s.RoleDefinitionReference == nil || s.RoleDefinitionReference.ARMID == "" && s.RoleDefinitionReference.Name == "" {
		return errors.New("spec.roleDefinitionReference is required")
	}
	if id := s.RoleDefinitionReference.ARMID; id != "" && (!armIDPattern.MatchString(id) ||
		!strings.Contains(strings.ToLower(id), "/providers/microsoft.authorization/roledefinitions/")) {
		return fmt.Errorf("spec.roleDefinitionReference.armId %q is not a role definition's ID", id)
	}
	if (s.PrincipalID == nil) == (s.PrincipalIDFromConfig == nil) {
		return errors.New("spec needs exactly one of principalId and principalIdFromConfig")
	}
	if s.PrincipalType != nil && !slices.Contains(principalTypes, *s.PrincipalType) {
		return fmt.Errorf("spec.principalType %q: want one of %v", *s.PrincipalType, principalTypes)
	}
	return nil
}

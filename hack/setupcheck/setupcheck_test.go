package setupcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goldens is where internal/setup keeps what each verb writes.
const goldens = "../../internal/setup/testdata"

func files(t *testing.T, ext string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(goldens, "*."+ext))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no *.%s golden in %s", ext, goldens)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestASOGoldens(t *testing.T) {
	seen := map[string]bool{}
	for name, src := range files(t, "aso") {
		kinds, err := CheckASO(src)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, k := range kinds {
			seen[k] = true
		}
	}
	for _, k := range []string{"FederatedIdentityCredential", "RoleAssignment", "ServiceAccount"} {
		if !seen[k] {
			t.Errorf("no golden holds a %s", k)
		}
	}
}

// fic is a valid FederatedIdentityCredential that the negative cases break one field at a time.
const fic = `apiVersion: managedidentity.azure.com/v1api20230131
kind: FederatedIdentityCredential
metadata:
  name: tenant-a-source
  namespace: tenant-a
spec:
  owner:
    armId: /subscriptions/9500bbc1-08e9-41a1-a586-73f24f82e037/resourceGroups/flux/providers/Microsoft.ManagedIdentity/userAssignedIdentities/flux-tenant-a
  audiences: [api://AzureADTokenExchange]
  issuer: https://oidc.example.com/abc
  subject: system:serviceaccount:tenant-a:source
`

const ra = `apiVersion: authorization.azure.com/v1api20220401
kind: RoleAssignment
metadata: {name: flux-acr, namespace: default}
spec:
  owner: {armId: /providers/Microsoft.Management/managementGroups/root}
  principalId: 4249e19b-811e-4ad5-800e-2ec239154393
  principalType: ServicePrincipal
  roleDefinitionReference: {armId: /providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d}
`

func TestASORefuses(t *testing.T) {
	if _, err := CheckASO([]byte(fic + "---\n" + ra)); err != nil {
		t.Fatalf("the valid documents are refused: %v", err)
	}
	for name, doc := range map[string]string{
		"misspelled field":     strings.Replace(fic, "audiences:", "audience:", 1),
		"unknown field":        strings.Replace(fic, "  subject:", "  subjects: [x]\n  subject:", 1),
		"old API version":      strings.Replace(fic, "v1api20230131", "v1api20220131preview", 1),
		"name Azure refuses":   strings.Replace(fic, "name: tenant-a-source", "name: tenant-a.source", 1),
		"owner not identity":   strings.Replace(fic, "Microsoft.ManagedIdentity/userAssignedIdentities", "Microsoft.Storage/storageAccounts", 1),
		"no issuer":            strings.Replace(fic, "  issuer: https://oidc.example.com/abc\n", "", 1),
		"principal type":       strings.Replace(ra, "ServicePrincipal", "ManagedIdentity", 1),
		"role by name":         strings.Replace(ra, "roleDefinitionReference", "roleDefinitionId", 1),
		"owner ARM ID":         strings.Replace(ra, "/providers/Microsoft.Management/managementGroups/root", "flux", 1),
		"no principal":         strings.Replace(ra, "  principalId: 4249e19b-811e-4ad5-800e-2ec239154393\n", "", 1),
		"service account typo": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: b, annotation: {}}\n",
	} {
		if _, err := CheckASO([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTerraformGoldens(t *testing.T) {
	seen := map[string]bool{}
	for name, src := range files(t, "terraform") {
		blocks, err := CheckTerraform(src, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, b := range blocks {
			seen[b] = true
		}
	}
	for _, b := range []string{"resource azurerm_federated_identity_credential", "resource azurerm_role_assignment",
		"data azuread_service_principal", "resource azuredevops_service_principal_entitlement", "data azuredevops_group",
		"resource azuredevops_group_membership", "provider azuredevops", "output"} {
		if !seen[b] {
			t.Errorf("no golden holds a %s", b)
		}
	}
}

const assignment = `resource "azurerm_role_assignment" "a" {
  scope              = "/subscriptions/x"
  role_definition_id = "/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"
  principal_id       = data.azuread_service_principal.a.object_id
  principal_type     = "ServicePrincipal"
}
`

func TestTerraformRefuses(t *testing.T) {
	if _, err := CheckTerraform([]byte(assignment), "ok.tf"); err != nil {
		t.Fatalf("the valid block is refused: %v", err)
	}
	for name, src := range map[string]string{
		"misspelled argument":  strings.Replace(assignment, "principal_id ", "principle_id ", 1),
		"removed argument":     "resource \"azurerm_federated_identity_credential\" \"a\" {\n  name = \"a\"\n  parent_id = \"x\"\n  audience = [\"a\"]\n  issuer = \"i\"\n  subject = \"s\"\n}\n",
		"missing argument":     strings.Replace(assignment, "  scope              = \"/subscriptions/x\"\n", "", 1),
		"unknown type":         strings.Replace(assignment, "azurerm_role_assignment", "azurerm_role_assignments", 1),
		"syntax":               strings.Replace(assignment, "}", "", 1),
		"unknown block":        "module \"a\" {\n  source = \"x\"\n}\n",
		"top-level argument":   "a = 1\n",
		"data type":            "data \"azuread_group\" \"a\" {\n  display_name = \"x\"\n}\n",
		"provider argument":    "provider \"azuredevops\" {\n  org_url = \"x\"\n}\n",
		"service principal by": "data \"azuread_service_principal\" \"a\" {\n  application_id = \"x\"\n}\n",
	} {
		if _, err := CheckTerraform([]byte(src), name+".tf"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAZGoldens(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed to check the az scripts' syntax")
	}
	for name, src := range files(t, "az") {
		cmd := exec.Command(bash, "-n")
		cmd.Stdin = strings.NewReader(string(src))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: bash -n: %v\n%s", name, err, out)
		}
	}
	// The check itself fails on a broken script.
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = strings.NewReader("az role assignment create --scope \"$(echo x\n")
	if cmd.Run() == nil {
		t.Error("bash -n accepts an unterminated substitution")
	}
}

func FuzzCheckASO(f *testing.F) {
	f.Add([]byte(fic))
	f.Add([]byte(ra + "---\n" + fic))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = CheckASO(b)
	})
}

func FuzzCheckTerraform(f *testing.F) {
	f.Add([]byte(assignment))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = CheckTerraform(b, "fuzz.tf")
	})
}

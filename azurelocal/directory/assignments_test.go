package directory

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

func TestRoleAssignmentNames(t *testing.T) {
	d, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	list := d.RoleAssignments()
	if len(list) != 1 || !IsGUID(list[0].Name) || list[0].RoleID != rbac.AcrPullID || list[0].PrincipalKind != KindManagedIdentity {
		t.Fatalf("assignments = %+v", list)
	}
	// The derived name is the same on every load, and an identical assignment gets another.
	again, _ := Parse([]byte(base))
	if again.RoleAssignments()[0].Name != list[0].Name {
		t.Error("the derived name changed between loads")
	}
	ra := RoleAssignment{Principal: "mi", Role: "AcrPull", Scope: "/subscriptions/" + subID + "/resourceGroups/rg"}
	if err := d.AddRoleAssignment(ra); err != nil {
		t.Fatal(err)
	}
	const named = "0f1e2d3c-4b5a-4968-8776-655443322110"
	ra.Name = named
	if err := d.AddRoleAssignment(ra); err != nil {
		t.Fatal(err)
	}
	list = d.RoleAssignments()
	if len(list) != 3 || list[1].Name == list[0].Name || list[2].Name != named {
		t.Fatalf("assignments = %+v", list)
	}
	if got := list[2].ID(); got != "/subscriptions/"+subID+"/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/"+named {
		t.Errorf("ID = %s", got)
	}
	if err := d.AddRoleAssignment(ra); err == nil || !strings.Contains(err.Error(), "is used twice") {
		t.Errorf("a name used twice: %v", err)
	}
	ra.Name = "not-a-guid"
	if err := d.AddRoleAssignment(ra); err == nil || !strings.Contains(err.Error(), "is not a GUID") {
		t.Errorf("a name that is not a GUID: %v", err)
	}
}

func TestDeleteRoleAssignment(t *testing.T) {
	d, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	mi, _ := d.Principal("mi")
	acr, _ := d.Resource(KindRegistry, "acr")
	name := d.RoleAssignments()[0].Name
	removed, ok, err := d.DeleteRoleAssignment(strings.ToUpper(name))
	if err != nil || !ok || removed.Name != name {
		t.Fatalf("delete = %+v, %v, %v", removed, ok, err)
	}
	if d.Authorize(mi.PrincipalID, rbac.ActionRegistryPull, acr.ID()) || len(d.RoleAssignments()) != 0 {
		t.Error("the role still applies after the deletion")
	}
	if _, ok, err := d.DeleteRoleAssignment(name); ok || err != nil {
		t.Errorf("second delete = %v, %v", ok, err)
	}
}

func TestPutFederatedCredential(t *testing.T) {
	d, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	fc := FederatedCredential{Name: "FC", Issuer: "https://issuer.example", Subject: "system:serviceaccount:ns:other"}
	created, err := d.PutFederatedCredential("mi", fc)
	if err != nil || created {
		t.Fatalf("update by name (any case) = %v, %v", created, err)
	}
	p, _ := d.Principal("mi")
	if len(p.FederatedCredentials) != 1 || p.FederatedCredentials[0].Name != "fc" || p.FederatedCredentials[0].Subject != fc.Subject ||
		p.FederatedCredentials[0].Audiences[0] != DefaultFederatedAudience {
		t.Errorf("credentials = %+v", p.FederatedCredentials)
	}
	_, err = d.PutFederatedCredential("mi", FederatedCredential{Name: "dup", Issuer: fc.Issuer, Subject: fc.Subject})
	if !errors.Is(err, ErrIssuerSubjectInUse) {
		t.Errorf("same issuer and subject: %v", err)
	}
	for i := 1; i < MaxFederatedCredentials; i++ {
		if created, err := d.PutFederatedCredential("mi", FederatedCredential{Name: fmt.Sprint("n", i), Issuer: fc.Issuer, Subject: fmt.Sprint("s", i)}); err != nil || !created {
			t.Fatal(created, err)
		}
	}
	if _, err := d.PutFederatedCredential("mi", FederatedCredential{Name: "last", Issuer: fc.Issuer, Subject: "last"}); !errors.Is(err, ErrTooManyFederatedCredentials) {
		t.Errorf("21st: %v", err)
	}
	if _, err := d.PutFederatedCredential("mi", FederatedCredential{Name: "n1", Issuer: "http://x", Subject: "s1"}); err == nil {
		t.Error("an http issuer must be refused")
	}
	if ok, err := d.DeleteFederatedCredential("mi", "N1"); !ok || err != nil {
		t.Errorf("delete = %v, %v", ok, err)
	}
	if ok, err := d.DeleteFederatedCredential("mi", "n1"); ok || err != nil {
		t.Errorf("second delete = %v, %v", ok, err)
	}
	if _, err := d.PutFederatedCredential("ghost", fc); err == nil {
		t.Error("an unknown principal must be refused")
	}
	if n := len(d.ManagedIdentities()[0].FederatedCredentials); n != MaxFederatedCredentials-1 {
		t.Errorf("%d credentials left", n)
	}
}

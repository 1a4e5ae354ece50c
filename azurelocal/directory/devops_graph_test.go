package directory

import (
	"strings"
	"testing"
)

// TestDevOpsRuntimeMembers: administrators are members; members and group memberships added at
// run time are seen at once, and adding twice changes nothing.
func TestDevOpsRuntimeMembers(t *testing.T) {
	d, err := Parse([]byte(strings.Replace(withOrg(t), "      members: [bob@contoso.onmicrosoft.com]\n",
		"      members: [bob@contoso.onmicrosoft.com]\n      administrators: [alice@contoso.onmicrosoft.com]\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !d.DevOpsAdministrator("CONTOSO", strings.ToUpper(aliceID)) || d.DevOpsAdministrator("contoso", bobID) {
		t.Error("alice alone administers contoso")
	}
	if got := d.DevOpsProjects("contoso"); len(got) != 1 || got[0] != "My Project" {
		t.Errorf("DevOpsProjects = %v", got)
	}
	app, _ := d.Principal("app")
	if !d.DevOpsInGroup("contoso", "my project", DevOpsContributors, app.PrincipalID) || d.DevOpsInGroup("contoso", "my project", DevOpsReaders, app.PrincipalID) {
		t.Error("app is a Contributor, not a Reader")
	}
	if m, ok := d.DevOpsSubject("app"); !ok || m.ObjectID != app.PrincipalID || m.Kind != KindApplication {
		t.Errorf("DevOpsSubject = %+v, %v", m, ok)
	}

	// bob, a member without a group, becomes a Reader.
	for i, want := range []bool{true, false} {
		added, err := d.AddDevOpsGroupMember("contoso", "MY PROJECT", DevOpsReaders, bobID)
		if err != nil || added != want {
			t.Fatalf("AddDevOpsGroupMember #%d = %v, %v", i, added, err)
		}
	}
	if g := d.DevOpsGroup("contoso", "My Project", bobID); g != DevOpsReaders {
		t.Errorf("bob's group is %q", g)
	}
	// alice's administrators entry made her a member; adding her again changes nothing.
	if added, err := d.AddDevOpsMember("contoso", aliceID); err != nil || added {
		t.Errorf("AddDevOpsMember(alice) = %v, %v", added, err)
	}
	// Someone the directory does not know is refused.
	if _, err := d.AddDevOpsGroupMember("contoso", "My Project", DevOpsReaders, "nobody"); err == nil || !strings.Contains(err.Error(), "'nobody' is neither a user nor") {
		t.Errorf("an unknown member: %v", err)
	}
	for _, tt := range []struct {
		org, project string
		group        DevOpsGroup
		want         string
	}{
		{"nope", "My Project", DevOpsReaders, "no DevOps organization 'nope'"},
		{"contoso", "nope", DevOpsReaders, "has no project 'nope'"},
		{"contoso", "My Project", "Project Administrators", "is not a project group"},
	} {
		if _, err := d.AddDevOpsGroupMember(tt.org, tt.project, tt.group, bobID); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt, err, tt.want)
		}
	}
	spec := d.Spec()
	if p := spec.Resources.DevOpsOrganizations[0].Projects[0]; len(p.Readers) != 2 || !strings.EqualFold(p.Readers[1], bobID) {
		t.Errorf("the spec's readers: %v", p.Readers)
	}
	// Administrators are validated like members.
	_, err = Parse([]byte(strings.Replace(withOrg(t), "      members: [bob@contoso.onmicrosoft.com]\n",
		"      members: [bob@contoso.onmicrosoft.com]\n      administrators: [nobody]\n", 1)))
	if err == nil || !strings.Contains(err.Error(), "administrators[0]: 'nobody' is neither a user nor") {
		t.Errorf("an unknown administrator: %v", err)
	}
}

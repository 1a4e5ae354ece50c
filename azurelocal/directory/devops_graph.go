package directory

import (
	"fmt"
	"slices"
	"strings"
)

// DevOpsAdministrator reports whether the member with the object ID is a Project Collection
// Administrator of org: one who may add members to the organization and to project groups.
func (d *Directory) DevOpsAdministrator(org, objectID string) bool {
	oi, ok := d.snapshot().devops.orgs[strings.ToLower(org)]
	return ok && oi.admins[strings.ToLower(objectID)]
}

// DevOpsProjects returns the names of org's projects as declared, in file order.
func (d *Directory) DevOpsProjects(org string) []string {
	var out []string
	for _, o := range d.snapshot().spec.Resources.DevOpsOrganizations {
		if strings.EqualFold(o.Name, org) {
			for _, p := range o.Projects {
				out = append(out, p.Name)
			}
		}
	}
	return out
}

// DevOpsInGroup reports whether the member with the object ID is listed in the project group
// itself (a Contributor is not thereby a member of Readers).
func (d *Directory) DevOpsInGroup(org, project string, group DevOpsGroup, objectID string) bool {
	oi, ok := d.snapshot().devops.orgs[strings.ToLower(org)]
	if !ok {
		return false
	}
	pi, ok := oi.projects[strings.ToLower(project)]
	if !ok {
		return false
	}
	id := strings.ToLower(objectID)
	switch group {
	case DevOpsReaders:
		return pi.readers[id]
	case DevOpsContributors:
		return pi.contributors[id]
	}
	return false
}

// AddDevOpsMember adds a user, application or managed identity (by name, object ID or client ID)
// to org's members, as a service principal entitlement does; it reports false when they belong
// to the organization already. Requests that follow see the change at once.
func (d *Directory) AddDevOpsMember(org, ref string) (added bool, err error) {
	err = d.update(func(s *Spec, st *state) error {
		o, oi, err := findOrg(s, st, org)
		if err != nil {
			return err
		}
		m, ok := st.member(ref)
		if !ok {
			return fmt.Errorf("'%s' is neither a user nor an application or managed identity of this directory", ref)
		}
		if _, member := oi.members[m.ObjectID]; member {
			return nil
		}
		o.Members = append(o.Members, m.ObjectID)
		added = true
		return nil
	})
	return added, err
}

// AddDevOpsGroupMember adds someone (by name, object ID or client ID) to a project group,
// Readers or Contributors, which makes them a member of the organization too; it reports false
// when they are in the group already. Requests that follow see the change at once.
func (d *Directory) AddDevOpsGroupMember(org, project string, group DevOpsGroup, ref string) (added bool, err error) {
	err = d.update(func(s *Spec, st *state) error {
		o, oi, err := findOrg(s, st, org)
		if err != nil {
			return err
		}
		m, ok := st.member(ref)
		if !ok {
			return fmt.Errorf("'%s' is neither a user nor an application or managed identity of this directory", ref)
		}
		pi, ok := oi.projects[strings.ToLower(project)]
		if !ok {
			return fmt.Errorf("organization '%s' has no project '%s'", org, project)
		}
		i := slices.IndexFunc(o.Projects, func(p DevOpsProject) bool { return strings.EqualFold(p.Name, project) })
		p := &o.Projects[i]
		switch group {
		case DevOpsReaders:
			if !pi.readers[m.ObjectID] {
				p.Readers, added = append(p.Readers, m.ObjectID), true
			}
		case DevOpsContributors:
			if !pi.contributors[m.ObjectID] {
				p.Contributors, added = append(p.Contributors, m.ObjectID), true
			}
		default:
			return fmt.Errorf("group '%s' is not a project group: use %s or %s", group, DevOpsReaders, DevOpsContributors)
		}
		return nil
	})
	return added, err
}

// findOrg finds an organization in the spec being changed, with its index in the state before.
func findOrg(s *Spec, st *state, org string) (*DevOpsOrganization, *orgIndex, error) {
	oi, ok := st.devops.orgs[strings.ToLower(org)]
	if !ok {
		return nil, nil, fmt.Errorf("no DevOps organization '%s' is declared in resources.devopsOrganizations", org)
	}
	for i := range s.Resources.DevOpsOrganizations {
		if strings.EqualFold(s.Resources.DevOpsOrganizations[i].Name, org) {
			return &s.Resources.DevOpsOrganizations[i], oi, nil
		}
	}
	return nil, nil, fmt.Errorf("no DevOps organization '%s' is declared in resources.devopsOrganizations", org)
}

// DevOpsSubject resolves a user's or principal's name, object ID or client ID, whether or not
// any organization knows them.
func (d *Directory) DevOpsSubject(ref string) (DevOpsMember, bool) {
	return d.snapshot().member(ref)
}

package setup

import (
	"fmt"
	"strings"
)

// Render writes the plan in format: the federated credentials, then the grants, each as
// Identity and Grant write it, with the objects that need it. Scopes whose resource group is
// unknown are looked up (az show, Terraform's azurerm_resources); ASO needs them all known.
func (p *Plan) Render(format Format) (string, error) {
	var parts []string
	for _, f := range p.Federations {
		out, err := Identity(f.Federation, format)
		if err != nil {
			return "", err
		}
		parts = append(parts, neededBy(f.Objects)+out)
	}
	var aside []string
	for i, g := range p.Grants {
		if g.Integration == "devops" && format == ASO {
			aside = append(aside, fmt.Sprintf("%s: ASO does not manage Azure DevOps; run the az or Terraform plan for it (--format az): %s joins %s of %s/%s",
				strings.Join(g.Objects, ", "), g.principalName(), g.Group, g.Organization, g.Project))
			continue
		}
		out, err := p.renderGrant(g, i, format)
		if err != nil {
			return "", err
		}
		by := neededBy(g.Objects)
		if g.Controller {
			by = comment("Needed by " + strings.Join(g.Objects, ", ") + ", acting as the controller's own identity.")
		}
		parts = append(parts, by+out)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# azimuth setup plan: %d federated credential(s), %d grant(s).\n", len(p.Federations), len(p.Grants))
	for _, n := range append(append([]string(nil), p.Notes...), aside...) {
		b.WriteString(comment("Note: " + n))
	}
	switch format {
	case Terraform:
		body, err := joinTerraform(parts)
		if err != nil {
			return "", err
		}
		b.WriteString("\n" + body)
	case ASO:
		for _, part := range parts {
			b.WriteString("---\n" + part)
		}
	default:
		for _, part := range parts {
			b.WriteString("\n" + part)
		}
	}
	return b.String(), nil
}

func neededBy(objects []string) string {
	return comment("Needed by " + strings.Join(objects, ", ") + ".")
}

// comment writes s as # lines, one per line of s.
func comment(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString("# " + line + "\n")
	}
	return b.String()
}

// lookupSentinel stands for a scope to look up while Grant writes the grant; renderGrant
// replaces it. It is a valid scope that no real one equals.
func lookupSentinel(i int) string {
	return fmt.Sprintf("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/azimuth-plan-lookup-%d", i)
}

// renderGrant writes one grant: Grant's text with its own Terraform or ASO name (a plan holds
// several grants of one identity and integration), and the scope looked up when unknown.
func (p *Plan) renderGrant(g PlanGrant, i int, format Format) (string, error) {
	lookup := g.Integration != "devops" && g.Scope == ""
	if lookup {
		if format == ASO {
			return "", fmt.Errorf("ASO resources name their scope by ARM ID, and the resource group of %s is unknown: give --subscription and --resource-group (and --resource-group-of NAME=GROUP for resources elsewhere), or use --format az or terraform, which look it up", g.Resource)
		}
		g.Scope = lookupSentinel(i)
	}
	out, err := Grant(g.GrantSpec, format)
	if err != nil {
		return "", err
	}
	name := nameOf(g.principalName(), g.Integration, g.Resource.Name, g.Resource.Child)
	switch {
	case format == Terraform && g.Integration != "devops":
		old := hclName(g.principalName(), g.Integration)
		out = strings.Replace(out, `resource "azurerm_role_assignment" `+hclString(old), `resource "azurerm_role_assignment" `+hclString(name), 1)
	case format == ASO:
		old := strings.ReplaceAll(hclName(g.principalName(), g.Integration), "_", "-")
		out = strings.Replace(out, "\n  name: "+old+"\n", "\n  name: "+strings.ReplaceAll(name, "_", "-")+"\n", 1)
	}
	if !lookup {
		return out, nil
	}
	sentinel, r := lookupSentinel(i), g.Resource
	data := nameOf(string(r.Kind), r.Name)
	switch format {
	case AZ:
		v := "SCOPE_" + strings.ToUpper(nameOf(string(r.Kind), r.Name, r.Child))
		out = strings.Replace(out, "--scope "+sentinel, `--scope "$`+v+`"`, 1)
		out = fmt.Sprintf("%s=\"$(%s)%s\"\n", v, azShowID(r), r.childPath()) + out
	case Terraform:
		expr := "data.azurerm_resources." + data + ".resources[0].id"
		if r.Child != "" {
			expr = `"${` + expr + `}` + r.childPath() + `"`
		}
		out = strings.Replace(out, hclString(sentinel), expr, 1)
		out = fmt.Sprintf("data \"azurerm_resources\" %s {\n  type = %s\n  name = %s\n}\n\n", hclString(data), hclString(r.armType()), hclString(r.Name)) + out
	}
	return strings.ReplaceAll(out, sentinel, r.String()), nil
}

// azShowID is the az command that prints the resource's ID.
func azShowID(r Resource) string {
	switch r.Kind {
	case Registry:
		return "az acr show --name " + shellQuote(r.Name) + " --query id --output tsv"
	case StorageAccount:
		return "az storage account show --name " + shellQuote(r.Name) + " --query id --output tsv"
	case Vault:
		return "az keyvault show --name " + shellQuote(r.Name) + " --query id --output tsv"
	}
	return "az resource list --name " + shellQuote(r.Name) + " --resource-type " + r.armType() + " --query '[0].id' --output tsv"
}

// joinTerraform concatenates Terraform texts, keeping one of each block that several write
// (the same data source, provider or entitlement) and the comments of a dropped one for the
// next block. Two different blocks of one name are an error.
func joinTerraform(parts []string) (string, error) {
	seen := map[string]string{}
	var b strings.Builder
	for _, part := range parts {
		var pending []string
		lines := strings.Split(strings.TrimRight(part, "\n"), "\n")
		for i := 0; i < len(lines); i++ {
			line := lines[i]
			switch {
			case strings.HasPrefix(line, "#"):
				pending = append(pending, line)
				continue
			case strings.TrimSpace(line) == "":
				continue
			}
			end := i
			for end < len(lines) && lines[end] != "}" {
				end++
			}
			block := strings.Join(lines[i:min(end+1, len(lines))], "\n") + "\n"
			i = end
			if prev, ok := seen[line]; ok {
				// The comments of the block written before are not repeated.
				var carried []string
				for _, c := range pending {
					if !strings.Contains(b.String(), c+"\n") {
						carried = append(carried, c)
					}
				}
				pending = carried
				switch {
				case prev == block:
				case strings.HasPrefix(line, "provider "):
					// A second Azure DevOps organization: Terraform needs an alias per organization.
					b.WriteString("# Another organization needs its own provider, with an alias that its resources name:\n" + comment(strings.TrimSuffix(block, "\n")) + "\n")
				default:
					return "", fmt.Errorf("two different Terraform blocks named %s", strings.TrimSuffix(line, " {"))
				}
				continue
			}
			seen[line] = block
			for _, c := range pending {
				b.WriteString(c + "\n")
			}
			pending = nil
			b.WriteString(block + "\n")
		}
	}
	return b.String(), nil
}

// nameOf is hclName of the parts that are not empty.
func nameOf(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return hclName(kept...)
}

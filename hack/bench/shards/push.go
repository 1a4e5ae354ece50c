package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/devenv"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	pushApplication = "flux-secret-app" // has AcrPush in the built-in directory
	artifactRepo    = "bench/manifests"
	artifactTag     = "1.0.0"
)

// pushArtifact pushes the artifact every OCIRepository pulls, one ConfigMap as `flux push
// artifact` packs it, as a CI pipeline would (an application with a client secret), and
// returns the registry's host.
func pushArtifact(ctx context.Context, az *azurelocal.Azure) (string, error) {
	d := az.Directory()
	regs := d.Resources(directory.KindRegistry)
	if len(regs) == 0 {
		return "", errors.New("the directory has no container registry")
	}
	host := regs[0].Name + ".azurecr.io"
	tenant, app, err := pushApp(d)
	if err != nil {
		return "", err
	}
	rules, err := transport.ParseConnectToList(strings.Join(az.ConnectTo(), "\n"))
	if err != nil {
		return "", err
	}
	e := &devenv.Env{Azure: az, Transport: transport.Options{ConnectTo: rules, RootCAs: az.CAPool()}}
	p, err := e.Pusher(ctx, tenant, app.ClientID, app.ClientSecrets[0].Value)
	if err != nil {
		return "", err
	}
	img, err := devenv.Artifact(map[string]string{
		"app/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench\ndata:\n  key: value\n",
	}, nil)
	if err != nil {
		return "", err
	}
	ref := host + "/" + artifactRepo + ":" + artifactTag
	if err := p.Push(ref, img); err != nil {
		return "", err
	}
	logf("pushed %s", ref)
	return host, nil
}

func pushApp(d *directory.Directory) (string, directory.Application, error) {
	spec := d.Spec()
	for _, app := range spec.Applications {
		if strings.EqualFold(app.Name, pushApplication) && len(app.ClientSecrets) > 0 {
			tenant := app.Tenant
			if tenant == "" && len(spec.Tenants) == 1 {
				tenant = spec.Tenants[0].ID
			}
			return tenant, app, nil
		}
	}
	return "", directory.Application{}, fmt.Errorf("the directory has no application %s with a client secret", pushApplication)
}
